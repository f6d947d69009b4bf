// `gradscope llc RUN_DIR [--steps all|last|A,B,...] [llc.key=value ...]` estimates the local
// learning coefficient at the run's checkpoints by SGLD (run/llc.h) into RUN_DIR/llc/.
#include "gradscope/cli/command.h"
#include "gradscope/run/llc_checkpoints.h"

namespace gradscope::cli {
namespace {

int measure(const CheckpointMeasureRequest& r) {
  return llc_over_checkpoints(r);
}

Action define(CLI::App& sub, const Globals& g) {
  return define_checkpoint_measure(sub, g, "llc", &measure);
}

}  // namespace

Command llc_command() {
  return {"llc", "the local learning coefficient at a run's checkpoints (SGLD; writes llc/)",
          &define};
}

}  // namespace gradscope::cli
