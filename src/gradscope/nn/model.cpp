// The Model base class, and the model.* options: see models.h.
#include "gradscope/nn/models.h"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

#include "gradscope/nn/layers.h"
#include "gradscope/nn/model_registry.h"

namespace gradscope {

template <class T>
Var Model<T>::forward_with_hooks(Tape<T>& t, const Batch& b, const ActivationHook& hook) {
  struct Unset {
    const ActivationHook*& hook;
    ~Unset() { hook = nullptr; }
  } unset{hook_};
  hook_ = &hook;
  return forward(t, b);
}

template <class T>
Var Model<T>::named(Var v, const char* name, int64_t layer, const char* group) const {
  if (!hook_) return v;
  return (*hook_)(layer < 0 ? std::string(name) : fmt::format("{}.{}.{}", group, layer, name), v);
}

template <class T>
std::vector<Tensor<T>> Model<T>::attention_patterns(Tape<T>&, const int32_t*, int64_t) {
  return {};
}

template <class T>
std::vector<ProbedMatrix> Model<T>::probed_matrices() const {
  std::vector<ProbedMatrix> out;
  for (int i = 0; i < params_.count(); ++i) {
    const ParamInfo& p = params_.info(i);
    if (p.shape.rank == 2) out.push_back({p.name, p.shape[0], p.shape[1], i});
  }
  for (ProbedMatrix& m : products()) out.push_back(std::move(m));
  return out;
}

template <class T>
void Model<T>::probed_matrix(const ProbedMatrix& m, std::span<const T> buf, double* out) const {
  if (m.param < 0) return product(m, buf, out);
  const T* p = buf.data() + params_.info(m.param).offset;
  for (int64_t i = 0; i < m.rows * m.cols; ++i) out[i] = double(p[i]);
}

template <class T>
void Model<T>::product(const ProbedMatrix& m, std::span<const T>, double*) const {
  throw std::logic_error("model defines no product " + m.name);
}

template class Model<float>;
template class Model<double>;

void ModelConfig::validate() const {
  find_model_family(type).validate(*this);
}

ModelConfig model_options(const Config& c) {
  return options_from<ModelConfig>(c);
}

}  // namespace gradscope
