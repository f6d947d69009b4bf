// Tasks of the emergence experiments (REFERENCES 3): abilities that appear abruptly in training.
// Each is a task family whose runs log continuous metrics and hidden-progress measures
// (probes/measures.h) and whose summary reports the phase changes of those metrics.
//
//   sparse_parity            x in {-1, 1}^n (task.n_bits), label = product of k fixed coordinates
//                            (task.k, drawn once from Rng(split_seed, "subsets")); class 1 when
//                            the product is +1. Real features [N, n].
//   multitask_sparse_parity  task.n_tasks subtasks, subtask i (0-based) drawn with probability
//                            proportional to (i + 1)^-a (task.zipf_exponent); each has its own k
//                            relevant bits. Features [N, T + n]: a one-hot subtask code, then the
//                            n bits; each split's SubtaskLabels hold each example's subtask.
//   induction                sequences of task.seq_len + 1 random tokens from task.vocab: the
//                            first half (floor((seq_len + 1) / 2) tokens) is drawn from a shuffled
//                            deck of the vocabulary (no token twice until all have appeared, so
//                            the earlier occurrence of a token is unique when the half is at most
//                            the vocabulary), every later chunk of task.segment_len tokens copies
//                            a random window of the first half. Inputs are tokens 0..L-1, targets
//                            tokens 1..L (next-token loss at every position);
//                            each split's InductionTargets mark the positions an induction head
//                            can predict.
//
// Training data: task.n_train fixed examples, or (n_train = 0) fresh samples at every step, drawn
// by TaskData::sample from the trainer's per-step stream. Test data: task.n_test fresh samples
// (per subtask for multitask_sparse_parity, so rare subtasks are measured as well as common ones),
// from Rng(split_seed, "test"); a fixed set never overlaps the stream of another split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/tasks/dataset.h"

namespace gradscope {

// The parity tasks' relevant input features of each subtask (TaskData::extra): one entry for
// sparse_parity; feature indices, i.e. after the subtask code for multitask_sparse_parity.
struct RelevantBits final : FamilyData {
  std::vector<std::vector<int32_t>> relevant;
  int64_t subtasks = 0;  // multitask: the subtasks (the code's width), else 0
};
// multitask_sparse_parity: the subtask of each example of a split (Dataset::extra).
struct SubtaskLabels final : FamilyData {
  std::vector<int32_t> groups;  // [N]
};
// Induction and text (Dataset::extra): for each position an induction head can predict, the key
// position just after the earlier occurrence of its token; -1 elsewhere.
struct InductionTargets final : FamilyData {
  std::vector<int32_t> prefix_target;  // [N, L]
};
// The prefix-matching probe reads at most this many of a split's sequences.
constexpr int64_t kPrefixMatchSequences = 256;

// The task.* keys of the emergence tasks (config/options.h: defaults and help in
// config/schema.cpp).
struct EmergenceTaskConfig {
  // Not the key's default: which of this file's families (task.name, set by emergence_options).
  std::string name = "sparse_parity";  // sparse_parity | multitask_sparse_parity | induction
  int64_t n_bits = option<int64_t>("task.n_bits");  // parity
  int64_t k = option<int64_t>("task.k");
  int64_t n_tasks = option<int64_t>("task.n_tasks");            // multitask: T subtasks
  double zipf_exponent = option<double>("task.zipf_exponent");  // multitask: P(i) ~ (i + 1)^-a
  int64_t vocab = option<int64_t>("task.vocab");                // induction
  int64_t seq_len = option<int64_t>("task.seq_len");
  int64_t segment_len = option<int64_t>("task.segment_len");
  int64_t n_train = option<int64_t>("task.n_train");  // fixed training examples (0: fresh)
  int64_t n_test = option<int64_t>("task.n_test");    // test examples (per subtask: multitask)
  uint64_t split_seed = option<uint64_t>("task.split_seed");
  bool operator==(const EmergenceTaskConfig&) const = default;
};
EmergenceTaskConfig emergence_options(const Config& config);

// Throws std::invalid_argument naming the key (task.k, task.n_tasks, ...) and what is valid.
void validate(const EmergenceTaskConfig& c);
TaskData make_emergence_task(const EmergenceTaskConfig& c);

}  // namespace gradscope
