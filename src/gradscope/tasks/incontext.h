// In-context linear regression (Garg et al. 2022; Raventós et al. 2023; REFERENCES 3), the task
// family "incontext_regression": a sequence (x_1, y_1, ..., x_K, y_K) of one task w, with
// x_i ~ N(0, I_d), y_i = w . x_i + eps_i, eps_i ~ N(0, sigma^2) (task.dim = d, task.n_context = K,
// task.noise = sigma^2). The model predicts y_i at x_i's position from the pairs before it; the
// loss is the squared error over every query.
//
//   tasks     task.n_pool = M >= 1: a pool of M tasks w_1..w_M ~ N(0, I_d), drawn once from
//             Rng(split_seed, "pool"), each sequence's task uniform over the pool; M = 0: a fresh
//             w ~ N(0, I_d) for every sequence (infinite task diversity).
//   tokens    2K positions of width d + 1 (Raventós et al.'s layout): x_i at position 2i as
//             [0, x_i], y_i at position 2i + 1 as [y_i, 0, ..., 0]. Inputs x [N, 2K(d+1)] (the
//             tokens flattened), targets y [N, K].
//   training  fresh sequences at every step from the run's batch stream (TaskData::sample).
//   splits    "train": task.n_test sequences of pool tasks (the pretraining distribution);
//             "test": task.n_test sequences of new tasks w ~ N(0, I_d). With M = 0 both are new
//             tasks. Fixed, from Rng(split_seed, "train_eval") and Rng(split_seed, "test").
//   baselines every split carries (Baselines, its Dataset::extra) the exact predictions of
//             ridge (lambda = sigma^2), dmmse (M >= 1), least squares and the zero predictor
//             (tasks/incontext_estimators.h), which the incontext measure (probes/incontext.h)
//             compares the model with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/tasks/dataset.h"

namespace gradscope {

// A regression split's predictions of reference estimators (Dataset::extra), each [N, Y] like
// its y; the first is the one a prediction "matches" within match_tolerance.
struct Baselines final : FamilyData {
  struct Baseline {
    std::string name;
    std::vector<double> values;  // [N, Y]
  };
  std::vector<Baseline> baselines;
  double match_tolerance = 0;
};

// The task.* keys of in-context regression (config/options.h: defaults and help in
// config/schema.cpp).
struct InContextTaskConfig {
  int64_t dim = option<int64_t>("task.dim");  // d (>= 1; the schema default 0 is refused)
  int64_t n_context = option<int64_t>("task.n_context");  // K pairs per sequence
  double noise = option<double>("task.noise");            // sigma^2
  int64_t n_pool = option<int64_t>("task.n_pool");        // M (0: a fresh task per sequence)
  int64_t n_test = option<int64_t>("task.n_test");        // sequences per evaluation split
  double match_tolerance = option<double>("task.match_tolerance");  // |f - ridge| that matches
  uint64_t split_seed = option<uint64_t>("task.split_seed");
  bool operator==(const InContextTaskConfig&) const = default;
};
InContextTaskConfig incontext_options(const Config& config);

// Throws std::invalid_argument naming the key (task.dim, task.n_pool, ...) and what is valid.
void validate(const InContextTaskConfig& c);
TaskData make_incontext_task(const InContextTaskConfig& c);

}  // namespace gradscope
