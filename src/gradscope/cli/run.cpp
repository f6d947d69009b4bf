// `gradscope run EXPERIMENT.toml [key=value ...] [--out DIR] [--force]` trains an experiment into
// runs/<name>/ (or DIR); `gradscope run --resume RUN_DIR [train.steps=M]` continues a run from its
// last checkpoint. Either way the finished run adds itself to the results index.
#include <unistd.h>

#include <memory>

#include "gradscope/cli/command.h"
#include "gradscope/run/validate.h"
#include "gradscope/sweep/launch.h"

namespace gradscope::cli {
namespace {

// The request of the command line. With --resume, CLI11 takes a first key=value for the
// experiment: it is an override.
RunRequest request(RunRequest r, const Globals& g) {
  if (!r.resume.empty() && r.experiment.find('=') != std::string::npos) {
    r.overrides.insert(r.overrides.begin(), r.experiment);
    r.experiment.clear();
  }
  if (!g.device.empty()) r.overrides.push_back("device=" + g.device);  // --device: an override
  if (r.resume.empty() && r.experiment.empty())
    throw ConfigError("run needs an EXPERIMENT.toml (or --resume RUN_DIR)");
  if (!r.resume.empty() && !r.experiment.empty())
    throw ConfigError("--resume " + r.resume +
                      " continues that run with its own config (valid: "
                      "no EXPERIMENT.toml beside it; key=value to extend train.steps)");
  r.live = ::isatty(STDOUT_FILENO) != 0;
  r.version_header = run_version_header();
  return r;
}

Action define(CLI::App& sub, const Globals& g) {
  auto a = std::make_shared<RunRequest>();
  sub.add_option("experiment", a->experiment, "experiment TOML file");
  sub.add_option("overrides", a->overrides, "key=value settings, e.g. optim.weight_decay=0.3");
  CLI::Option* out = sub.add_option("--out", a->out, "run directory (default: runs/<name>)");
  CLI::Option* force = sub.add_flag("--force", a->force, "replace an existing run directory");
  sub.add_option("--resume", a->resume,
                 "continue the run in this directory from its last checkpoint (train.steps=M "
                 "extends it)")
      ->excludes(out)
      ->excludes(force);
  sub.add_option("--index", a->index,
                 "results index the run adds itself to (default: index.sqlite in the runs root)");
  return [a, &g] { return launch_run(request(*a, g)).code; };
}

}  // namespace

Command run_command() {
  return {"run", "train an experiment; writes runs/<name>/", &define};
}

}  // namespace gradscope::cli
