// The training loop of `gradscope run`: an Experiment (run/experiment.h) trained step by step
// into its run directory. Its parts, each in a file of its own: the batches of each step
// (batches.h), the evaluation row of a log step (evaluation.h), the checkpoint policy
// (checkpoint_policy.h), the progress line and heartbeat (progress.h) and the summary
// (summary.h); the run directory's files are rundir/'s.
//
// Step s means "after s optimizer updates". Iteration s computes the gradient at step s, logs row
// s (if a log step), checkpoints step s (if due), then applies update s+1. A run resumed from
// checkpoint s drops rows >= s and repeats from there: the metrics are bit-identical to an
// uninterrupted run, because every random draw is a pure function of (seed, stream, step) and
// every kernel is deterministic whatever the thread count.
//
// A run ends at train.steps, or train.stop_after_generalized steps after generalized_step when
// that is set; a resume may extend a run to a larger train.steps (nothing else may change).
#pragma once

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/cuda/device.h"

namespace gradscope {

struct RunOptions {
  std::filesystem::path dir;   // the run directory
  bool resume = false;         // continue from the latest checkpoint in dir
  bool force = false;          // replace an existing run directory
  bool live = false;           // a live progress line (terminal) instead of plain lines
  std::string version_header;  // first comment lines of config.toml
  std::FILE* out = stdout;     // progress lines and the final line
  std::FILE* err = stderr;     // warnings and why the run stopped
};

// One run trained an iteration at a time: what run_experiment does, for a caller that steps
// several runs side by side (a replica group, run/replicas.h). advance() runs iteration s (the
// gradient, the log row, the checkpoint, update s + 1) and returns false once the run has ended
// (its last step, a non-finite loss, or a stop signal); finish() then writes the summary, releases
// the directory and returns the exit status. Destroying it unfinished releases the directory.
//
// queue() may come first: it queues iteration s's gradient on the device without waiting for it,
// so that a replica group's members all queue theirs before the group's one stacked step runs
// (cuda/replica_device.h); advance() then goes on from there.
class SteppedRun {
 public:
  virtual ~SteppedRun() = default;
  virtual void queue() = 0;
  virtual bool advance() = 0;
  virtual int finish() = 0;
};

// Whether SIGINT or SIGTERM came while a StopOnSignal was in scope.
bool stop_requested();

// Thrown by a long probe (probe.llc, probe.hessian) that saw stop_requested() in the middle of its
// estimate: the step's row is dropped, the run checkpoints at that step and stops, and a resume
// measures the step again.
struct ProbeInterrupted : std::runtime_error {
  ProbeInterrupted() : std::runtime_error("a probe was interrupted by a signal") {}
};

// While in scope, SIGINT and SIGTERM ask every run of this process to checkpoint and stop.
class StopOnSignal {
 public:
  StopOnSignal();
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  void (*previous_int_)(int), (*previous_term_)(int);
};

// The first comment line of a run's config.toml: "# gradscope <version> (git <rev>): ...".
std::string version_header(const std::string& version, const std::string& git_rev);

// Validates and builds the experiment, then trains it. Bad input throws ConfigError before the
// run directory is touched. Exit status: 0 completed, 1 diverged or failed, 130 interrupted
// (checkpoint written). `then` runs once the run has ended and let go of its directory, with its
// signal handlers still in place (gradscope run indexes the run there: a second signal then
// waits).
int run_experiment(const Config& config, const RunOptions& options,
                   const std::function<void()>& then = {});
// The exit status of a command (or a replica) that stopped on `e`: 2 bad input
// (std::invalid_argument, ConfigError among them), kRunBusyExit (3) a run another process trains,
// 1 anything else.
int exit_status_of(const std::exception& e);
// Validates and builds the experiment, takes its directory and starts (or resumes) it, ready for
// its first advance(). Throws as run_experiment does. `device`, off the cpu: the context to run
// on (a replica group's member) instead of one opened for the run.
std::unique_ptr<SteppedRun> start_run(const Config& config, const RunOptions& options,
                                      std::unique_ptr<DeviceContext> device = nullptr);

// The keys a resumed run may change: train.steps (to extend it) and the execution keys.
bool may_change_on_resume(const std::string& key);

// The config of a new run: `config` (an experiment file or text, read) with "key=value"
// overrides applied, validated. Throws ConfigError (a [sweep] section, a bad key or value).
Config experiment_config(Config config, const std::vector<std::string>& overrides,
                         const std::string& origin);
// The config to resume the run in `dir` with: its own, with overrides of the keys a resume may
// change. Throws ConfigError naming any other key.
Config resume_config(const std::filesystem::path& dir, const std::vector<std::string>& overrides);

}  // namespace gradscope
