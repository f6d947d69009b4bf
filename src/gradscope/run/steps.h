// The training step of every run, on the run's device (cuda/device.h: the cpu, a GPU or the
// emulated device): the update of the previous step (filter, clipping, rule, norm:
// optim/optimizer.h), then the gradient at this step (zero the gradients, forward, loss,
// backward). update() only prepares the update's numbers; the next gradient() applies it, so the
// log row and checkpoint of a step, which come between, see the step's gradient and parameters.
//
// How a step executes is the backend's business. On the cpu it runs at once on the host copies
// of the parameters. On a device with graphs (cuda, emulated) each kind of step (with or without
// an update before it; each batch size: train.batch_order = "epoch" ends an epoch with a smaller
// batch) runs eagerly once (the arena grows to its size, cuBLAS warms up), is captured the second
// time and replayed from then on: no host work per step beyond uploading the step's batch (for
// minibatches and fresh samples), writing the update's numbers and waiting for the step (the
// graph reads the numbers from, and writes its loss to, page-locked host memory). The graphs read
// fixed addresses: the tape's arena after its first step, the batch buffers, the parameters; a
// reset that merges the arena's blocks (a larger step grew it) moves the activations, and the
// graphs are captured again. On a device, evaluation uses a tape of its own there, and measures
// that read the model on the host (after download) a host tape; on the cpu both are the training
// tape.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>

#include "gradscope/run/device_data.h"
#include "gradscope/run/experiment.h"

namespace gradscope {

template <class T>
class Steps {
 public:
  explicit Steps(Experiment<T>& x, int64_t batch_size);
  ~Steps();
  Steps(const Steps&) = delete;
  Steps& operator=(const Steps&) = delete;

  // The gradient at the batch (host examples, uploaded to a device; or the whole train split
  // when full_batch) and its loss: queue_gradient() then loss().
  double gradient(const Examples& host, bool full_batch) {
    queue_gradient(host, full_batch);
    return loss();
  }
  // The gradient's work queued on the device (on the cpu: done), without waiting for it; a
  // replica group's members queue theirs, then the group's one step runs (cuda/replica_device.h).
  void queue_gradient(const Examples& host, bool full_batch);
  double loss();           // of the gradient queued last (waits for the device)
  double grad_norm();      // of the current gradient
  void update(double lr);  // the update at learning rate lr, applied by the next gradient()
  Tape<T>& eval_tape() { return captures_ ? eval_tape_ : train_tape_; }
  Tape<T>& host_tape() { return captures_ ? host_tape_ : train_tape_; }

 private:
  struct Graph {
    int id = -1;        // once captured
    int64_t calls = 0;  // the first runs eagerly, the second is captured
  };
  // The step's work; returns where the loss lands (off the cpu the step also writes it to
  // loss_host_).
  const T* record_step(const Examples& e, bool with_update);
  T* values();  // the parameters and gradients the step trains: the device's copies, or the host's
  T* grads();

  Experiment<T>& x_;
  DeviceContext& dev_;
  bool captures_;  // the backend captures and replays steps
  Arena train_arena_, eval_arena_, host_arena_;
  Tape<T> train_tape_, eval_tape_, host_tape_;
  std::optional<DeviceBatch<T>> batch_;  // off the cpu
  DeviceBuffer<double> norm_scratch_;
  // By (update before the gradient, batch size): the gradient alone is a run's first step.
  std::map<std::pair<bool, int64_t>, Graph> graphs_;
  bool update_pending_ = false;
  T* loss_host_ = nullptr;          // page-locked: off the cpu the step writes its loss here
  const T* queued_loss_ = nullptr;  // the queued gradient's loss on the cpu
};

}  // namespace gradscope
