// Phase detection and summary.json: see summary.h.
#include "gradscope/run/summary.h"

#include <cmath>

namespace gradscope {
namespace {
std::optional<int64_t> first_at_or_above(const std::vector<MetricsRow>& rows, const char* key,
                                         double threshold) {
  for (const MetricsRow& r : rows)
    if (r.get(key) >= threshold) return r.step();
  return std::nullopt;
}
nlohmann::ordered_json opt(const std::optional<int64_t>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
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

nlohmann::ordered_json make_summary(const std::vector<MetricsRow>& rows, const TrainConfig& train,
                                    const std::string& status, const RunTiming& timing,
                                    const std::string& message, bool classification) {
  const Phases p = detect_phases(rows, train);
  nlohmann::ordered_json s;
  s["status"] = status;
  if (!message.empty()) s["message"] = message;
  if (classification) {
    s["memorized_step"] = opt(p.memorized_step);
    s["generalized_step"] = opt(p.generalized_step);
    s["grokking_delay"] = opt(p.grokking_delay);
    s["regime"] = p.regime;
    s["thresholds"] = {{"memorize", train.memorize_threshold},
                       {"generalize", train.generalize_threshold},
                       {"regime", train.regime_threshold},
                       {"regime_gap", train.regime_gap}};
  }
  nlohmann::ordered_json fin = nlohmann::ordered_json::object();
  if (!rows.empty())
    for (const auto& [k, v] : rows.back().values)
      fin[k] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
  s["final"] = fin;
  s["steps_done"] = timing.steps_done;
  s["wall_time_s"] = timing.wall_time_s;
  s["steps_per_s"] = timing.wall_time_s > 0 ? timing.steps_done / timing.wall_time_s : 0.0;
  return s;
}

}  // namespace gradscope
