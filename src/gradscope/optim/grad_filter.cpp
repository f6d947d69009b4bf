// Grokfast's EMA and MA gradient filters: see grad_filter.h.
#include "gradscope/optim/grad_filter.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "gradscope/tensor/threads.h"

namespace gradscope {
namespace {

constexpr int64_t kGrain = 1 << 14;

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& valid) {
  throw std::invalid_argument("optim." + key + " = " + value + " (valid: " + valid + ")");
}

}  // namespace

void GradFilterConfig::validate() const {
  if (kind != "none" && kind != "ema" && kind != "ma")
    bad("grad_filter", "\"" + kind + "\"", "none, ema, ma");
  if (!(alpha >= 0 && alpha < 1)) bad("filter_alpha", fmt::format("{}", alpha), "[0, 1)");
  if (!std::isfinite(lambda)) bad("filter_lambda", fmt::format("{}", lambda), "a finite number");
  if (window < 1) bad("filter_window", fmt::format("{}", window), "an integer >= 1");
}

template <class T>
GradFilter<T>::GradFilter(const GradFilterConfig& config, int64_t n) : c_(config), n_(n) {
  c_.validate();
  if (c_.kind == "ema") buf_.assign(n, T(0));
  if (c_.kind == "ma") {
    buf_.assign(c_.window * n, T(0));
    sum_.assign(n, T(0));
  }
}

template <class T>
void GradFilter<T>::apply(std::span<T> g, int64_t seen) {
  if (c_.kind == "ema") apply_ema(g, seen == 0);
  if (c_.kind == "ma") apply_ma(g, seen);
}

// grokfast.py gradfilter_ema: grads = g (first call); grads = grads * alpha + g * (1 - alpha);
// g = g + grads * lamb.
template <class T>
void GradFilter<T>::apply_ema(std::span<T> g, bool first) {
  const T alpha = static_cast<T>(c_.alpha), rest = static_cast<T>(1.0 - c_.alpha);
  const T lambda = static_cast<T>(c_.lambda);
  T* mu = buf_.data();
  parallel_for(n_, kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      if (first) mu[i] = g[i];
      mu[i] = mu[i] * alpha + g[i] * rest;
      g[i] = g[i] + mu[i] * lambda;
    }
  });
}

// grokfast.py gradfilter_ma (warmup, "mean"): the gradient joins a deque of the last `window`;
// once it is full, avg = sum(deque) / window (Python's sum: 0 + oldest + ... + newest) and
// g = g + avg * lamb. Slot k of the ring holds gradient number k mod window.
template <class T>
void GradFilter<T>::apply_ma(std::span<T> g, int64_t seen) {
  const int64_t w = c_.window;
  std::copy(g.begin(), g.end(), buf_.begin() + (seen % w) * n_);
  if (seen + 1 < w) return;
  const T count = static_cast<T>(w), lambda = static_cast<T>(c_.lambda);
  const int64_t oldest = (seen + 1) % w;
  T* sum = sum_.data();
  parallel_for(n_, kGrain, [&](int64_t i0, int64_t i1) {
    std::fill(sum + i0, sum + i1, T(0));
    for (int64_t k = 0; k < w; ++k) {  // oldest first, row by row
      const T* row = buf_.data() + ((oldest + k) % w) * n_;
      for (int64_t i = i0; i < i1; ++i) sum[i] = sum[i] + row[i];
    }
    for (int64_t i = i0; i < i1; ++i) g[i] = g[i] + (sum[i] / count) * lambda;
  });
}

template <class T>
std::vector<std::pair<std::string, std::span<T>>> GradFilter<T>::state() {
  if (c_.kind == "ema") return {{"grad_ema", buf_}};
  if (c_.kind == "ma") return {{"grad_window", buf_}};
  return {};
}

template class GradFilter<float>;
template class GradFilter<double>;

}  // namespace gradscope
