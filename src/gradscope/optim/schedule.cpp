// Learning-rate schedules and gradient clipping: see schedule.h.
#include "gradscope/optim/schedule.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "gradscope/tensor/threads.h"

namespace gradscope {

void ScheduleConfig::validate() const {
  if (warmup_steps < 0)
    throw std::invalid_argument("optim.warmup_steps = " + std::to_string(warmup_steps) +
                                " (valid: >= 0)");
  if (decay != "constant" && decay != "cosine" && decay != "linear")
    throw std::invalid_argument("optim.decay = \"" + decay +
                                "\" (valid: constant, cosine, linear)");
  if (decay != "constant" && total_steps <= warmup_steps)
    throw std::invalid_argument("optim.decay = \"" + decay + "\" needs train.steps (" +
                                std::to_string(total_steps) + ") > optim.warmup_steps (" +
                                std::to_string(warmup_steps) + ")");
  if (!(min_lr_ratio >= 0 && min_lr_ratio <= 1))
    throw std::invalid_argument("optim.min_lr_ratio = " + std::to_string(min_lr_ratio) +
                                " (valid: [0, 1])");
}

double scheduled_lr(double base_lr, const ScheduleConfig& s, int64_t step) {
  double factor = 1.0;
  if (s.warmup_steps > 0)
    factor = std::min(static_cast<double>(step) / static_cast<double>(s.warmup_steps), 1.0);
  if (s.decay != "constant" && step >= s.warmup_steps) {
    const double progress = std::clamp(static_cast<double>(step - s.warmup_steps) /
                                           static_cast<double>(s.total_steps - s.warmup_steps),
                                       0.0, 1.0);
    const double fall =
        s.decay == "cosine" ? 0.5 * (1.0 + std::cos(std::numbers::pi * progress)) : 1.0 - progress;
    factor *= s.min_lr_ratio + (1.0 - s.min_lr_ratio) * fall;
  }
  return base_lr * factor;
}

template <class T>
double l2_norm(std::span<const T> x) {
  // At most 256 chunks whose size depends only on n: no allocation, same bits for any threads.
  constexpr int64_t kMaxChunks = 256;
  const int64_t n = static_cast<int64_t>(x.size());
  const int64_t chunk = std::max<int64_t>(1 << 14, (n + kMaxChunks - 1) / kMaxChunks);
  const int64_t chunks = (n + chunk - 1) / chunk;
  std::array<double, kMaxChunks> part{};
  parallel_for(chunks, 2, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double s = 0;
      for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) s += double(x[i]) * x[i];
      part[c] = s;
    }
  });
  double total = 0;
  for (int64_t c = 0; c < chunks; ++c) total += part[c];
  return std::sqrt(total);
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
