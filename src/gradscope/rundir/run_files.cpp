// Config and theory files of a run directory: see run_files.h.
#include "gradscope/rundir/run_files.h"

#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"

namespace gradscope {

Config read_run_config(const std::filesystem::path& run_dir) {
  if (!std::filesystem::is_directory(run_dir))
    throw ConfigError(run_dir.string() + ": no such run directory");
  if (rundir::is_sweep_dir(run_dir))
    throw ConfigError(run_dir.string() + " is a sweep: its runs are the folders in it");
  if (!std::filesystem::is_regular_file(rundir::config_file(run_dir)))
    throw ConfigError(run_dir.string() + ": not a run directory (no config.toml)");
  return Config::from_file(rundir::config_file(run_dir));
}

void write_run_config(const std::filesystem::path& run_dir, const std::string& header,
                      const Config& config) {
  write_file_atomic(rundir::config_file(run_dir), config.to_toml(header, run_dir));
}

void write_theory(const std::filesystem::path& run_dir, const nlohmann::json& prediction) {
  write_file_atomic(rundir::theory_file(run_dir), prediction.dump(2) + "\n");
}

}  // namespace gradscope
