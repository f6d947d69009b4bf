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

namespace {
// Whether column[c..] matches pattern[p..] ('*': any text).
bool glob_match(const std::string& pattern, size_t p, const std::string& column, size_t c) {
  for (; p < pattern.size(); ++p, ++c) {
    if (pattern[p] == '*') {
      for (size_t k = c; k <= column.size(); ++k)
        if (glob_match(pattern, p + 1, column, k)) return true;
      return false;
    }
    if (c >= column.size() || pattern[p] != column[c]) return false;
  }
  return c == column.size();
}
}  // namespace

bool column_matches(const std::string& pattern, const std::string& column) {
  const std::string split = "<split>";
  const size_t at = pattern.find(split);
  if (at == std::string::npos) return glob_match(pattern, 0, column, 0);
  for (const char* s : {"train", "test"})
    if (column_matches(pattern.substr(0, at) + s + pattern.substr(at + split.size()), column))
      return true;
  return false;
}

Measure with_columns(Measure m, std::vector<std::string> columns) {
  m.columns = std::move(columns);
  return m;
}

}  // namespace gradscope
