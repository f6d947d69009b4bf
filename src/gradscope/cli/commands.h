// The subcommands of the gradscope executable that work on many runs (sweep, index, ls, export,
// phase diagrams), read a run's checkpoints (sample) or show runs in a browser (serve, report);
// main.cpp parses the command line and
// calls them.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace gradscope::cli {

struct SweepArgs {
  std::string experiment;
  std::vector<std::string> arguments;  // key=value and key=v1,v2,...
  std::string root = "runs", shard;
  int jobs = 0;  // 0: SLURM_CPUS_PER_TASK, else 1
  int threads = 1;
  std::string device;  // --device for every run ("": the experiment's)
  bool slurm_script = false;
  int64_t tasks = 0, cpus = 2;  // the script's array size (0: min(runs, 16)) and CPUs per task
};
int sweep(const SweepArgs& a);

int index_rebuild(const std::string& root);
int ls(const std::vector<std::string>& filters, const std::string& index);
int export_csv(const std::string& index, const std::string& out);
int phase_diagram(const std::string& sweep_dir, const std::string& x, const std::string& y,
                  const std::string& z, bool log_x, bool log_y, const std::string& out);
// Lines of a sweep: y fields (comma-separated) against x, one line per value of `by` where it is
// given; writes SWEEP_DIR/lines_<y>.svg or out.
int sweep_lines(const std::string& sweep_dir, const std::string& x, const std::string& y,
                const std::string& by, bool log_x, bool log_y, const std::string& out);

// Text from a text run's checkpoint (cli/sample.cpp): prints the prompt and its continuation.
struct SampleArgs {
  std::string run, prompt;
  int64_t tokens = 200;
  double temperature = 1.0;
  uint64_t seed = 0;
  int64_t step = -1;   // -1: the last checkpoint
  std::string device;  // where the model runs (--device; empty: the cpu)
};
int sample(const SampleArgs& a);

// The web viewer over ROOT (cli/serve.cpp): serves until interrupted.
int serve(const std::string& root, const std::string& host, int port);
// A run's or sweep's pages as one self-contained HTML file.
int report(const std::string& dir, const std::string& out);

// The path of the running executable (children of a sweep run it).
std::string self_executable();

}  // namespace gradscope::cli
