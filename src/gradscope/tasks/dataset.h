// Dataset: the examples of one split, as integer inputs and class targets.
// Shape legend: N = examples, L = input length (3 tokens [a, b, '='] for sequence models, 2
// operand ids [a, b] for MLPs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gradscope {

struct Dataset {
  int64_t length = 0;            // L: ids per example
  std::vector<int32_t> inputs;   // [N, L] token or operand ids
  std::vector<int32_t> targets;  // [N] class ids
  int64_t size() const { return static_cast<int64_t>(targets.size()); }
};

// A task's train and test splits and the sizes a model needs to read them.
struct TaskData {
  Dataset train, test;
  int64_t vocab = 0;          // distinct input ids (tokens include '=')
  int64_t num_classes = 0;    // distinct targets
  int64_t equals_token = -1;  // id of '=' in token inputs (-1 for operand inputs)
  std::string description;    // one line for logs, e.g. "a+b mod 113: 3830 train / 8939 test"
};

}  // namespace gradscope
