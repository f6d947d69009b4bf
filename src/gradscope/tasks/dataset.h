// Dataset: the examples of one split. Classification tasks give integer inputs and class
// targets; regression tasks (teachers, matrix completion) give real inputs and/or real targets.
// Shape legend: N = examples, L = input length (3 tokens [a, b, '='] for sequence models, 2
// operand ids [a, b] for MLPs, 1 entry id for matrix completion), F = real input features,
// Y = real outputs, P = class targets per example (1, or L for next-token tasks).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gradscope {

struct Dataset {
  int64_t length = 0;                  // L: ids per example (0: none)
  std::vector<int32_t> inputs;         // [N, L] token, operand or entry ids
  std::vector<int32_t> targets;        // [N, P] class ids (classification)
  int64_t targets_per_example = 1;     // P: 1, or L (a target at every position)
  std::vector<int32_t> groups;         // [N] subtask of each example (multitask tasks; else empty)
  std::vector<int32_t> prefix_target;  // [N, L] induction: for a position an induction head can
                                       // predict, the key position just after the earlier
                                       // occurrence of its token; -1 elsewhere (else empty)
  int64_t features = 0;                // F: real inputs per example (0: none)
  std::vector<double> x;               // [N, F]
  int64_t outputs = 0;    // Y: real targets per example (regression; 0: classification)
  std::vector<double> y;  // [N, Y]
  // Regression: predictions of reference estimators on this split, each [N, Y] like y
  // (in-context regression: ridge, dmmse, least_squares, zero). Measures compare the model with
  // them; the first is the one a prediction "matches" within match_tolerance.
  struct Baseline {
    std::string name;
    std::vector<double> values;  // [N, Y]
  };
  std::vector<Baseline> baselines;
  double match_tolerance = 0;
  int64_t size() const {
    return outputs > 0 ? static_cast<int64_t>(y.size()) / outputs
                       : static_cast<int64_t>(targets.size()) / targets_per_example;
  }
};

// What a regression task knows about its target, for theory and for mode-strength metrics.
// Linear teachers are y = x W* with W* [in_dim, out_dim] = sum_i s_i v_i u_i^T.
struct Teacher {
  std::vector<double> values;  // w* (diagonal_teacher) or singular values s_i (as given)
  int64_t in_dim = 0, out_dim = 0;
  std::vector<double> in_vectors;   // [k, in_dim]  v_i (empty: not a linear teacher)
  std::vector<double> out_vectors;  // [k, out_dim] u_i
};

// A task's train and test splits and the sizes a model needs to read them.
struct TaskData {
  Dataset train, test;
  int64_t vocab = 0;          // distinct input ids (tokens include '='; entries n*n)
  int64_t num_classes = 0;    // distinct targets (classification)
  int64_t equals_token = -1;  // id of '=' in token inputs (-1 for operand inputs)
  bool regression = false;    // loss 1/2 mean over examples of ||y - f(x)||^2
  Teacher teacher;            // regression teachers only
  // Parity tasks: the relevant input features of each subtask (one entry for sparse_parity;
  // feature indices, i.e. after the subtask code for multitask_sparse_parity).
  std::vector<std::vector<int32_t>> relevant;
  int64_t groups = 0;  // subtasks (multitask), else 0
  // Fresh training samples (tasks trained on a stream): n examples drawn from the given stream
  // seed and step into `out`, whose buffers are reused from step to step (no allocation once
  // they have grown); empty for fixed training sets.
  std::function<void(uint64_t seed, uint64_t step, int64_t n, Dataset& out)> sample;
  // Sequences of repeated random tokens, for the prefix-matching probe of induction heads on a
  // task whose own splits do not mark predictable positions (text); else empty.
  Dataset repeats;
  std::string description;  // one line for logs, e.g. "a+b mod 113: 3830 train / 8939 test"
};

}  // namespace gradscope
