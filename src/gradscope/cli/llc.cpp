// `gradscope llc RUN_DIR [--steps all|last|A,B,...] [--calibrate] [llc.key=value ...]` estimates
// the local learning coefficient at the run's checkpoints by SGLD (run/llc.h) into RUN_DIR/llc/,
// or with --calibrate maps it over step sizes and n betas at one checkpoint.
#include "gradscope/cli/command.h"
#include "gradscope/run/llc_checkpoints.h"

namespace gradscope::cli {
namespace {

int measure(const CheckpointMeasureRequest& r) {
  return llc_over_checkpoints(r);
}

Action define(CLI::App& sub, const Globals& g) {
  return define_checkpoint_measure(
      sub, g, "llc", &measure,
      "map lambda-hat at one checkpoint over a grid of step sizes and n betas, marking the stable "
      "settings (writes llc/calibration_<step>.json)");
}

}  // namespace

Command llc_command() {
  return {"llc", "the local learning coefficient at a run's checkpoints (SGLD; writes llc/)",
          &define};
}

}  // namespace gradscope::cli
