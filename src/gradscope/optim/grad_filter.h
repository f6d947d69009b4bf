// Grokfast's gradient filters (Lee et al. 2024; REFERENCES.md 1e), applied to the raw gradient
// right after backward, before clipping, weight decay and the update rule:
//   ema  mu <- alpha mu + (1 - alpha) g   (mu starts at the first gradient)   g <- g + lambda mu
//   ma   g <- g + lambda * mean of the last `window` gradients (this one included), only once
//        `window` gradients are stored (the authors' warmup)
// with the authors' operation order (their grokfast.py), so float32 results round as theirs.
// The filter keeps no counter of its own: the number of gradients it has seen is the optimizer's
// step count, so its state is only its buffers (saved in checkpoints beside the optimizer's).
// Its arithmetic is kernels::GradEma, GradWindowStore and GradWindowMean (cuda/kernels.h), run by
// the optimizer (optimizer.h) on whatever device it trains on.
#pragma once

#include <cstdint>
#include <string>

#include "gradscope/config/options.h"

namespace gradscope {

// optim.grad_filter's values, in the schema's order.
enum class GradFilterKind { none, ema, ma };

// The optim.grad_filter, optim.filter_* keys (config/options.h: defaults, valid values and help in
// config/schema.cpp).
struct GradFilterConfig {
  GradFilterKind kind = option<GradFilterKind>("optim.grad_filter");
  double alpha = option<double>("optim.filter_alpha");      // ema: momentum of the slow component
  double lambda = option<double>("optim.filter_lambda");    // amplification of the slow component
  int64_t window = option<int64_t>("optim.filter_window");  // ma: gradients averaged
  // The keys' ranges are the schema's (config/schema.cpp), checked when a value is set.
  bool operator==(const GradFilterConfig&) const = default;
};

}  // namespace gradscope
