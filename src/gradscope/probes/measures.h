// Measures: the extra metric columns that a task family names (TaskFamily::measures), computed
// at every log step beside the losses and accuracies. Two kinds:
//
//   split measures  read a split's per-prediction scores (probes/predictions.h); they run for
//                   the train split, then the test split, and their columns follow test_acc
//   model measures  read the model, its parameters and the task's data (a forward pass on the
//                   tape is allowed: the tape is reset before and after); their columns follow
//                   the weight and gradient norms
//
// A measure appends (name, value) pairs; it may append nothing where the task lacks what it
// reads. A new measure is a function in a probes/ file plus one line in
// probes/measure_registry.def; tests and plugins may add measures at run time.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "gradscope/nn/models.h"
#include "gradscope/probes/predictions.h"
#include "gradscope/tasks/dataset.h"

namespace gradscope {

using MetricValues = std::vector<std::pair<std::string, double>>;

using SplitMeasure = void (*)(const Predictions&, const Dataset&, const std::string& split,
                              MetricValues&);
template <class T>
using ModelMeasure = void (*)(Model<T>&, Tape<T>&, const TaskData&, MetricValues&);

struct Measure {
  std::string name;
  SplitMeasure split = nullptr;               // a split measure, or
  ModelMeasure<float> model_float = nullptr;  // a model measure, in both precisions
  ModelMeasure<double> model_double = nullptr;

  template <class T>
  ModelMeasure<T> model() const {
    if constexpr (std::is_same_v<T, float>) {
      return model_float;
    } else {
      return model_double;
    }
  }
};

// Every registered measure: the built-in ones (measure_registry.def), then those added later.
const std::vector<Measure>& measures();
// The measure named `name`. Throws std::invalid_argument listing the valid names.
const Measure& find_measure(const std::string& name);
// Adds a measure (its name must be new). Not thread-safe: call before any run starts.
void register_measure(const Measure& measure);

// The entry of a model measure written as one function template f<T>.
#define GRADSCOPE_MODEL_MEASURE(name, f) \
  Measure {                              \
    name, nullptr, &f<float>, &f<double> \
  }

}  // namespace gradscope
