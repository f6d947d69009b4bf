// Dataset: the examples of one split. Classification tasks give integer inputs and class
// targets; regression tasks (teachers, matrix completion) give real inputs and/or real targets.
// Shape legend: N = examples, L = input length (3 tokens [a, b, '='] for sequence models, 2
// operand ids [a, b] for MLPs, 1 entry id for matrix completion), F = real input features,
// Y = real outputs, P = class targets per example (1, or L for next-token tasks).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gradscope {

// What one task family adds to its splits or its task for its own measures and readers (a
// multitask split's subtask labels, induction targets, reference predictions, a teacher): the
// family derives a struct from FamilyData (in its own header) and stores it in an `extra` slot;
// readers ask for it by type.
struct FamilyData {
  virtual ~FamilyData() = default;
};
// The family data of type S in `slot`; nullptr when absent or another family's.
template <class S>
const S* family_data(const std::shared_ptr<FamilyData>& slot) {
  return dynamic_cast<const S*>(slot.get());
}
// The family data of type S in `slot`, made there when absent (for the family's builders).
template <class S>
S& own_family_data(std::shared_ptr<FamilyData>& slot) {
  if (S* s = dynamic_cast<S*>(slot.get())) return *s;
  auto made = std::make_shared<S>();
  S& ref = *made;
  slot = std::move(made);
  return ref;
}

struct Dataset {
  int64_t length = 0;               // L: ids per example (0: none)
  std::vector<int32_t> inputs;      // [N, L] token, operand or entry ids
  std::vector<int32_t> targets;     // [N, P] class ids (classification)
  int64_t targets_per_example = 1;  // P: 1, or L (a target at every position)
  int64_t features = 0;             // F: real inputs per example (0: none)
  std::vector<double> x;            // [N, F]
  int64_t outputs = 0;              // Y: real targets per example (regression; 0: classification)
  std::vector<double> y;            // [N, Y]
  // The family's per-example data (subtask labels, induction targets, baselines); null: none.
  std::shared_ptr<FamilyData> extra;
  int64_t size() const {
    return outputs > 0 ? static_cast<int64_t>(y.size()) / outputs
                       : static_cast<int64_t>(targets.size()) / targets_per_example;
  }
};

// A task's train and test splits and the sizes a model needs to read them.
struct TaskData {
  Dataset train, test;
  int64_t vocab = 0;          // distinct input ids (tokens include '='; entries n*n)
  int64_t num_classes = 0;    // distinct targets (classification)
  int64_t equals_token = -1;  // id of '=' in token inputs (-1 for operand inputs)
  bool regression = false;    // loss 1/2 mean over examples of ||y - f(x)||^2
  // Fresh training samples (tasks trained on a stream): n examples drawn from the given stream
  // seed and step into `out`, whose buffers are reused from step to step (no allocation once
  // they have grown); empty for fixed training sets.
  std::function<void(uint64_t seed, uint64_t step, int64_t n, Dataset& out)> sample;
  // The family's task-wide data (a teacher, the relevant bits, probe sequences); null: none.
  std::shared_ptr<FamilyData> extra;
  std::string description;  // one line for logs, e.g. "a+b mod 113: 3830 train / 8939 test"
};

}  // namespace gradscope
