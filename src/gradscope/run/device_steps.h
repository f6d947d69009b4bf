// The training step of a run on a device (cuda/device.h) as one CUDA graph: the update of the
// previous step (clip, optimizer), then the gradient at this step (zero the gradients, forward,
// loss, backward). update() only queues the update's numbers; the next gradient() applies it, so
// the log row and checkpoint of a step, which come between, see the step's gradient and
// parameters as on the host. The first call of a graph runs eagerly (the arena grows to its
// size, cuBLAS warms up), the second is captured and replayed, later ones only replay: no host
// work per step beyond uploading the step's batch (for minibatches and fresh samples) and the
// update's numbers, and reading the loss. The graphs read fixed addresses: the tape's arena after
// its first step, the batch buffers, the parameters.
// Evaluation uses a tape of its own on the device, and measures that read the model on the host
// (after download) a host tape.
#pragma once

#include <cstdint>

#include "gradscope/run/device_data.h"
#include "gradscope/run/experiment.h"

namespace gradscope {

template <class T>
class DeviceSteps {
 public:
  explicit DeviceSteps(Experiment<T>& x, int64_t batch_size);
  ~DeviceSteps();
  DeviceSteps(const DeviceSteps&) = delete;
  DeviceSteps& operator=(const DeviceSteps&) = delete;

  // The gradient at the batch (host examples, uploaded; or the fixed full batch already on the
  // device) and its loss.
  double gradient(const Examples& host, bool full_batch);
  double grad_norm();      // of the current gradient
  void update(double lr);  // the update at learning rate lr, applied by the next gradient()
  Tape<T>& eval_tape() { return eval_tape_; }
  Tape<T>& host_tape() { return host_tape_; }

 private:
  void record_step(const Examples& e, bool with_update);

  Experiment<T>& x_;
  DeviceContext& dev_;
  Arena train_arena_, eval_arena_, host_arena_;
  Tape<T> train_tape_, eval_tape_, host_tape_;
  DeviceBatch<T> batch_;
  DeviceBuffer<double> norm_scratch_;
  // Two graphs: the gradient alone (a run's first step), and update + gradient.
  int graph_[2] = {-1, -1};
  int64_t calls_[2] = {0, 0};
  bool update_pending_ = false;
  const T* loss_ = nullptr;  // the loss on the device: a fixed address once captured
  T* loss_host_ = nullptr;   // page-locked copy of it
};

}  // namespace gradscope
