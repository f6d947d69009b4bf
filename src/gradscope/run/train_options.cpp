// The train.* options: see train_options.h.
#include "gradscope/run/train_options.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace gradscope {
namespace {

[[noreturn]] void fail(const std::string& key, const std::string& value, const std::string& valid) {
  throw ConfigError(key + " = " + value + " (valid: " + valid + ")");
}

}  // namespace

bool CheckpointKeep::keeps(int64_t step) const {
  if (kind == "every") return step % every == 0;
  if (kind == "list") return std::find(steps.begin(), steps.end(), step) != steps.end();
  if (step == 0) return true;
  for (int64_t p = 100; p <= step; p *= 10)
    if (step == p || step == 2 * p || step == 5 * p) return true;
  return false;
}

CheckpointKeep checkpoint_keep(const ConfigValue& v) {
  const std::string valid = "\"log\", \"every:N\" with N >= 1, or a list of steps >= 0";
  CheckpointKeep k;
  if (v.index() == 4) {
    k.kind = "list";
    for (double s : std::get<std::vector<double>>(v)) {
      if (!(s >= 0) || s != std::floor(s))
        fail("train.checkpoint_steps", value_to_string(v), valid);
      k.steps.push_back(static_cast<int64_t>(s));
    }
    return k;
  }
  const std::string& s = std::get<std::string>(v);
  if (s == "log") return k;
  char* end = nullptr;
  const long long n = s.rfind("every:", 0) == 0 ? std::strtoll(s.c_str() + 6, &end, 10) : 0;
  if (n < 1 || !end || *end != '\0') fail("train.checkpoint_steps", value_to_string(v), valid);
  k.kind = "every";
  k.every = n;
  return k;
}

TrainConfig train_options(const Config& c) {
  return options_from<TrainConfig>(c);
}

void TrainConfig::validate() const {
  if (steps < 1) fail("train.steps", std::to_string(steps), "an integer >= 1");
  if (batch_size < 0) fail("train.batch_size", std::to_string(batch_size), ">= 0 (0: full batch)");
  if (log_every < 1) fail("train.log_every", std::to_string(log_every), "an integer >= 1");
  if (checkpoint_every < 0)
    fail("train.checkpoint_every", std::to_string(checkpoint_every), ">= 0 (0: log-spaced only)");
  if (!(phase_min_change > 0))
    fail("train.phase_min_change", fmt::format("{}", phase_min_change), "a number > 0");
  const std::pair<const char*, double> fractions[] = {
      {"train.memorize_threshold", memorize_threshold},
      {"train.generalize_threshold", generalize_threshold},
      {"train.regime_threshold", regime_threshold}};
  for (const auto& [k, v] : fractions)
    if (!(v > 0 && v <= 1)) fail(k, fmt::format("{}", v), "a fraction in (0, 1]");
  if (regime_gap < 0) fail("train.regime_gap", std::to_string(regime_gap), "an integer >= 0");
  if (stop_after_generalized < 0)
    fail("train.stop_after_generalized", std::to_string(stop_after_generalized),
         "an integer >= 0 (0: off)");
}

}  // namespace gradscope
