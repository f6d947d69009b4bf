// Learning-rate schedules and gradient clipping: see schedule.h.
#include "gradscope/optim/schedule.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "gradscope/cuda/reductions.h"

namespace gradscope {

void ScheduleConfig::validate() const {  // each key's range is the schema's
  if (decay != Decay::constant && total_steps <= warmup_steps)
    throw std::invalid_argument("optim.decay = \"" + option_name("optim.decay", decay) +
                                "\" needs train.steps (" + std::to_string(total_steps) +
                                ") > optim.warmup_steps (" + std::to_string(warmup_steps) + ")");
}

double scheduled_lr(double base_lr, const ScheduleConfig& s, int64_t step) {
  double factor = 1.0;
  if (s.warmup_steps > 0)
    factor = std::min(static_cast<double>(step) / static_cast<double>(s.warmup_steps), 1.0);
  if (s.decay != Decay::constant && step >= s.warmup_steps) {
    const double progress = std::clamp(static_cast<double>(step - s.warmup_steps) /
                                           static_cast<double>(s.total_steps - s.warmup_steps),
                                       0.0, 1.0);
    const double fall = s.decay == Decay::cosine
                            ? 0.5 * (1.0 + std::cos(std::numbers::pi * progress))
                            : 1.0 - progress;
    factor *= s.min_lr_ratio + (1.0 - s.min_lr_ratio) * fall;
  }
  return base_lr * factor;
}

template <class T>
double l2_norm(std::span<const T> x) {
  return std::sqrt(host_square_sum(x.data(), static_cast<int64_t>(x.size())));
}

template <class T>
double clip_grad_norm(std::span<T> grads, double max_norm) {
  const double norm = l2_norm<T>(grads);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    const T c = static_cast<T>(coef);
    for (T& g : grads) g *= c;
  }
  return norm;
}

template double l2_norm<float>(std::span<const float>);
template double l2_norm<double>(std::span<const double>);
template double clip_grad_norm<float>(std::span<float>, double);
template double clip_grad_norm<double>(std::span<double>, double);

}  // namespace gradscope
