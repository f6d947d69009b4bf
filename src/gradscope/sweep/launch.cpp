// Starting one run: see launch.h.
#include "gradscope/sweep/launch.h"

#include "gradscope/config/config.h"
#include "gradscope/index/results_index.h"
#include "gradscope/run/trainer.h"
#include "gradscope/run/validate.h"

namespace gradscope {

namespace fs = std::filesystem;

namespace {

// The config of a new run: the experiment (file or text) with the overrides applied.
Config new_run_config(const RunRequest& r) {
  if (r.experiment.empty()) throw ConfigError("run needs an experiment (or a run to resume)");
  const std::string origin = r.origin.empty() ? r.experiment : r.origin;
  Config base =
      r.text ? Config::from_string(r.experiment, origin) : Config::from_file(r.experiment);
  return experiment_config(std::move(base), r.overrides, origin);
}

}  // namespace

RunOutcome launch_run(const RunRequest& r) {
  RunOptions o;
  o.live = r.live;
  o.version_header = r.version_header;
  Config c;
  if (!r.resume.empty()) {
    if (!r.experiment.empty())
      throw ConfigError(
          "--resume takes the run directory and no experiment file (the config is "
          "the run's own)");
    o.dir = r.resume;
    o.resume = true;
    c = resume_config(o.dir, r.overrides);
  } else {
    c = new_run_config(r);
    o.dir = r.out.empty() ? fs::path("runs") / c.string("name") : fs::path(r.out);
    o.force = r.force;
  }
  // Indexed inside the run's signal handling: a second signal (a sweep's SIGTERM after a
  // terminal's SIGINT to the group) waits until the run is in the index.
  const int code = run_experiment(c, o, [&] { add_to_index(o.dir, r.index); });
  return {code, o.dir};
}

}  // namespace gradscope
