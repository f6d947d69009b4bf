// Learning-rate schedules and gradient-norm clipping.
//
// lr(step) = base_lr * warmup(step) * decay(step), where step counts the optimizer steps already
// taken (0 for the first update), exactly as PyTorch's LambdaLR with scheduler.step() after each
// optimizer.step():
//   warmup(step) = min(step / warmup_steps, 1)   (so the first update has lr 0 when warming up,
//                                                  as in Nanda et al.'s code)
//   decay(step)  = 1 (constant), or with progress = (step - warmup) / (total - warmup) clamped to
//                  [0, 1]: min_lr_ratio + (1 - min_lr_ratio) * fall, fall = (1 + cos(pi *
//                  progress)) / 2 (cosine) or 1 - progress (linear; with warmup_steps = total / 2
//                  the one-cycle triangle of Raventós et al.)
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"

namespace gradscope {

// The schedule's keys: optim.warmup_steps, optim.decay, optim.min_lr_ratio and train.steps.
// optim.decay's values, in the schema's order.
enum class Decay { constant, cosine, linear };

struct ScheduleConfig {
  int64_t warmup_steps = option<int64_t>("optim.warmup_steps");
  Decay decay = option<Decay>("optim.decay");
  int64_t total_steps = option<int64_t>("train.steps");  // the budget (cosine and linear need it)
  double min_lr_ratio = option<double>("optim.min_lr_ratio");  // decay floor, a share of the lr

  void validate() const;  // throws naming the key
  bool operator==(const ScheduleConfig&) const = default;
};
ScheduleConfig schedule_options(const Config& config);

double scheduled_lr(double base_lr, const ScheduleConfig& schedule, int64_t step);

// PyTorch's clip_grad_norm_: total 2-norm of the gradient (accumulated in double); when above
// max_norm, every gradient is scaled by max_norm / (norm + 1e-6). Returns the norm before clipping.
template <class T>
double clip_grad_norm(std::span<T> grads, double max_norm);

// 2-norm of a buffer, accumulated in double over fixed chunks (thread-count independent).
template <class T>
double l2_norm(std::span<const T> x);

}  // namespace gradscope
