// The theory's prediction for an experiment (theory/), and its comparison with a finished run.
//
//   stages  diagonal (depth 2) and diag_attention models on a regression teacher, trained by
//           plain gradient descent: predicted jump times (rescaled, and in steps =
//           tau log(1/alpha) / lr) and plateau losses (theory/stages.h).
//   saxe    deep_linear on a linear low-rank teacher, plain gradient descent: each mode's
//           strength over time (theory/saxe.h), with u0 from the initialization.
// Anything else: {"available": false, "reason": ...}.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gradscope/run/config.h"
#include "gradscope/run/run_files.h"

namespace gradscope {

nlohmann::json predict(const Config& config);

// Jump times observed in a run beside the predicted ones: from the loss curve (the first logged
// step at which train_loss falls below the midpoint of two predicted plateaus) and from the
// spectra (jumps: matrix name -> the steps at which its singular values first reach half their
// final value). For saxe, each mode's observed half-time and the maximum relative deviation of
// its observed strength from the closed form (over the logged steps after the predicted
// strength reaches 1% of s).
nlohmann::json compare_with_prediction(const nlohmann::json& prediction,
                                       const std::vector<MetricsRow>& rows,
                                       const std::map<std::string, std::vector<int64_t>>& jumps);

// Text lines for the terminal.
std::string describe_prediction(const nlohmann::json& prediction);

}  // namespace gradscope
