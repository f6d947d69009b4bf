// `gradscope reproduce [CLAIM|PAPER ...] [--all] [--budget ci|local|full] [--seeds N]` runs the
// claims of claims/*.toml (reproduce/claims.h) over seeds through the sweep machinery and judges
// each one: a table, and REPRODUCTIONS.md in the results root (reproduce/reproduce.h).
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <memory>

#include "gradscope/cli/command.h"
#include "gradscope/reproduce/reproduce.h"

namespace gradscope::cli {
namespace {

struct ReproduceArgs {
  ReproduceOptions options;
  std::string budget = "local", root = kDefaultReproduceRoot, claims, shard;
  bool all = false, list = false;
  int jobs = 0;  // 0: SLURM_CPUS_PER_TASK inside Slurm, else 1
};

// The claims folder: --claims, else ./claims, else the source tree's (an installed binary run
// from elsewhere).
std::string claims_folder(const std::string& given) {
  if (!given.empty()) return given;
  if (std::filesystem::is_directory("claims")) return "claims";
  return GRADSCOPE_SOURCE_DIR "/claims";
}

int list_claims(const std::filesystem::path& folder) {
  for (const ClaimFile& f : read_claim_folder(folder)) {
    fmt::print("{}: {}\n", f.name, f.paper);
    for (const Claim& c : f.claims) {
      std::string budgets;
      for (const auto& [b, n] : c.seeds) budgets += fmt::format(" {}={}", budget_name(b), n);
      fmt::print("  {}  ({};{} seeds)\n", c.id, c.where, budgets);
    }
  }
  return 0;
}

int reproduce_action(ReproduceArgs& a, const Globals& g) {
  ReproduceOptions& o = a.options;
  o.claims = claims_folder(a.claims);
  o.claims_given = !a.claims.empty();
  if (a.list) return list_claims(o.claims);
  if (a.all == !o.targets.empty())
    throw ConfigError(
        "name the claims or papers to reproduce, or --all (gradscope reproduce "
        "--list shows them)");
  if (a.jobs < 0) throw ConfigError(fmt::format("--jobs {} (valid: >= 1)", a.jobs));
  if (a.options.sweep.replicas < 1)
    throw ConfigError(fmt::format("--replicas {} (valid: >= 1)", a.options.sweep.replicas));
  o.budget = parse_budget(a.budget, "--budget");
  o.sweep.root = a.root;
  o.sweep.jobs = jobs_of(a.jobs);
  o.sweep.threads = g.threads;
  o.sweep.device = g.device;
  check_run_device(g);
  o.sweep.executable = self_executable();
  o.sweep.live = ::isatty(STDOUT_FILENO) != 0;
  o.revision = version_text();
  o.command_targets = a.all ? "--all" : fmt::format("{}", fmt::join(o.targets, " "));
  const Shard shard = shard_of(a.shard);
  o.sweep.shard = shard.index;
  o.sweep.shards = shard.count;
  return reproduce(o);
}

Action define(CLI::App& sub, const Globals& g) {
  auto a = std::make_shared<ReproduceArgs>();
  sub.add_option("targets", a->options.targets, "claim ids (paper.claim) or papers (file names)");
  sub.add_flag("--all", a->all, "every claim of every claim file");
  sub.add_option("--budget", a->budget,
                 "ci (seconds), local (about an hour per claim on 2 "
                 "cores) or full (the paper's budget)")
      ->capture_default_str();
  sub.add_option("--seeds", a->options.seeds, "seeds per claim (default: each claim's own)")
      ->check(CLI::Range(1, 1000));
  sub.add_option("--jobs", a->jobs,
                 "runs at a time (default: SLURM_CPUS_PER_TASK inside Slurm, else 1)")
      ->check(CLI::Range(1, 4096));
  sub.add_option("--replicas", a->options.sweep.replicas,
                 "train up to K seeds of a run together in one process (gradscope sweep)");
  sub.add_option("--root", a->root, "results root: the runs and REPRODUCTIONS.md")
      ->capture_default_str();
  sub.add_option("--claims", a->claims,
                 "folder of claim files (default: ./claims, else the "
                 "source tree's)");
  sub.add_flag("--estimate", a->options.estimate,
               "print the estimated time of the runs still missing and run nothing");
  sub.add_flag("--evaluate", a->options.evaluate_only, "judge the runs that exist and run nothing");
  sub.add_flag("--list", a->list, "list the claims and the budgets they run at");
  sub.add_option("--shard", a->shard,
                 "run only shard i of K of every sweep (i/K); automatic in a Slurm array");
  sub.add_flag("--slurm-script", a->options.slurm_script,
               "print an sbatch job-array script that runs the claims' sweeps, and exit");
  sub.add_option("--tasks", a->options.slurm_tasks,
                 "--slurm-script: array tasks (default: the largest sweep's runs, at most 16)");
  sub.add_option("--cpus", a->options.slurm_cpus, "--slurm-script: CPUs per task")
      ->capture_default_str();
  return [a, &g] { return reproduce_action(*a, g); };
}

}  // namespace

Command reproduce_command() {
  return {"reproduce", "run published claims over seeds and judge each (claims/*.toml)", &define};
}

}  // namespace gradscope::cli
