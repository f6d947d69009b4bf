// `gradscope sweep EXPERIMENT.toml [key=value | key=v1,v2,...] [--jobs N] [--replicas K]
// [--shard i/K]` runs every point of a sweep ([sweep] in the file, or axes on the line) under
// ROOT/<name>/, skipping points already complete, K runs to a process with --replicas;
// `--slurm-script` prints an sbatch job-array script for it instead.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "gradscope/cli/command.h"
#include "gradscope/sweep/replica_groups.h"
#include "gradscope/sweep/runner.h"

namespace gradscope::cli {
namespace {

namespace fs = std::filesystem;

struct SweepArgs {
  std::string experiment;
  std::vector<std::string> arguments;  // key=value and key=v1,v2,...
  std::string root = "runs", shard;
  int jobs = 0;  // 0: SLURM_CPUS_PER_TASK, else 1
  int64_t replicas = 1;
  bool slurm_script = false;
  int64_t tasks = 0, cpus = 2;  // the script's array size (0: min(runs, 16)) and CPUs per task
};

int sweep(const SweepArgs& a, const Globals& g) {
  Config base;
  const SweepSpec spec = read_sweep(a.experiment, a.arguments, base);
  const std::vector<SweepRun> runs = expand_sweep(base, spec);  // every error before any run
  check_run_device(g);
  if (a.replicas < 1)
    throw ConfigError(
        fmt::format("--replicas {} (valid: an integer >= 1, the runs trained "
                    "together in one process)",
                    a.replicas));
  if (a.slurm_script) {
    SlurmArray array;
    array.runs = runs.size();
    array.groups = replica_groups(runs, a.replicas).size();
    array.tasks = a.tasks > 0 ? a.tasks : std::min<int64_t>(static_cast<int64_t>(array.groups), 16);
    array.cpus = a.cpus;
    array.replicas = a.replicas;
    array.root = a.root;
    array.device = g.device;
    fs::create_directories(fs::path(a.root) / "slurm-logs");
    fmt::print("{}", slurm_script(a.experiment, a.arguments, base, array, self_executable()));
    return 0;
  }
  if (a.replicas > 1 && g.threads == 1 && (g.device.empty() || g.device == "cpu"))
    fmt::print(stderr,
               "gradscope: note: --replicas {} with --threads 1 steps the replicas one at a time; "
               "--threads N spreads them over N threads\n",
               a.replicas);
  SweepOptions o;
  o.root = a.root;
  o.threads = g.threads;
  o.device = g.device;
  o.executable = self_executable();
  o.live = ::isatty(STDOUT_FILENO) != 0;
  const Shard shard = shard_of(a.shard);
  o.shard = shard.index;
  o.shards = shard.count;
  o.jobs = jobs_of(a.jobs);
  o.replicas = a.replicas;
  return run_sweep(base, spec, o);
}

Action define(CLI::App& sub, const Globals& g) {
  auto a = std::make_shared<SweepArgs>();
  sub.add_option("experiment", a->experiment, "experiment TOML file")->required();
  sub.add_option("arguments", a->arguments, "key=value, or key=v1,v2,... for a sweep axis");
  sub.add_option("--jobs", a->jobs,
                 "runs at a time (default: SLURM_CPUS_PER_TASK inside Slurm, else 1)")
      ->check(CLI::Range(1, 4096));
  sub.add_option("--replicas", a->replicas,
                 "train up to K runs that differ only in replica-safe keys (gradscope keys) "
                 "together in one process, as a replica group on --threads threads");
  sub.add_option("--shard", a->shard, "run only shard i of K (i/K); automatic in a Slurm array");
  sub.add_option("--root", a->root, "runs root (default: runs)")->capture_default_str();
  sub.add_flag("--slurm-script", a->slurm_script, "print an sbatch job-array script and exit");
  sub.add_option("--tasks", a->tasks, "--slurm-script: array tasks (default: min(runs, 16))");
  sub.add_option("--cpus", a->cpus, "--slurm-script: CPUs per task")->capture_default_str();
  return [a, &g] { return sweep(*a, g); };
}

}  // namespace

Command sweep_command() {
  return {"sweep", "run every point of a sweep ([sweep] in the file, or key=v1,v2 on the line)",
          &define};
}

}  // namespace gradscope::cli
