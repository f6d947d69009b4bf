// Phase detection and the summary: see summary.h.
#include "gradscope/run/summary.h"

#include <algorithm>
#include <cmath>

namespace gradscope {
namespace {
std::optional<int64_t> first_at_or_above(const std::vector<MetricsRow>& rows, const char* key,
                                         double threshold) {
  for (const MetricsRow& r : rows)
    if (r.get(key) >= threshold) return r.step();
  return std::nullopt;
}
}  // namespace

Phases detect_phases(const std::vector<MetricsRow>& rows, const TrainConfig& t) {
  Phases p;
  p.memorized_step = first_at_or_above(rows, "train_acc", t.memorize_threshold);
  p.generalized_step = first_at_or_above(rows, "test_acc", t.generalize_threshold);
  if (p.memorized_step && p.generalized_step)
    p.grokking_delay = *p.generalized_step - *p.memorized_step;
  const auto train = first_at_or_above(rows, "train_acc", t.regime_threshold);
  const auto test = first_at_or_above(rows, "test_acc", t.regime_threshold);
  if (train && test) {
    p.regime = *test - *train > t.regime_gap ? "grokking" : "comprehension";
  } else {
    p.regime = train ? "memorization" : "confusion";
  }
  return p;
}

Summary make_summary(const std::vector<MetricsRow>& rows, const TrainConfig& train,
                     const std::string& status, const RunTiming& timing, const std::string& message,
                     bool classification) {
  const Phases p = detect_phases(rows, train);
  Summary s;
  s.status = status;
  s.message = message;
  s.classification = classification;
  s.memorized_step = p.memorized_step;
  s.generalized_step = p.generalized_step;
  s.grokking_delay = p.grokking_delay;
  s.regime = p.regime;
  s.memorize_threshold = train.memorize_threshold;
  s.generalize_threshold = train.generalize_threshold;
  s.regime_threshold = train.regime_threshold;
  s.regime_gap = train.regime_gap;
  if (!rows.empty()) s.final = rows.back().values;
  s.steps_done = timing.steps_done;
  s.wall_time_s = timing.wall_time_s;
  s.steps_per_s = timing.wall_time_s > 0 ? timing.steps_done / timing.wall_time_s : 0.0;
  return s;
}

namespace {

double median3(double a, double b, double c) {
  return std::max(std::min(a, b), std::min(std::max(a, b), c));
}

nlohmann::ordered_json phase_change(const std::vector<MetricsRow>& rows, const std::string& key,
                                    double min_change) {
  std::vector<int64_t> steps;
  std::vector<double> v;
  for (const MetricsRow& r : rows) {
    const double x = r.get(key);
    if (std::isfinite(x)) steps.push_back(r.step()), v.push_back(x);
  }
  const size_t n = v.size();
  nlohmann::ordered_json j;
  if (n < 3) return j;
  const double a = median3(v[0], v[1], v[2]), b = median3(v[n - 3], v[n - 2], v[n - 1]);
  j["from"] = a;
  j["to"] = b;
  j["change"] = b - a;
  if (std::abs(b - a) < min_change) {
    j["step"] = nullptr;
    return j;
  }
  std::vector<double> m(v);  // 3-point running median (the ends as logged)
  for (size_t i = 1; i + 1 < n; ++i) m[i] = median3(v[i - 1], v[i], v[i + 1]);
  auto first_at = [&](double q) -> int64_t {
    for (size_t i = 0; i < n; ++i)
      if ((m[i] - a) / (b - a) >= q) return steps[i];
    return steps.back();
  };
  const int64_t t10 = first_at(0.1), t50 = first_at(0.5), t90 = first_at(0.9);
  {  // onset: from here on the running median stays beyond 3 sigma of the early noise
    const size_t w = std::max<size_t>(5, n / 10);
    double sq = 0;
    for (size_t i = 0; i + 1 < std::min(w, n); ++i) sq += (v[i + 1] - v[i]) * (v[i + 1] - v[i]);
    const double band = 3.0 * std::sqrt(sq / double(2 * (std::min(w, n) - 1)));
    const double dir = b > a ? 1.0 : -1.0;
    size_t onset = n;
    for (size_t i = n; i-- > 0;) {
      if ((m[i] - a) * dir <= band) break;
      onset = i;
    }
    if (onset < n) j["onset_step"] = steps[onset];
  }
  j["start_step"] = t10;
  j["step"] = t50;
  j["end_step"] = t90;
  j["width_fraction"] = double(t90 - t10) / double(std::max<int64_t>(t50, 1));
  const double decades =
      std::log10(double(std::max<int64_t>(t90, 1)) / double(std::max<int64_t>(t10, 1)));
  j["width_decades"] = decades;
  j["abrupt"] = decades <= 0.5;
  return j;
}

}  // namespace

nlohmann::ordered_json detect_phase_changes(
    const std::vector<MetricsRow>& rows, double min_change,
    const std::function<bool(const std::string&)>& monitored) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (rows.empty()) return out;
  for (const auto& [key, value] : rows.back().values)
    if (monitored(key)) out[key] = phase_change(rows, key, min_change);
  return out;
}

}  // namespace gradscope
