// The numerics.* columns: see numerics.h. Shape legend: R = predictions (N * P), C = classes.
#include "gradscope/probes/numerics.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "gradscope/autograd/tape.h"

namespace gradscope {
namespace {

// The gradient of the mean loss over R rows with respect to logits [R, C], through the training
// objective itself (probes/objective.h: the same ops and kernels) on a host tape: dx [R, C].
template <class T>
std::vector<T> loss_gradient(const Tensor<T>& logits, const Dataset& d, Loss loss,
                             SoftmaxNumerics numerics) {
  std::vector<T> x(logits.begin(), logits.end()), dx(x.size(), T(0));
  Arena arena;
  Tape<T> t(arena);
  Examples e;
  e.targets = d.targets.data();
  e.n = logits.shape[0];
  Var v = t.param(Tensor<T>(x.data(), logits.shape), dx.data());
  t.backward(objective(t, v, d, e, loss, numerics));
  return dx;
}

// Whether the float32 sum of exp(x - max) over a row is exactly 1 (Prieto et al.'s logger.py).
template <class T>
bool softmax_collapsed_float32(const T* row, int64_t C) {
  float m = float(row[0]);
  for (int64_t j = 1; j < C; ++j) m = std::max(m, float(row[j]));
  float s = 0;
  for (int64_t j = 0; j < C; ++j) s += std::exp(float(row[j]) - m);
  return s == 1.0f;
}

// The q-quantile of sorted values, linear between neighbours (numpy's default).
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return NAN;
  const double at = q * double(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (at - double(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

template <class T>
void logit_numerics(const Tensor<T>& logits, const Dataset& d, Loss loss, SoftmaxNumerics numerics,
                    MetricValues& out) {
  const int64_t R = logits.shape[0], C = logits.shape[1];
  if (C < 2 || R < 1 || loss == Loss::hinge) return;
  const int32_t* target = d.targets.data();
  const std::vector<T> dx = loss_gradient(logits, d, loss, numerics);
  int64_t collapsed = 0, absorbed_target = 0, absorbed_row = 0;
  std::vector<double> margins(static_cast<size_t>(R));
  for (int64_t r = 0; r < R; ++r) {
    const T* row = logits.data + r * C;
    const T* g = dx.data() + r * C;
    collapsed += softmax_collapsed_float32(row, C);
    absorbed_target += g[target[r]] == T(0);
    absorbed_row += std::all_of(g, g + C, [](T v) { return v == T(0); });
    double other = -INFINITY;
    for (int64_t j = 0; j < C; ++j)
      if (j != target[r]) other = std::max(other, double(row[j]));
    margins[static_cast<size_t>(r)] = double(row[target[r]]) - other;
  }
  std::sort(margins.begin(), margins.end());
  const double n = double(R);
  out.insert(out.end(), {{"numerics.sc_torch_float32", double(collapsed) / n},
                         {"numerics.absorbed_target", double(absorbed_target) / n},
                         {"numerics.absorbed_row", double(absorbed_row) / n},
                         {"numerics.margin_q10", quantile(margins, 0.1)},
                         {"numerics.margin_q50", quantile(margins, 0.5)},
                         {"numerics.margin_q90", quantile(margins, 0.9)}});
}

template <class T>
double adam_eps_share(std::span<const T> v, const std::vector<std::pair<int64_t, int64_t>>& tensors,
                      int64_t steps, double beta2, double eps) {
  if (v.empty() || steps < 1) return NAN;
  const double correction = 1.0 - std::pow(beta2, double(steps));
  int64_t below = 0, count = 0;
  for (const auto& [offset, size] : tensors) {
    for (int64_t i = offset; i < offset + size; ++i)
      below += std::sqrt(double(v[static_cast<size_t>(i)]) / correction) < eps;
    count += size;
  }
  return count > 0 ? double(below) / double(count) : NAN;
}

template <class T>
double nlm_cosine(std::span<const T> params, std::span<const T> grads) {
  double pg = 0, pp = 0, gg = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    pg += double(params[i]) * double(grads[i]);
    pp += double(params[i]) * double(params[i]);
    gg += double(grads[i]) * double(grads[i]);
  }
  if (pp == 0 || gg == 0) return NAN;
  return -pg / std::sqrt(pp * gg);
}

nlohmann::ordered_json numerics_summary(std::span<const MetricValues> rows) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (rows.empty()) return out;
  for (const auto& [key, value] : rows.back()) {
    if (key.rfind("numerics.", 0) != 0 || key.rfind("numerics.margin", 0) == 0) continue;
    nlohmann::ordered_json first = nullptr;
    for (const MetricValues& r : rows)
      if (metric_value(r, key) >= 0.5) {
        first = static_cast<int64_t>(metric_value(r, "step"));
        break;
      }
    out[key.substr(9) + "_half_step"] = first;
  }
  return out;
}

#define GRADSCOPE_INSTANTIATE(T)                                                              \
  template void logit_numerics<T>(const Tensor<T>&, const Dataset&, Loss, SoftmaxNumerics,    \
                                  MetricValues&);                                             \
  template double adam_eps_share<T>(std::span<const T>,                                       \
                                    const std::vector<std::pair<int64_t, int64_t>>&, int64_t, \
                                    double, double);                                          \
  template double nlm_cosine<T>(std::span<const T>, std::span<const T>);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
