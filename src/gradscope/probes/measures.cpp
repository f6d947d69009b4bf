// The measure registry: see measures.h.
#include "gradscope/probes/measures.h"

#include <cmath>
#include <stdexcept>

#include "gradscope/tensor/registry.h"

namespace gradscope {

#define GRADSCOPE_MEASURE(f) Measure f##_measure();
#include "gradscope/probes/measure_registry.def"
#undef GRADSCOPE_MEASURE

namespace {
Registry<Measure>& registry() {
  static Registry<Measure> r({
#define GRADSCOPE_MEASURE(f) f##_measure(),
#include "gradscope/probes/measure_registry.def"
#undef GRADSCOPE_MEASURE
  });
  return r;
}
}  // namespace

double metric_value(const MetricValues& row, const std::string& key) {
  for (const auto& [k, v] : row)
    if (k == key) return v;
  return NAN;
}

template <class T>
void ProbeMeasure<T>::summarize(std::span<const MetricValues>, std::optional<int64_t>,
                                nlohmann::ordered_json&) const {}

template <class T>
void ProbeMeasure<T>::see_optimizer(std::function<OptimizerMoments<T>()>) {}

template class ProbeMeasure<float>;
template class ProbeMeasure<double>;

const std::vector<Measure>& measures() {
  return registry().all();
}

const Measure& find_measure(const std::string& name) {
  if (const Measure* m = registry().find(name)) return *m;
  throw std::invalid_argument("no measure named \"" + name + "\" (valid: " + registry().names() +
                              ")");
}

void register_measure(const Measure& measure) {
  registry().add(measure);
}

}  // namespace gradscope
