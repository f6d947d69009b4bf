// Measures: the extra metric columns of a run beside the losses and accuracies. Three kinds:
//
//   split measures  read a split's per-prediction scores (probes/predictions.h); they run at
//                   every log step for the train split, then the test split, and their columns
//                   follow test_acc
//   model measures  read the model, its parameters and the task's data (a forward pass on the
//                   tape is allowed: the tape is reset before and after) at every log step; their
//                   columns follow the weight and gradient norms
//   probe measures  hold state over the run (ProbeMeasure): they measure at probe steps
//                   (probe.every or probe.per_decade, and the run's last step; NaN in the other
//                   rows), keep what they measured as .npy files in a folder of the run directory
//                   (written at every checkpoint and at the end, read back on resume) and may add
//                   sections to summary.json; their columns come last, in registry order
//
// A task family names the split and model measures it wants (TaskFamily::measures); a probe
// measure is switched on by its own bool key (probe.spectra, probe.fourier) for any family.
// A split or model measure appends (name, value) pairs; it may append nothing where the task
// lacks what it reads. A new measure is a function (or a ProbeMeasure class) in a probes/ file
// plus one line in probes/measure_registry.def; tests and plugins may add measures at run time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradscope/config/config.h"
#include "gradscope/nn/models.h"
#include "gradscope/probes/predictions.h"
#include "gradscope/tasks/dataset.h"

namespace gradscope {

using MetricValues = std::vector<std::pair<std::string, double>>;
// The value of `key` in a row; NaN when absent.
double metric_value(const MetricValues& row, const std::string& key);
// Files of a probe measure: (name under its folder, bytes).
using ProbeFiles = std::vector<std::pair<std::string, std::string>>;

using SplitMeasure = void (*)(const Predictions&, const Dataset&, const std::string& split,
                              MetricValues&);
template <class T>
using ModelMeasure = void (*)(Model<T>&, Tape<T>&, const TaskData&, MetricValues&);

// What a probe may read of the run's optimizer when it measures: Adam's second moments v in the
// parameter store's layout (host memory; empty for SGD) and the optimizer steps taken.
template <class T>
struct OptimizerMoments {
  std::span<const T> second_moments;
  int64_t steps = 0;
};

// A probe measure's state over one run.
template <class T>
class ProbeMeasure {
 public:
  virtual ~ProbeMeasure() = default;
  // The column names, in the order measure() returns values.
  virtual std::vector<std::string> metric_names() const = 0;
  // Measures at `step` from the host copies of the parameters (a forward pass on `host`, the
  // host tape, is allowed), keeps a row and returns the column values.
  virtual std::vector<double> measure(int64_t step, ParamStore<T>& params, Tape<T>& host) = 0;
  // The files to write into the measure's folder now: every row measured so far, or (a measure
  // whose files never change once written, such as the inside view's frames) those not yet
  // handed out. Names may hold one subfolder ("1000/frame.json").
  virtual ProbeFiles files() = 0;
  // Loads the rows of earlier files (name -> bytes) with steps below keep_before (a resume).
  virtual void restore(const std::map<std::string, std::string>& files, int64_t keep_before) = 0;
  // Sections for summary.json (name -> value) from the run's logged rows and its memorized_step;
  // none by default.
  virtual void summarize(std::span<const MetricValues> rows, std::optional<int64_t> memorized_step,
                         nlohmann::ordered_json& sections) const;
  // A measure with no columns may keep its own schedule: it measures wherever due() says (the
  // run's last step, `end`, included), outside the log rows, so that metrics.jsonl is the same
  // with it and without it. The others measure at the probe steps.
  virtual bool own_schedule() const { return false; }
  virtual bool due(int64_t /*step*/, bool end) const { return end; }
  // Given once the run's optimizer exists: `moments` reads its state at the time of the call.
  // Ignored by default.
  virtual void see_optimizer(std::function<OptimizerMoments<T>()> moments);
};

// Builds a probe measure for a run: the model, the resolved config and the task's data. Throws
// std::invalid_argument naming the key on input it cannot probe.
template <class T>
using ProbeFactory = std::unique_ptr<ProbeMeasure<T>> (*)(Model<T>&, const Config&,
                                                          const TaskData&);

struct Measure {
  std::string name;
  SplitMeasure split = nullptr;               // a split measure, or
  ModelMeasure<float> model_float = nullptr;  // a model measure, in both precisions, or
  ModelMeasure<double> model_double = nullptr;
  ProbeFactory<float> probe_float = nullptr;  // a probe measure, in both precisions:
  ProbeFactory<double> probe_double = nullptr;
  std::string key{};     // its bool config key (on when true)
  std::string folder{};  // its files' folder in the run directory
  // Checks the config's keys the probe reads (run for every config, on or off); throws
  // ConfigError naming the key. May be null.
  void (*validate)(const Config&) = nullptr;
  // The metric columns it may log, as patterns (column_matches): what a claim file
  // (reproduce/claims.h) may name is checked against them before anything runs.
  std::vector<std::string> columns{};

  template <class T>
  ModelMeasure<T> model() const {
    return std::get<ModelMeasure<T>>(std::tuple(model_float, model_double));
  }
  template <class T>
  ProbeFactory<T> probe() const {
    return std::get<ProbeFactory<T>>(std::tuple(probe_float, probe_double));
  }
  bool is_probe() const { return probe_float != nullptr; }
};

// Every registered measure: the built-in ones (measure_registry.def), then those added later.
const std::vector<Measure>& measures();
// The measure named `name`. Throws std::invalid_argument listing the valid names.
const Measure& find_measure(const std::string& name);
// Adds a measure (its name must be new). Not thread-safe: call before any run starts.
void register_measure(const Measure& measure);

// Whether `column` matches `pattern`: '*' stands for any text (none included), and "<split>" for
// "train" or "test".
bool column_matches(const std::string& pattern, const std::string& column);
// The measure with its column patterns set.
Measure with_columns(Measure m, std::vector<std::string> columns);

// The entry of a model measure written as one function template f<T>.
#define GRADSCOPE_MODEL_MEASURE(name, f) \
  Measure {                              \
    name, nullptr, &f<float>, &f<double> \
  }

// The factory of a probe measure class P<T> constructed from (Model<T>&, const Config&,
// const TaskData&).
template <template <class> class P, class T>
std::unique_ptr<ProbeMeasure<T>> make_probe(Model<T>& model, const Config& c, const TaskData& d) {
  return std::make_unique<P<T>>(model, c, d);
}
// The entry of a probe measure class P<T>, switched on by bool `key`, files in `folder`.
template <template <class> class P>
Measure probe_measure(std::string name, std::string key, std::string folder,
                      void (*validate)(const Config&) = nullptr) {
  Measure m;
  m.name = std::move(name);
  m.probe_float = &make_probe<P, float>;
  m.probe_double = &make_probe<P, double>;
  m.key = std::move(key);
  m.folder = std::move(folder);
  m.validate = validate;
  return m;
}

}  // namespace gradscope
