// The train.* options: see train_options.h.
#include "gradscope/run/train_options.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace gradscope {
namespace {

constexpr double kLargestStep = 9007199254740992.0;  // 2^53: every step up to it is a double

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
  const std::string valid = "\"log\", \"every:N\" with N >= 1, or a list of whole steps >= 0";
  CheckpointKeep k;
  if (v.index() == 4) {
    k.kind = "list";
    for (double s : std::get<std::vector<double>>(v)) {
      if (!(s >= 0 && s <= kLargestStep) || s != std::floor(s))
        fail("train.checkpoint_steps", value_to_string(v), valid);
      k.steps.push_back(static_cast<int64_t>(s));
    }
    return k;
  }
  const std::string& s = std::get<std::string>(v);
  if (s == "log") return k;
  char* end = nullptr;
  const long long n = s.rfind("every:", 0) == 0 ? std::strtoll(s.c_str() + 6, &end, 10) : 0;
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos)  // one bare number
    fail("train.checkpoint_steps", s,
         fmt::format("\"every:{0}\" for every {0}th step, or [{0}] for that step alone", s));
  if (n < 1 || !end || *end != '\0') fail("train.checkpoint_steps", value_to_string(v), valid);
  k.kind = "every";
  k.every = n;
  return k;
}

TrainConfig train_options(const Config& c) {
  return options_from<TrainConfig>(c);
}

}  // namespace gradscope
