// The training objective: see objective.h. Shape legend: N = examples, F = real inputs,
// Y = real outputs.
#include "gradscope/probes/objective.h"

#include <stdexcept>

namespace gradscope {
namespace {

// A tape constant [N, W] holding doubles converted to T (arena memory).
template <class T>
Var constant_rows(Tape<T>& t, const double* src, int64_t n, int64_t w) {
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
  if (layout.features > 0) {  // [N, F]
    if (t.device()) {
      if (!e.xt) throw std::logic_error("model_outputs: device examples without xt");
      b.x = t.constant(
          Tensor<T>(static_cast<T*>(const_cast<void*>(e.xt)), Shape{e.n, layout.features}));
    } else {
      b.x = constant_rows(t, e.x, e.n, layout.features);
    }
  }
  return model.forward(t, b);
}

Loss loss_from_name(const std::string& name) {
  return name == "hinge" ? Loss::hinge : Loss::cross_entropy;
}

template <class T>
Var objective(Tape<T>& t, Var outputs, const Dataset& layout, const Examples& e, Loss loss) {
  if (layout.outputs == 0)
    return loss == Loss::hinge ? hinge(t, outputs, e.targets)
                               : cross_entropy(t, outputs, e.targets);
  Var y;  // [N, Y]
  if (t.device()) {
    if (!e.yt) throw std::logic_error("objective: device examples without yt");
    y = t.constant(Tensor<T>(static_cast<T*>(const_cast<void*>(e.yt)), Shape{e.n, layout.outputs}));
  } else {
    y = constant_rows(t, e.y, e.n, layout.outputs);
  }
  return scale(t, mse(t, outputs, y), 0.5 * double(layout.outputs));
}

template Var model_outputs<float>(Tape<float>&, Model<float>&, const Dataset&, const Examples&);
template Var model_outputs<double>(Tape<double>&, Model<double>&, const Dataset&, const Examples&);
template Var objective<float>(Tape<float>&, Var, const Dataset&, const Examples&, Loss);
template Var objective<double>(Tape<double>&, Var, const Dataset&, const Examples&, Loss);

}  // namespace gradscope
