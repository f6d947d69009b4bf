// The three phases of grokking from the Fourier progress measures: see fourier_phases.h.
#include "gradscope/probes/fourier_phases.h"

#include <cmath>
#include <optional>

namespace gradscope {
namespace {

int64_t step_of(const MetricValues& row) {
  return static_cast<int64_t>(row.front().second);
}

// The probe step with the smallest finite value of `key` at or before `until` (every step when
// nullopt); nullopt when no row has it.
std::optional<int64_t> argmin_step(std::span<const MetricValues> rows, const std::string& key,
                                   std::optional<int64_t> until) {
  std::optional<int64_t> best;
  double low = INFINITY;
  for (const MetricValues& r : rows)
    if (const double v = metric_value(r, key);
        (!until || step_of(r) <= *until) && std::isfinite(v) && v < low)
      low = v, best = step_of(r);
  return best;
}

// The first logged step after `from` with test_loss below `level`.
std::optional<int64_t> test_loss_below(std::span<const MetricValues> rows, int64_t from,
                                       double level) {
  for (const MetricValues& r : rows)
    if (step_of(r) > from && metric_value(r, "test_loss") < level) return step_of(r);
  return std::nullopt;
}

// The first probe step from `from` on at which the Gini coefficient of W_L's Fourier norms (W_E's
// where the model has no W_L) has covered 90% of its rise from its value at `from` to its largest
// value after; nullopt without a rise.
std::optional<int64_t> gini_settled(std::span<const MetricValues> rows, int64_t from) {
  const bool has_wl =
      !rows.empty() && std::isfinite(metric_value(rows.front(), "fourier.W_L.gini"));
  const std::string key = has_wl ? "fourier.W_L.gini" : "fourier.W_E.gini";
  double start = NAN, top = -INFINITY;
  for (const MetricValues& r : rows) {
    const double v = metric_value(r, key);
    if (step_of(r) < from || !std::isfinite(v)) continue;
    if (std::isnan(start)) start = v;
    top = std::max(top, v);
  }
  if (!(top > start)) return std::nullopt;
  for (const MetricValues& r : rows)
    if (step_of(r) >= from && metric_value(r, key) >= start + 0.9 * (top - start))
      return step_of(r);
  return std::nullopt;
}

nlohmann::ordered_json span(std::optional<int64_t> start, std::optional<int64_t> end) {
  nlohmann::ordered_json j;
  j["start"] = start ? nlohmann::ordered_json(*start) : nlohmann::ordered_json();
  j["end"] = start && end ? nlohmann::ordered_json(*end) : nlohmann::ordered_json();
  return j;
}

}  // namespace

nlohmann::ordered_json fourier_phases(std::span<const MetricValues> rows, int64_t p,
                                      std::optional<int64_t> memorized_step) {
  const std::optional<int64_t> cleanup =
      test_loss_below(rows, memorized_step.value_or(0), std::log(double(p)));
  std::optional<int64_t> memorized = argmin_step(rows, "fourier.excluded_loss_train", cleanup);
  if (!memorized) memorized = memorized_step;
  std::optional<int64_t> settled;
  if (cleanup) settled = gini_settled(rows, *cleanup);
  nlohmann::ordered_json out;
  out["memorization"] = span(int64_t{0}, memorized);
  out["circuit_formation"] = span(memorized, cleanup);
  out["cleanup"] = span(cleanup, settled);
  return out;
}

}  // namespace gradscope
