// `gradscope hessian RUN_DIR [--steps all|last|A,B,...] [hessian.key=value ...]` measures the
// curvature of the training loss (top eigenvalues, trace; per tensor) at the run's checkpoints
// (run/hessian.h) into RUN_DIR/hessian/.
#include "gradscope/cli/command.h"
#include "gradscope/run/hessian_checkpoints.h"

namespace gradscope::cli {
namespace {

int measure(const CheckpointMeasureRequest& r) {
  return hessian_over_checkpoints(r);
}

Action define(CLI::App& sub, const Globals& g) {
  return define_checkpoint_measure(sub, g, "hessian", &measure);
}

}  // namespace

Command hessian_command() {
  return {"hessian",
          "the Hessian's top eigenvalues and trace at a run's checkpoints (writes hessian/)",
          &define};
}

}  // namespace gradscope::cli
