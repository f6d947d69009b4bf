// The subcommand table and what its commands share: see command.h.
#include "gradscope/cli/command.h"

#include <memory>
#include <stdexcept>

#include "git_rev.h"  // GRADSCOPE_GIT_REV, generated at every build (cmake/git_rev.cmake)
#include "gradscope/cuda/device.h"
#include "gradscope/run/trainer.h"
#include "gradscope/rundir/paths.h"

namespace gradscope::cli {

namespace fs = std::filesystem;

const std::vector<Command>& command_table() {
  static const std::vector<Command> table = {
      run_command(),    show_command(),      plot_command(),   sweep_command(),  replicas_command(),
      index_command(),  ls_command(),        export_command(), theory_command(), sample_command(),
      serve_command(),  report_command(),    keys_command(),   llc_command(),    hessian_command(),
      inside_command(), reproduce_command(),
  };
  return table;
}

std::string version_text() {
  return std::string("gradscope ") + GRADSCOPE_VERSION + " (git " + GRADSCOPE_GIT_REV + ")";
}

std::string run_version_header() {
  return version_header(GRADSCOPE_VERSION, GRADSCOPE_GIT_REV);
}

std::string self_executable() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("gradscope") : p.string();
}

fs::path existing_index(const std::string& index) {
  const fs::path db = index.empty() ? rundir::index_file("runs") : fs::path(index);
  if (!fs::exists(db))
    throw std::invalid_argument(db.string() +
                                ": no index (runs add themselves when they end; `gradscope index "
                                "rebuild` makes one from the run directories)");
  return db;
}

void host_only(const char* command, const Globals& g) {
  if (!g.device.empty() && g.device != "cpu")
    throw std::invalid_argument(std::string("--device ") + g.device + ": " + command +
                                " reads run directories on the host, wherever the runs trained "
                                "(valid: cpu)");
}

void check_run_device(const Globals& g) {
  if (g.device.empty()) return;
  try {
    device_from_name(g.device);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("--device " + g.device + " (valid: cpu, cuda, emulated)");
  }
}

Action define_checkpoint_measure(CLI::App& sub, const Globals& g, const std::string& prefix,
                                 int (*measure)(const CheckpointMeasureRequest&),
                                 const std::string& calibrate_help) {
  auto a = std::make_shared<CheckpointMeasureRequest>();
  auto run = std::make_shared<std::string>();
  sub.add_option("run", *run, "the run directory")->required();
  sub.add_option("overrides", a->overrides,
                 prefix + ".key=value settings (gradscope keys " + prefix + ")");
  sub.add_option("--steps", a->steps, "checkpoint steps: all, last, or A,B,...")
      ->capture_default_str();
  if (!calibrate_help.empty()) sub.add_flag("--calibrate", a->calibrate, calibrate_help);
  return [a, run, &g, measure] {
    a->run = *run;
    a->device = g.device;
    return measure(*a);
  };
}

}  // namespace gradscope::cli
