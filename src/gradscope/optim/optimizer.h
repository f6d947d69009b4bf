// Optimizers over the flat parameter buffer, with PyTorch's exact semantics (torch.optim 1.13,
// single-tensor path): SGD (momentum, dampening, Nesterov, coupled L2 weight decay), Adam
// (coupled L2 weight decay: g += wd * p) and AdamW (decoupled: p *= 1 - lr * wd before the Adam
// update). Bias correction and eps placement as PyTorch:
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
// Each step is one pass over the buffer. tests/oracle checks every optimizer against PyTorch.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/config/config.h"

namespace gradscope {

// The optim.* keys of the update rule (defaults: the schema's, config/schema.cpp).
struct OptimizerConfig {
  std::string name = "adamw";  // sgd | adam | adamw
  double lr = 1e-3;            // base learning rate (the schedule scales it)
  double weight_decay = 1.0;
  double beta1 = 0.9, beta2 = 0.98, eps = 1e-8;  // adam, adamw
  double momentum = 0.0, dampening = 0.0;
  bool nesterov = false;   // sgd
  double clip_norm = 0.0;  // gradient-norm clipping before the update (0: off; schedule.h)

  // Throws std::invalid_argument naming the offending key ("optim.beta1 = 1.5 ...").
  void validate() const;
  bool operator==(const OptimizerConfig&) const = default;
};
OptimizerConfig optimizer_options(const Config& config);

template <class T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of params[0, n) given grads[0, n) at learning rate lr (the scheduled value).
  virtual void step(std::span<T> params, std::span<const T> grads, double lr) = 0;
  // Buffers that a checkpoint must save to resume exactly (e.g. "exp_avg", "exp_avg_sq").
  virtual std::vector<std::pair<std::string, std::span<T>>> state() = 0;
  // Number of steps taken (Adam's bias-correction t); part of the state.
  int64_t steps() const { return steps_; }
  void set_steps(int64_t s) { steps_ = s; }

 protected:
  int64_t steps_ = 0;
};

// An optimizer for a flat buffer of n elements.
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerConfig& config, int64_t n);

}  // namespace gradscope
