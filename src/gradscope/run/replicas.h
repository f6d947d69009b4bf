// A replica group: runs that differ only in replica-safe keys (config/schema.cpp: the seed, the
// split seed, learning rate, weight decay, ...) trained side by side in one process, each still
// an ordinary run: its own directory, config, metrics, checkpoints, summary and index row, with
// its own progress lines in its own log. The group advances in lockstep, one iteration of every
// live replica per round; on the cpu a round spreads the replicas over the process's threads,
// each replica's kernels running on the one thread that steps it, so every replica computes
// exactly what `gradscope run` of its config computes (the kernels are thread-count invariant,
// tensor/threads.h). A replica that ends (its last step, stop_after_generalized, divergence, an
// error) is finished and dropped while the others go on. Off the cpu (cuda, emulated) a round is
// one stacked step on the group's device (cuda/replica_device.h): every replica queues its
// gradient, the group's step runs each kernel once over the replica dimension, then every
// replica logs, checkpoints and prepares its update.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/run/trainer.h"

namespace gradscope {

struct ReplicaRun {
  Config config;       // validated and resolved (experiment_config or resume_config)
  RunOptions options;  // its directory, resume or force, and where its lines go
};

// Trains the group on up to `threads` threads and returns each replica's exit status as `gradscope
// run` would give it (0 completed, 1 diverged or failed, 2 bad input, 130 interrupted); a failure
// writes its "gradscope: error: ..." line to the replica's err. `ended(i, status)` is called on
// the calling thread as each replica ends (the sweep adds it to the results index there). SIGINT
// and SIGTERM stop every replica at its next iteration with a checkpoint. Off the cpu `stacked`,
// where given, receives what the group's stacked step was (describe() in replica_device.h).
std::vector<int> run_replicas(const std::vector<ReplicaRun>& group, int threads,
                              const std::function<void(size_t, int)>& ended = {},
                              std::string* stacked = nullptr);

}  // namespace gradscope
