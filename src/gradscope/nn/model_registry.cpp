// The model registry: see model_registry.h.
#include "gradscope/nn/model_registry.h"

#include <stdexcept>

#include "gradscope/tensor/registry.h"

namespace gradscope {

#define GRADSCOPE_MODEL(f) ModelFamily f##_model();
#include "gradscope/nn/model_registry.def"
#undef GRADSCOPE_MODEL

namespace {
Registry<ModelFamily>& registry() {
  static Registry<ModelFamily> r({
#define GRADSCOPE_MODEL(f) f##_model(),
#include "gradscope/nn/model_registry.def"
#undef GRADSCOPE_MODEL
  });
  return r;
}
}  // namespace

const std::vector<ModelFamily>& model_families() {
  return registry().all();
}

const ModelFamily& find_model_family(const std::string& type) {
  if (const ModelFamily* f = registry().find(type)) return *f;
  throw std::invalid_argument("model.type = \"" + type + "\" (valid: " + registry().names() + ")");
}

void register_model_family(const ModelFamily& family) {
  registry().add(family);
}

template <class T>
std::unique_ptr<Model<T>> make_model(const ModelConfig& c, const ModelShape& s, uint64_t seed) {
  c.validate();
  const ModelFamily& f = find_model_family(c.type);
  if (f.check) f.check(c, s);
  if constexpr (std::is_same_v<T, float>) {
    return f.make_float(c, s, seed);
  } else {
    return f.make_double(c, s, seed);
  }
}

template std::unique_ptr<Model<float>> make_model<float>(const ModelConfig&, const ModelShape&,
                                                         uint64_t);
template std::unique_ptr<Model<double>> make_model<double>(const ModelConfig&, const ModelShape&,
                                                           uint64_t);

}  // namespace gradscope
