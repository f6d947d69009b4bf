// softmax and layer_norm over the last dimension, as kernels (cuda/kernels.h) on the tape's
// backend. Row statistics are accumulated in double.
#include <cmath>

#include "gradscope/autograd/ops_common.h"

namespace gradscope {
namespace {

// ---- softmax: y = exp(x - max) / sum; dx += y * (dy - <dy, y>) ----
template <class T>
void softmax_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, y{n.out};
  if (!t.requires_grad(x)) return;
  const int64_t R = t.shape(x).rows(), D = t.shape(x).back();
  t.backend().launch(kernels::SoftmaxGrad<T>{t.grad_if_any(y), t.value(y).data, t.grad(x), D}, R);
}

// ---- layer_norm: y = xhat * gamma + beta, xhat = (x - mean) * rstd ----
// dx per row; dgamma the column sums of dy * xhat, dbeta those of dy.
// Node layout: in = {x, gamma, beta}; saved[0] = mean [R] (double), saved[1] = rstd [R] (double).
template <class T>
void layer_norm_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, g{n.in[1]}, b{n.in[2]}, y{n.out};
  const int64_t R = t.shape(x).rows(), D = t.shape(x).back();
  const T* dy = t.grad_if_any(y);
  const T* xv = t.value(x).data;
  const T* gv = g.valid() ? t.value(g).data : nullptr;
  const double* mean = static_cast<const double*>(n.saved[0]);
  const double* rstd = static_cast<const double*>(n.saved[1]);
  DeviceContext& d = t.backend();
  if (t.requires_grad(x))
    d.launch(kernels::LayerNormGradX<T>{dy, xv, gv, mean, rstd, t.grad(x), D}, R);
  if (g.valid() && t.requires_grad(g)) {
    T* prod = t.arena().template alloc<T>(R * D);
    d.launch(kernels::LayerNormXhat<T>{dy, xv, mean, rstd, prod, D}, R * D);
    detail::add_column_sums(t, static_cast<const T*>(prod), static_cast<const T*>(nullptr), R, D,
                            t.grad(g));
  }
  if (b.valid() && t.requires_grad(b))
    detail::add_column_sums(t, dy, static_cast<const T*>(nullptr), R, D, t.grad(b));
}

}  // namespace

template <class T>
Var softmax(Tape<T>& t, Var x) {
  const Shape& s = t.shape(x);
  if (s.rank < 1 || s.back() == 0) detail::shape_error("softmax", "x " + s.str());
  const int64_t R = s.rows(), D = s.back();
  Var y = t.make(s, detail::any_grad(t, {x}));
  const T* xv = t.value(x).data;
  T* out = t.value(y).data;
  t.backend().launch(kernels::SoftmaxRows<T>{xv, out, D}, R);
  if (t.requires_grad(y)) t.record(detail::make_node<T>(&softmax_backward<T>, y, {x}));
  return y;
}

template <class T>
Var layer_norm(Tape<T>& t, Var x, Var gamma, Var beta, double eps) {
  const Shape& s = t.shape(x);
  if (s.rank < 1 || s.back() == 0) detail::shape_error("layer_norm", "x " + s.str());
  const int64_t R = s.rows(), D = s.back();
  for (Var p : {gamma, beta})
    if (p.valid() && t.shape(p) != Shape{D})
      detail::shape_error("layer_norm", "x " + s.str() + " needs gamma/beta [" + std::to_string(D) +
                                            "], got " + t.shape(p).str());
  Var y = t.make(s, detail::any_grad(t, {x, gamma, beta}));
  const T* xv = t.value(x).data;
  const T* gv = gamma.valid() ? t.value(gamma).data : nullptr;
  const T* bv = beta.valid() ? t.value(beta).data : nullptr;
  T* out = t.value(y).data;
  double* mean = t.arena().template alloc<double>(R);
  double* rstd = t.arena().template alloc<double>(R);
  t.backend().launch(kernels::LayerNormRows<T>{xv, gv, bv, out, mean, rstd, D, eps}, R);
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&layer_norm_backward<T>, y, {x, gamma, beta});
    n.saved = {mean, rstd, nullptr};
    t.record(n);
  }
  return y;
}

#define GRADSCOPE_INSTANTIATE(T)          \
  template Var softmax<T>(Tape<T>&, Var); \
  template Var layer_norm<T>(Tape<T>&, Var, Var, Var, double);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
