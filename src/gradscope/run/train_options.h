// The train.* options: the training loop's budget, batches, logging and checkpoints, and the
// thresholds of the summary's phase detection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gradscope/config/config.h"

namespace gradscope {

// train.checkpoint_steps: which checkpoints are kept for good (for analysis), beyond the newest
// periodic one that a resume needs and the last.
struct CheckpointKeep {
  std::string kind = "log";    // log | every | list
  int64_t every = 0;           // kind every: multiples of this
  std::vector<int64_t> steps;  // kind list
  // log: 0 and {1, 2, 5} x 10^k for k >= 2; every: multiples of N (0 too); list: those steps.
  bool keeps(int64_t step) const;
  bool operator==(const CheckpointKeep&) const = default;
};

struct TrainConfig {
  int64_t steps = 20000;
  int64_t batch_size = 0;               // 0: full batch
  std::string batch_order = "sample";   // sample | epoch (batches.h)
  int64_t log_every = 100;              // evaluate and log every this many steps (and the last)
  int64_t checkpoint_every = 1000;      // a resumable checkpoint at least this often (0: off)
  std::string loss = "cross_entropy";   // cross_entropy | hinge
  std::string loss_reduction = "mean";  // mean | mean_over_classes (PAIR's -mean(onehot*logp))
  double memorize_threshold = 0.99;     // memorized_step: first train_acc >= this
  double generalize_threshold = 0.99;   // generalized_step: first test_acc >= this
  double regime_threshold = 0.9;        // Omnigrok regime classification threshold
  int64_t regime_gap = 1000;            // G: grokking when test lags train by more than this
  double phase_min_change = 0.1;        // phase changes: smallest change that counts as one
  int64_t stop_after_generalized = 0;   // stop this many steps after generalized_step (0: off)
  CheckpointKeep checkpoint_steps;

  // Throws ConfigError naming the train.* key and what is valid.
  void validate() const;
  bool operator==(const TrainConfig&) const = default;
};

TrainConfig train_options(const Config& config);

// train.checkpoint_steps from its value ("log", "every:N" or a list). Throws ConfigError.
CheckpointKeep checkpoint_keep(const ConfigValue& value);

}  // namespace gradscope
