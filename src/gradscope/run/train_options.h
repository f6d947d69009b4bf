// The train.* options: the training loop's budget, batches, logging and checkpoints, and the
// thresholds of the summary's phase detection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/probes/objective.h"

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

// train.checkpoint_steps from its value ("log", "every:N" or a list). Throws ConfigError.
CheckpointKeep checkpoint_keep(const ConfigValue& value);

// The enum-valued train.* keys' values, in the schema's order (train.loss: Loss, objective.h).
enum class BatchOrder { sample, epoch };
enum class LossReduction { mean, mean_over_classes };

// The train.* keys (config/options.h: defaults, valid values and help in config/schema.cpp).
struct TrainConfig {
  int64_t steps = option<int64_t>("train.steps");
  int64_t batch_size = option<int64_t>("train.batch_size");          // 0: full batch
  BatchOrder batch_order = option<BatchOrder>("train.batch_order");  // batches.h
  int64_t log_every = option<int64_t>("train.log_every");
  int64_t checkpoint_every = option<int64_t>("train.checkpoint_every");
  Loss loss = option<Loss>("train.loss");
  LossReduction loss_reduction = option<LossReduction>("train.loss_reduction");
  SoftmaxNumerics softmax_numerics = option<SoftmaxNumerics>("train.softmax_numerics");
  double memorize_threshold = option<double>("train.memorize_threshold");
  double generalize_threshold = option<double>("train.generalize_threshold");
  double regime_threshold = option<double>("train.regime_threshold");
  int64_t regime_gap = option<int64_t>("train.regime_gap");
  double phase_min_change = option<double>("train.phase_min_change");
  int64_t stop_after_generalized = option<int64_t>("train.stop_after_generalized");
  bool flush_subnormals = option<bool>("train.flush_subnormals");  // tensor/threads.h
  // Parsed from its text or list (checkpoint_keep above).
  CheckpointKeep checkpoint_steps = checkpoint_keep(option_value("train.checkpoint_steps"));
  // The keys' ranges are the schema's (config/schema.cpp), checked when a value is set.
  bool operator==(const TrainConfig&) const = default;
};

TrainConfig train_options(const Config& config);

}  // namespace gradscope
