// The optimizers on a device (cuda/device.h): the update of a host Optimizer (optimizer.h) run
// as a device kernel over the parameters' device copies, with the state (moments, momentum
// buffer) in device memory. The per-step numbers (learning rate, bias corrections) live in a
// small device buffer that prepare() writes before each step, so a captured graph of update()
// replays correctly every step. The host optimizer keeps the step count and, after
// download_state(), the state a checkpoint saves; upload_state() after a checkpoint was loaded.
// Gradient clipping and norms run on the device too, summed in a fixed order (deterministic).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "gradscope/cuda/device.h"
#include "gradscope/optim/optimizer.h"

namespace gradscope {

template <class T>
class DeviceOptimizer {
 public:
  // `host` and `device` outlive this; n = the parameters' flat size.
  DeviceOptimizer(Optimizer<T>& host, const OptimizerConfig& config, int64_t n,
                  DeviceContext* device);
  ~DeviceOptimizer();
  DeviceOptimizer(const DeviceOptimizer&) = delete;
  DeviceOptimizer& operator=(const DeviceOptimizer&) = delete;

  // The numbers of the next update at learning rate lr (queues their upload; counts the step on
  // the host optimizer). Call before update() runs, outside any capture, and not again before
  // something has waited for the device (the upload reads page-locked host memory in order).
  void prepare(double lr);
  // Clips (when clip_norm > 0) and applies the update to params [n] from grads [n]: device work
  // only, capture-safe.
  void update(T* params, T* grads);
  void upload_state();    // host state -> device (after a checkpoint was loaded)
  void download_state();  // device state -> host (before a checkpoint is saved; waits)

 private:
  Optimizer<T>& host_;
  OptimizerConfig c_;
  int64_t n_;
  DeviceContext* dev_;
  std::vector<T*> state_;           // device copies of host_.state(), in its order
  double* scalars_ = nullptr;       // [4] device: the step's numbers
  double* scratch_ = nullptr;       // [n + chunks + 1] device: clipping's squares and sums
  double* host_scalars_ = nullptr;  // [4] page-locked host memory
};

// ||x||_2 of device data [n], summed in double in a fixed order (waits for the device).
// `scratch` holds at least device_norm_scratch(n) doubles of device memory.
template <class T>
double device_l2_norm(DeviceContext& device, const T* x, int64_t n, double* scratch);
int64_t device_norm_scratch(int64_t n);

}  // namespace gradscope
