// Reproductions: the claims of the claim files (reproduce/claims.h) run at one budget over seeds
// and judged. Every run a selected claim reads at the budget is one sweep (sweep/runner.h) under
// the results root, named <paper>-<label>-<budget>-<8 hex of its config and the claim file's
// seed count> (--seeds N trains the first N seeds in that folder), so a
// rerun skips finished runs, resumes interrupted ones and indexes every run (gradscope ls). Each
// claim is then evaluated on every seed: its quantity from the run directories, the rule on it,
// and the verdict over seeds (holds when the rule holds on at least `share` of them; does not
// hold; incomplete when a run it reads has not finished (no summary, or an interrupted one); not
// run yet when none has a summary (--evaluate before the runs); not run at this budget when the
// claim has no seeds there; unreadable when a finished run's summary lacks a field the quantity
// names). The selected claims' verdicts are printed as a table; REPRODUCTIONS.md in the results
// root gets every claim at the budget (the others judged on the runs earlier commands left), with
// the published values, the commands, the machine that judged and the revisions that made the
// runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gradscope/reproduce/claims.h"
#include "gradscope/sweep/runner.h"

namespace gradscope {

// The results root when --root is not given.
inline constexpr const char* kDefaultReproduceRoot = "runs/reproduce";

struct ReproduceOptions {
  std::filesystem::path claims = "claims";  // the folder of claim files
  bool claims_given = false;                // named by --claims (the commands written say so)
  std::vector<std::string> targets;         // claim ids ("paper.id") or papers; empty: all
  Budget budget = Budget::local;
  int64_t seeds = 0;           // seeds per claim (0: each claim's own at the budget)
  SweepOptions sweep;          // root, jobs, threads, replicas, device, executable
  bool estimate = false;       // print the estimated time of what is missing and run nothing
  bool evaluate_only = false;  // judge the runs that exist, run nothing
  std::string revision;        // "gradscope 0.1.0 (git abc123)"
  // --slurm-script: print an sbatch job array of `slurm_tasks` tasks (0: the largest sweep's
  // runs, at most 16) on `slurm_cpus` CPUs each instead of running; each task runs its shard of
  // every sweep.
  bool slurm_script = false;
  int64_t slurm_tasks = 0, slurm_cpus = 2;
  std::string command_targets;  // the targets as given ("--all" or the names), for the script
};

// Runs what the selected claims miss at the budget and judges them; with sweep.shards > 1 (a
// Slurm array task) runs only its shard of each sweep and judges nothing (the judging is a later
// `gradscope reproduce ... --evaluate`). Returns 0 when every claim
// run at the budget holds, 1 when one does not hold, is incomplete or not run yet, 130 when
// interrupted.
// Bad input (a claim file, a target, an option) throws ConfigError before anything runs.
int reproduce(const ReproduceOptions& options);

}  // namespace gradscope
