// Starting one run: what `gradscope run` and Python's gradscope.run do alike (the one place a run
// is orchestrated): the config from an experiment file or TOML text and overrides (or a run's own
// config to resume), the run directory, training, and the run's entry in the results index.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace gradscope {

struct RunRequest {
  std::string experiment;  // a TOML file, or TOML text when `text` is set
  bool text = false;
  std::string origin;                  // how messages name TOML text ("": the file's path)
  std::vector<std::string> overrides;  // key=value
  std::string out;                     // the run directory ("": runs/<name>)
  bool force = false;                  // replace an existing run directory
  std::string resume;                  // a run directory to continue instead of an experiment
  std::string index;                   // the results index ("": index.sqlite in the runs root)
  bool live = false;                   // progress as one live line (a terminal)
  std::string version_header;          // the comment lines config.toml starts with
};

struct RunOutcome {
  int code = 0;  // 0 success, 1 diverged or failed, 130 interrupted
  std::filesystem::path dir;
};

// Trains the run (run/trainer.h) and adds it to the index. Bad input throws ConfigError before
// anything is written.
RunOutcome launch_run(const RunRequest& request);

}  // namespace gradscope
