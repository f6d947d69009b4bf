// Run-directory paths: see paths.h.
#include "gradscope/rundir/paths.h"

#include <stdexcept>

#include <fmt/core.h>

#include <algorithm>

namespace gradscope::rundir {

Path config_file(const Path& run) {
  return run / "config.toml";
}
Path metrics_jsonl(const Path& run) {
  return run / "metrics.jsonl";
}
Path metrics_csv(const Path& run) {
  return run / "metrics.csv";
}
Path kept_file(const Path& run, const std::string& key) {
  if (key == "task.path") return run / "data.npz";
  throw std::logic_error("rundir::kept_file: no file name for " + key);
}
Path summary_file(const Path& run) {
  return run / "summary.json";
}
Path theory_file(const Path& run) {
  return run / "theory.json";
}
Path spectra_dir(const Path& run) {
  return run / "spectra";
}
Path spectra_file(const Path& run, const std::string& matrix) {
  return spectra_dir(run) / (matrix + ".npy");
}
Path llc_dir(const Path& run) {
  return run / "llc";
}
Path hessian_dir(const Path& run) {
  return run / "hessian";
}
Path llc_trace_file(const Path& run, int64_t step) {
  return llc_dir(run) / fmt::format("trace_{:08d}.npy", step);
}
Path fourier_dir(const Path& run) {
  return run / "fourier";
}

Path fourier_steps_file(const Path& run) {
  return fourier_dir(run) / "steps.npy";
}
Path spectra_steps_file(const Path& run) {
  return spectra_file(run, "steps");
}
Path checkpoints_dir(const Path& run) {
  return run / "checkpoints";
}
Path inside_dir(const Path& run) {
  return run / "inside";
}
Path checkpoint_file(const Path& run, int64_t step) {
  return checkpoints_dir(run) / fmt::format("step_{:08d}.ckpt", step);
}
Path damaged_checkpoint_file(const Path& run, int64_t step) {
  return checkpoint_file(run, step).string() + ".damaged";
}
Path lock_file(const Path& run) {
  return run / "run.lock";
}
Path heartbeat_file(const Path& run) {
  return run / "heartbeat.json";
}
Path plot_file(const Path& run, const std::string& plot) {
  return run / (plot + ".svg");
}

std::vector<Path> temporary_files(const Path& run) {
  std::vector<Path> found;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(run, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 0) it.disable_recursion_pending();  // the run and its own folders only
    if (is_temporary(it->path().filename().string())) found.push_back(it->path());
  }
  return found;
}

std::vector<int64_t> list_checkpoints(const Path& run) {
  std::vector<int64_t> steps;
  const Path dir = checkpoints_dir(run);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return steps;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() == 18 && n.rfind("step_", 0) == 0 && n.ends_with(".ckpt") &&
        std::all_of(n.begin() + 5, n.begin() + 13, [](char c) { return c >= '0' && c <= '9'; }))
      steps.push_back(std::stoll(n.substr(5, 8)));
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

bool is_temporary(const std::string& n) {
  const size_t at = n.rfind(".tmp.");
  return at != std::string::npos && at + 5 < n.size() &&
         std::all_of(n.begin() + static_cast<std::ptrdiff_t>(at) + 5, n.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

namespace {

// Whether every file below `dir` is one a run's measure folders hold (arrays, JSON, checkpoints,
// temporary files), at any depth (inside/<step>/).
bool holds_run_files_only(const Path& dir) {
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_directory(ec)) continue;
    const std::string n = it->path().filename().string(), x = it->path().extension().string();
    if (x != ".npy" && x != ".json" && x != ".ckpt" && x != ".damaged" && !is_temporary(n))
      return false;
  }
  return !ec;
}

}  // namespace

bool is_run_entry(const Path& run, const Path& entry) {
  const Path name = entry.filename();
  for (const Path& p :
       {config_file(run), kept_file(run, "task.path"), metrics_jsonl(run), metrics_csv(run),
        summary_file(run), theory_file(run), lock_file(run), heartbeat_file(run)})
    if (name == p.filename()) return std::filesystem::is_regular_file(entry);
  for (const Path& p : {spectra_dir(run), fourier_dir(run), llc_dir(run), hessian_dir(run),
                        checkpoints_dir(run), inside_dir(run)})
    if (name == p.filename())
      return std::filesystem::is_directory(entry) && holds_run_files_only(entry);
  // The plots gradscope draws into a run (report/, cli/plot.cpp).
  for (const char* plot : {"curves", "fourier", "geometry", "hidden_progress", "incontext",
                           "induction", "metric_choice", "modes", "normalized_spectra", "progress",
                           "spectra", "stable_rank", "staircase", "subtasks"})
    if (name == plot_file(run, plot).filename()) return true;
  return is_temporary(name.string());
}

bool is_run_dir(const Path& dir) {
  std::error_code ec;
  return std::filesystem::is_regular_file(config_file(dir), ec);
}

Path sweep_manifest(const Path& sweep) {
  return sweep / "sweep.json";
}
Path sweep_configs_dir(const Path& sweep) {
  return sweep / "configs";
}
Path sweep_config(const Path& sweep, const std::string& id) {
  return sweep_configs_dir(sweep) / (id + ".toml");
}
Path sweep_logs_dir(const Path& sweep) {
  return sweep / "logs";
}
Path sweep_log(const Path& sweep, const std::string& id) {
  return sweep_logs_dir(sweep) / (id + ".log");
}
Path sweep_group_log(const Path& sweep, const std::string& first_id) {
  return sweep_logs_dir(sweep) / (first_id + ".group.log");
}
Path sweep_failures(const Path& sweep, int64_t shard) {
  return sweep / fmt::format("failures-shard{}.json", shard);
}
Path sweep_lock(const Path& sweep) {
  return sweep / "sweep.json.lock";  // a sweep file (is_sweep_file) by its name
}
bool is_sweep_dir(const Path& dir) {
  std::error_code ec;
  return std::filesystem::exists(sweep_manifest(dir), ec);
}
bool is_sweep_file(const std::string& name) {
  // The manifest, and its temporary files while a shard writes it.
  return name == "configs" || name == "logs" || name.rfind("sweep.json", 0) == 0;
}

Path index_file(const Path& root) {
  return root / "index.sqlite";
}

}  // namespace gradscope::rundir
