// Optimizers over the flat parameter buffer, with PyTorch's exact semantics (torch.optim 1.13,
// single-tensor path): SGD (momentum, dampening, Nesterov, coupled L2 weight decay), Adam
// (coupled L2 weight decay: g += wd * p) and AdamW (decoupled: p *= 1 - lr * wd before the Adam
// update). Bias correction and eps placement as PyTorch:
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
// tests/oracle checks every optimizer against PyTorch.
//
// A training update (update(), or prepare() then apply()) is, in order: OrthoGrad on the raw
// gradient (optim.orthogonal: per parameter tensor w, g <- g - (g.w / w.w) w, rescaled to the
// original ||g||, as Prieto et al.'s orthograd.py), Grokfast's filter (optim.grad_filter,
// grad_filter.h), clipping (optim.clip_norm), the update rule,
// then Omnigrok's constraint (optim.weight_norm = X > 0: every parameter scaled by
// X / ||params||, so the total L2 norm of all parameters is X after every update).
//
// One optimizer for every device: each part of the update is a kernel (cuda/kernels.h: GradEma,
// GradWindowStore/Mean, ClipScale, SgdUpdate, AdamUpdate, NormScale) launched on the device the
// optimizer was made for: the cpu backend (threads over fixed partitions of the buffer), a GPU or
// the emulated device. The state (moments, momentum, the filter's buffers) lives on that device.
// The per-step numbers (learning rate, bias corrections, the step count the filter reads) are
// written by prepare() into page-locked host memory and read by apply()'s first kernel into a
// small buffer there, so that a captured apply() replays correctly every step. On the cpu, float
// Adam(W) runs eight lanes at a time (AVX), the same IEEE operations as the kernel (a unit test
// compares them).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/cuda/device.h"
#include "gradscope/optim/grad_filter.h"

namespace gradscope {

// optim.name's values, in the schema's order.
enum class OptimRule { sgd, adam, adamw };
// The parameter tensors' places in the flat buffer: (first element, elements) each.
using TensorSpans = std::vector<std::pair<int64_t, int64_t>>;

// The optim.* keys of the update rule (config/options.h: defaults, valid values and help in
// config/schema.cpp).
struct OptimizerConfig {
  OptimRule name = option<OptimRule>("optim.name");
  double lr = option<double>("optim.lr");  // base learning rate (the schedule scales it)
  double weight_decay = option<double>("optim.weight_decay");
  double beta1 = option<double>("optim.beta1");  // adam, adamw
  double beta2 = option<double>("optim.beta2");
  double eps = option<double>("optim.eps");
  double momentum = option<double>("optim.momentum");  // sgd
  double dampening = option<double>("optim.dampening");
  bool nesterov = option<bool>("optim.nesterov");
  double clip_norm = option<double>("optim.clip_norm");      // gradient-norm clipping (0: off)
  double weight_norm = option<double>("optim.weight_norm");  // total norm kept (0: off)
  bool orthogonal = option<bool>("optim.orthogonal");        // OrthoGrad per parameter tensor
  GradFilterConfig filter;                                   // optim.grad_filter and optim.filter_*

  // Throws std::invalid_argument on keys that do not fit together (optim.nesterov); each key's
  // range is the schema's (config/schema.cpp), checked when a value is set.
  void validate() const;
  bool operator==(const OptimizerConfig&) const = default;
};
OptimizerConfig optimizer_options(const Config& config);

template <class T>
class Optimizer {
 public:
  // An optimizer of n parameters whose state lives on `device` (which outlives it); `tensors`
  // are the parameter tensors OrthoGrad treats one by one (needed with optim.orthogonal).
  Optimizer(const OptimizerConfig& config, int64_t n, DeviceContext& device,
            TensorSpans tensors = {});
  ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One training update of params[0, n) from the raw gradient grads[0, n) (filtered and clipped
  // in place) at learning rate lr (the scheduled value): prepare(lr), then apply().
  void update(std::span<T> params, std::span<T> grads, double lr);
  // The update rule alone (no filter, clipping or norm): one step of params given grads.
  void step(std::span<T> params, std::span<const T> grads, double lr);
  // The numbers of the next update at learning rate lr; counts the step. Outside any capture,
  // and not again before something has waited for the device (off the cpu the update reads them
  // from page-locked host memory when it runs).
  void prepare(double lr);
  // The prepared update of params [n] from grads [n], in the device's memory: device work only,
  // capture-safe.
  void apply(T* params, T* grads);

  // Buffers that a checkpoint must save to resume exactly, in host memory: the rule's (e.g.
  // "exp_avg", "exp_avg_sq"), then the gradient filter's ("grad_ema" or "grad_window").
  std::vector<std::pair<std::string, std::span<T>>> state();
  // Off the cpu: the device's state into the host buffers (waits) and back. No-ops on the cpu.
  void download_state();
  void upload_state();
  // Adam's second moments v [n] in host memory (downloaded from the device first); empty for SGD.
  std::span<const T> second_moments();
  // Number of steps taken (Adam's bias-correction t; the gradients the filter has seen); part of
  // the state.
  int64_t steps() const { return steps_; }
  void set_steps(int64_t s) { steps_ = s; }

 private:
  struct Buffer {
    std::string name;
    std::vector<T> host;  // the checkpoint's copy (on the cpu: the buffer itself)
    T* data = nullptr;    // on the device
  };
  T* add_buffer(const std::string& name, int64_t size);
  void read_numbers();  // off the cpu: host_k_ into k_, a kernel of the update
  void orthogonalize(const T* params, T* grads);
  void filter(T* grads);
  void rule(T* params, const T* grads);
  void constrain_norm(T* params);

  OptimizerConfig c_;
  int64_t n_;
  TensorSpans tensors_;
  DeviceContext& dev_;
  bool host_;  // on the cpu backend: the state is the host buffers, float Adam runs its AVX form
  int64_t steps_ = 0;
  std::vector<Buffer> buffers_;  // the rule's state, then the filter's
  // Their device memory (nullptr where the configuration has none): [n] each, the ring [window, n].
  T *momentum_ = nullptr, *m_ = nullptr, *v_ = nullptr, *ema_ = nullptr, *ring_ = nullptr;
  double* k_ = nullptr;       // [4] device: the step's numbers (kernels.h, "optimizer")
  double* host_k_ = nullptr;  // [4] page-locked host memory
  // device: norms' squares, tree levels, two totals, then OrthoGrad's 4 sums per tensor
  double* scratch_ = nullptr;
};

// An optimizer for a flat buffer of n elements on `device` (the cpu backend when omitted), whose
// parameter tensors lie at `tensors` (needed with optim.orthogonal).
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerConfig& config, int64_t n,
                                             DeviceContext& device = cpu_context(),
                                             TensorSpans tensors = {});

}  // namespace gradscope
