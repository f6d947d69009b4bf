// The theory adapter: the prediction of theory/ for an experiment, and its comparison with a
// finished run.
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

#include "gradscope/config/config.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/tasks/dataset.h"
#include "gradscope/tensor/model_shape.h"

namespace gradscope {

// The prediction for a run of `config` on the task data already built, whose model reads
// `shape`. The theory needs the model in float64 and moves its parameters (the stage
// prediction evaluates the loss at chosen points), so a float64 model of the same config is
// built here when a theory applies.
nlohmann::json predict(const Config& config, const TaskData& data, const ModelShape& shape);

// Jump times observed in a run beside the predicted ones: from the loss curve (the first logged
// step at which train_loss falls below the midpoint of two predicted plateaus) and from the
// spectra (summary.json's spectral_jump_steps: matrix name -> the steps at which its singular
// values first reach half their final value; null without the spectral probe). For saxe, each
// mode's observed half-time and the maximum relative deviation of its observed strength from the
// closed form (over the logged steps after the predicted strength reaches 1% of s).
nlohmann::json compare_with_prediction(const nlohmann::json& prediction,
                                       const std::vector<MetricsRow>& rows,
                                       const nlohmann::ordered_json& spectral_jump_steps);

// Text lines for the terminal.
std::string describe_prediction(const nlohmann::json& prediction);

}  // namespace gradscope
