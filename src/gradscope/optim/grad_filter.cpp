// Grokfast's EMA and MA gradient filters: the keys' validation (the arithmetic: cuda/kernels.h).
#include "gradscope/optim/grad_filter.h"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

namespace gradscope {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& valid) {
  throw std::invalid_argument("optim." + key + " = " + value + " (valid: " + valid + ")");
}

}  // namespace

void GradFilterConfig::validate() const {
  if (!(alpha >= 0 && alpha < 1)) bad("filter_alpha", fmt::format("{}", alpha), "[0, 1)");
  if (!std::isfinite(lambda)) bad("filter_lambda", fmt::format("{}", lambda), "a finite number");
  if (window < 1) bad("filter_window", fmt::format("{}", window), "an integer >= 1");
}

}  // namespace gradscope
