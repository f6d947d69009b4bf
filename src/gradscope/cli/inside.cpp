// `gradscope inside RUN_DIR [--steps all|last|A,B,...] [inside.key=value ...]` takes the inside
// view's frames (probes/inside.h) at the run's kept checkpoints into RUN_DIR/inside/.
#include "gradscope/cli/command.h"
#include "gradscope/run/inside_checkpoints.h"

namespace gradscope::cli {
namespace {

int measure(const CheckpointMeasureRequest& r) {
  return inside_over_checkpoints(r);
}

Action define(CLI::App& sub, const Globals& g) {
  return define_checkpoint_measure(sub, g, "inside", &measure);
}

}  // namespace

Command inside_command() {
  return {"inside",
          "the inside view's frames (weights, neuron maps, attention) at a run's checkpoints "
          "(writes inside/)",
          &define};
}

}  // namespace gradscope::cli
