// The measure registry: see measures.h.
#include "gradscope/probes/measures.h"

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
