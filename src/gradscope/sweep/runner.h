// Running a sweep: each run is a child process (`gradscope --threads T run CONFIG --out DIR`, or
// `run --resume DIR` for one a crash or signal left with checkpoints), or with --replicas K each
// replica group of runs is one (`gradscope --threads T replicas SWEEP_DIR ID...`,
// sweep/replica_groups.h), at most `jobs` at a time,
// with a live count of done / running / failed and an ETA. Runs already complete (rundir/
// run_state.h; config hash equal to the run's id, or the same point extended to more steps) are
// skipped, and runs that another process trains (a live heartbeat) are left alone, so rerunning
// a sweep resumes it. A failed run is recorded (its log's last line) and does not stop the others.
//
// Layout under the runs root (rundir/paths.h): <root>/<sweep>/ holds the manifest (spec and run
// ids, in expansion order), configs/<id>.toml, <id>/ (the run directory) and logs/<id>.log; every
// run adds itself to the results index of <root> when it ends.
//
// Sharding: run i of the expansion belongs to shard i mod K (with --replicas, group i). Inside a
// Slurm job array the shard is SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT
// (an array whose ids are not MIN..MIN+COUNT-1 is refused), and jobs default to
// SLURM_CPUS_PER_TASK.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gradscope/sweep/sweep_spec.h"

namespace gradscope {

struct SweepOptions {
  std::filesystem::path root = "runs";
  int jobs = 1;          // concurrent processes (runs, or replica groups)
  int threads = 1;       // threads per process
  int64_t replicas = 1;  // runs per replica group (sweep/replica_groups.h); 1: none
  std::string device;    // --device of every run ("": the experiment's device key)
  int64_t shard = 0, shards = 1;
  bool live = false;       // a live status line (terminal)
  std::string executable;  // the gradscope binary to run children with
};

struct Shard {
  int64_t index = 0, count = 1;
  bool from_slurm = false;
};
// "i/K" (0 <= i < K). Throws ConfigError.
Shard parse_shard(const std::string& text);
// The shard from SLURM_ARRAY_TASK_{ID,MIN,MAX,COUNT}, if set. Throws ConfigError with how to
// submit when the array's ids do not map onto 0..COUNT-1.
bool shard_from_slurm(Shard& shard);
// The shard a command runs: `given` ("i/K") when set, else the Slurm array's, else 0/1. Throws
// ConfigError.
Shard shard_of(const std::string& given);
// Runs at a time: `given` when > 0, else SLURM_CPUS_PER_TASK inside Slurm, else 1.
int jobs_of(int given);

// Runs this process's shard of the sweep. Returns 0 when every run of the shard completed (or
// was complete), 1 when some failed, 130 when interrupted.
int run_sweep(const Config& base, const SweepSpec& spec, const SweepOptions& options);

// Whether run_dir holds a run of the sweep point with this id and config: its config's id is the
// point's, or it is the point's run extended to more steps (gradscope run --resume DIR
// train.steps=M).
bool holds_sweep_point(const std::filesystem::path& run_dir, const std::string& id,
                       const Config& config);

// The shape of a sweep's Slurm job array.
struct SlurmArray {
  size_t runs = 0;            // the sweep's runs
  size_t groups = 0;          // its replica groups (= runs without --replicas)
  int64_t tasks = 1;          // array tasks
  int64_t cpus = 2;           // CPUs per task
  int64_t replicas = 1;       // --replicas
  std::string root = "runs";  // the runs root the tasks write (made absolute in the script)
  std::string device;         // --device for every task ("": the experiment's)
};

// `text` as one bash word: in single quotes, each ' inside written '\''.
std::string shell_quote(const std::string& text);
// `text` as one #SBATCH directive value: in double quotes (sbatch's own parsing) where it holds a
// space, a quote, a backslash or a # (a comment otherwise), each " and \ escaped.
std::string sbatch_quote(const std::string& text);
// A literal path inside an --output pattern: each % doubled (sbatch reads %A, %a, ... there).
std::string sbatch_percent(const std::string& text);

// A ready sbatch script for the sweep as a job array: without replicas each task runs its runs
// `cpus` at a time, one thread each; with them, its groups one at a time on `cpus` threads.
std::string slurm_script(const std::filesystem::path& experiment,
                         const std::vector<std::string>& arguments, const Config& base,
                         const SlurmArray& array, const std::string& executable);

}  // namespace gradscope
