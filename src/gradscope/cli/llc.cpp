// `gradscope llc RUN_DIR [--steps all|last|A,B,...] [llc.key=value ...]` estimates the local
// learning coefficient at the run's checkpoints by SGLD (run/llc.h) into RUN_DIR/llc/.
#include <memory>

#include "gradscope/cli/command.h"
#include "gradscope/run/llc_checkpoints.h"

namespace gradscope::cli {
namespace {

Action define(CLI::App& sub, const Globals& g) {
  auto a = std::make_shared<LlcRequest>();
  auto run = std::make_shared<std::string>();
  sub.add_option("run", *run, "the run directory")->required();
  sub.add_option("overrides", a->overrides, "llc.key=value settings (gradscope keys llc)");
  sub.add_option("--steps", a->steps, "checkpoint steps: all, last, or A,B,...")
      ->capture_default_str();
  return [a, run, &g] {
    a->run = *run;
    a->device = g.device;
    return llc_over_checkpoints(*a);
  };
}

}  // namespace

Command llc_command() {
  return {"llc", "the local learning coefficient at a run's checkpoints (SGLD; writes llc/)",
          &define};
}

}  // namespace gradscope::cli
