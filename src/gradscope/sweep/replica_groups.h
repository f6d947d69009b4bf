// Replica groups of a sweep (`gradscope sweep --replicas K`): the sweep's runs whose resolved
// configs differ only in replica-safe keys (KeySpec::replica_safe; optim.weight_norm only between
// nonzero values) are trained K at a time in one process (run/replicas.h). Groups are formed over
// the whole expansion in its order, before sharding, so --replicas never changes which runs a
// sweep holds, their ids or their directories, and a Slurm array task trains whole groups.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gradscope/sweep/sweep_spec.h"

namespace gradscope {

// What two runs of one group share: the config's id with every replica-safe key at its default
// (a nonzero optim.weight_norm stands as 1).
std::string replica_group_key(const Config& config);

// The runs' indices in groups of at most k: runs with the same group key in expansion order, each
// group led by its first run; groups ordered by their first run. k = 1: one group per run.
std::vector<std::vector<size_t>> replica_groups(const std::vector<SweepRun>& runs, int64_t k);

struct ReplicaGroupOptions {
  int threads = 1;             // the group's threads (--threads)
  std::string device;          // --device of every run ("": the config's device key)
  std::string version_header;  // the comment lines a run's config.toml starts with
};

// The child process of a sweep with --replicas (`gradscope replicas SWEEP_DIR ID...`): trains the
// listed runs of the sweep in sweep_dir as one group, each from configs/<id>.toml into <id>/
// (resumed where an interrupted group left checkpoints), its lines in logs/<id>.log, each added to
// the results index as it ends. Returns 0 when every run completed, 130 when interrupted, 1
// otherwise. Throws ConfigError naming an id whose config the sweep directory does not hold.
int run_replica_group(const std::filesystem::path& sweep_dir, const std::vector<std::string>& ids,
                      const ReplicaGroupOptions& options);

}  // namespace gradscope
