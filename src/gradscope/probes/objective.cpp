// The training objective: see objective.h. Shape legend: N = examples, F = real inputs,
// Y = real outputs.
#include "gradscope/probes/objective.h"

#include <stdexcept>

namespace gradscope {
namespace {

// Real values [N, W] as a tape constant: on a device the examples' copy already in T (`dev`,
// device memory), on the host the doubles `src` converted into the arena.
template <class T>
Var real_rows(Tape<T>& t, const double* src, const void* dev, int64_t n, int64_t w,
              const char* what) {
  if (!t.backend().host_memory()) {
    if (!dev) throw std::logic_error(std::string("device examples without ") + what);
    return t.constant(Tensor<T>(static_cast<T*>(const_cast<void*>(dev)), Shape{n, w}));
  }
  T* buf = t.arena().template alloc<T>(n * w);
  for (int64_t i = 0; i < n * w; ++i) buf[i] = static_cast<T>(src[i]);
  return t.constant(Tensor<T>(buf, Shape{n, w}));
}

}  // namespace

Examples all_examples(const Dataset& d) {
  Examples e;
  e.n = d.size();
  if (d.length > 0) e.ids = d.inputs.data();
  if (d.features > 0) e.x = d.x.data();
  if (d.outputs > 0)
    e.y = d.y.data();
  else
    e.targets = d.targets.data();
  return e;
}

template <class T>
Var model_outputs(Tape<T>& t, Model<T>& model, const Dataset& layout, const Examples& e) {
  Batch b{e.ids, {}, e.n};
  if (layout.features > 0) b.x = real_rows(t, e.x, e.xt, e.n, layout.features, "xt");  // [N, F]
  return model.forward(t, b);
}

template <class T>
Var objective(Tape<T>& t, Var outputs, const Dataset& layout, const Examples& e, Loss loss,
              SoftmaxNumerics numerics) {
  if (layout.outputs == 0) {
    if (loss == Loss::hinge) return hinge(t, outputs, e.targets);
    if (loss == Loss::stablemax) return stablemax_cross_entropy(t, outputs, e.targets);
    if (numerics == SoftmaxNumerics::gradscope) return cross_entropy(t, outputs, e.targets);
    return torch_cross_entropy(t, outputs, e.targets, numerics == SoftmaxNumerics::torch_float64);
  }
  Var y = real_rows(t, e.y, e.yt, e.n, layout.outputs, "yt");  // [N, Y]
  return scale(t, mse(t, outputs, y), 0.5 * double(layout.outputs));
}

template Var model_outputs<float>(Tape<float>&, Model<float>&, const Dataset&, const Examples&);
template Var model_outputs<double>(Tape<double>&, Model<double>&, const Dataset&, const Examples&);
template Var objective<float>(Tape<float>&, Var, const Dataset&, const Examples&, Loss,
                              SoftmaxNumerics);
template Var objective<double>(Tape<double>&, Var, const Dataset&, const Examples&, Loss,
                               SoftmaxNumerics);

}  // namespace gradscope
