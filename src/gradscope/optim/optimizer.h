// Optimizers over the flat parameter buffer, with PyTorch's exact semantics (torch.optim 1.13,
// single-tensor path): SGD (momentum, dampening, Nesterov, coupled L2 weight decay), Adam
// (coupled L2 weight decay: g += wd * p) and AdamW (decoupled: p *= 1 - lr * wd before the Adam
// update). Bias correction and eps placement as PyTorch:
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
// Each step is one pass over the buffer. tests/oracle checks every optimizer against PyTorch.
//
// A training update (update()) is, in order: Grokfast's filter on the raw gradient
// (optim.grad_filter, grad_filter.h), clipping (optim.clip_norm), the update rule (step()), then
// Omnigrok's constraint (optim.weight_norm = X > 0: every parameter scaled by X / ||params||, so
// the total L2 norm of all parameters is X after every update).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/optim/grad_filter.h"

namespace gradscope {

// The optim.* keys of the update rule (defaults: the schema's, config/schema.cpp).
struct OptimizerConfig {
  std::string name = "adamw";  // sgd | adam | adamw
  double lr = 1e-3;            // base learning rate (the schedule scales it)
  double weight_decay = 1.0;
  double beta1 = 0.9, beta2 = 0.98, eps = 1e-8;  // adam, adamw
  double momentum = 0.0, dampening = 0.0;
  bool nesterov = false;     // sgd
  double clip_norm = 0.0;    // gradient-norm clipping before the update (0: off; schedule.h)
  double weight_norm = 0.0;  // total parameter norm kept after every update (0: off)
  GradFilterConfig filter;   // optim.grad_filter and optim.filter_*

  // Throws std::invalid_argument naming the offending key ("optim.beta1 = 1.5 ...").
  void validate() const;
  bool operator==(const OptimizerConfig&) const = default;
};
OptimizerConfig optimizer_options(const Config& config);

template <class T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One training update of params[0, n) from the raw gradient grads[0, n) (filtered and clipped
  // in place) at learning rate lr (the scheduled value): see the top of this file.
  void update(std::span<T> params, std::span<T> grads, double lr);
  // The update rule alone: one step of params given grads at learning rate lr.
  virtual void step(std::span<T> params, std::span<const T> grads, double lr) = 0;
  // Buffers that a checkpoint must save to resume exactly: the rule's (e.g. "exp_avg",
  // "exp_avg_sq"), then the gradient filter's.
  std::vector<std::pair<std::string, std::span<T>>> state();
  // Number of steps taken (Adam's bias-correction t; the gradients the filter has seen); part of
  // the state.
  int64_t steps() const { return steps_; }
  void set_steps(int64_t s) { steps_ = s; }

 protected:
  Optimizer(const OptimizerConfig& config, int64_t n) : c_(config), filter_(config.filter, n) {}
  virtual std::vector<std::pair<std::string, std::span<T>>> rule_state() = 0;

  OptimizerConfig c_;
  int64_t steps_ = 0;

 private:
  GradFilter<T> filter_;
};

// An optimizer for a flat buffer of n elements.
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerConfig& config, int64_t n);

}  // namespace gradscope
