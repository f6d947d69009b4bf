// Reductions to a scalar and the losses: cross_entropy, hinge, mse, sum, mean. All accumulate in
// double.
#include <cmath>
#include <type_traits>

#include "gradscope/autograd/ops_common.h"
#include "gradscope/tensor/vector_exp.h"

namespace gradscope {
namespace {

using detail::kGrain;
constexpr int64_t kExpGrain = kGrain / 8;

// ---- cross_entropy ----
// Node layout: in = {logits}; saved[0] = targets [N], saved[1] = 1 / sum_j exp(x_j - max) per row
// [N] (double), saved[2] = exp(x - max) [N, C] (T), computed once in the forward pass.
// On a device: saved[2] holds each row's max (double) instead of exp(x - max).
template <class T>
void cross_entropy_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, y{n.out};
  if (!t.requires_grad(x)) return;
  const int64_t N = t.shape(x)[0], C = t.shape(x)[1];
  const int32_t* target = static_cast<const int32_t*>(n.saved[0]);
  const double* inv = static_cast<const double*>(n.saved[1]);
  if (DeviceContext* d = t.device()) {
    bool fresh = false;
    T* dx = t.grad_fresh(x, fresh);
    return d->launch(kernels::CrossEntropyGrad<T>{t.value(x).data, target,
                                                  static_cast<const double*>(n.saved[2]), inv,
                                                  t.grad_if_any(y), N, C, dx, fresh},
                     N * C);
  }
  const T* ex = static_cast<const T*>(n.saved[2]);
  const double g = double(t.grad_if_any(y)[0]) / N;
  bool fresh = false;
  T* dx = t.grad_fresh(x, fresh);
  parallel_for(N, std::max<int64_t>(1, kGrain / C), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const double s = g * inv[r];  // softmax_j = ex_j * inv
      T* d = dx + r * C;
      const T* e = ex + r * C;
      const int64_t tr = target[r];
      // g (p - onehot) in double before rounding: at tiny losses p_target - 1 = -(sum of the
      // others) / (1 + sum), far below T's resolution of 1.
      if (fresh)
        for (int64_t j = 0; j < C; ++j)
          d[j] = static_cast<T>(s * double(e[j]) - (j == tr ? g : 0.0));
      else
        for (int64_t j = 0; j < C; ++j)
          d[j] += static_cast<T>(s * double(e[j]) - (j == tr ? g : 0.0));
    }
  });
}

// ---- hinge: mean max(0, 1 - y f) ----
// Node layout: in = {scores}; saved[0] = targets [N].
template <class T>
void hinge_backward(Tape<T>& t, const Node<T>& n) {
  const Var f{n.in[0]}, y{n.out};
  if (!t.requires_grad(f)) return;
  const int64_t N = t.shape(f)[0];
  const int32_t* target = static_cast<const int32_t*>(n.saved[0]);
  t.backend().launch(kernels::HingeGrad<T>{t.value(f).data, target, t.grad_if_any(y), N, t.grad(f)},
                     N);
}

// ---- mse: mean (a - b)^2 ----
template <class T>
void mse_backward(Tape<T>& t, const Node<T>& n) {
  const Var a{n.in[0]}, b{n.in[1]}, y{n.out};
  const int64_t count = t.shape(a).numel();
  for (Var v : {a, b})
    if (t.requires_grad(v))
      t.backend().launch(kernels::MseGrad<T>{t.value(a).data, t.value(b).data, t.grad_if_any(y),
                                             count, v.id == a.id ? 1.0 : -1.0, t.grad(v)},
                         count);
}

// ---- sum / mean: dx += dy * f[0] (1 or 1/n) ----
template <class T>
void sum_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, y{n.out};
  if (!t.requires_grad(x)) return;
  t.backend().launch(kernels::ScalarGrad<T>{t.grad_if_any(y), n.f[0], t.grad(x)},
                     t.shape(x).numel());
}

// A loss: per-element (or per-row) terms in double, reduced to the scalar output y (times
// factor) by the backend's tree (detail::sum_terms).
template <class T>
Var scalar_of_terms(Tape<T>& t, const double* terms, int64_t n, double factor, bool grad) {
  Var y = t.make(Shape{}, grad);
  detail::sum_terms(t, terms, n, factor, t.value(y).data);
  return y;
}

template <class T>
Var scalar_sum(Tape<T>& t, Var x, double factor) {
  const int64_t count = t.shape(x).numel();
  double* terms = t.arena().template alloc<double>(std::max<int64_t>(count, 1));
  t.backend().launch(kernels::DoubleTerms<T>{t.value(x).data, terms}, count);
  Var y = scalar_of_terms(t, terms, count, factor, detail::any_grad(t, {x}));
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&sum_backward<T>, y, {x});
    n.f[0] = factor;
    t.record(n);
  }
  return y;
}

// cross_entropy on a device (targets in device memory, checked where they were uploaded).
template <class T>
Var cross_entropy_device(Tape<T>& t, Var logits, const int32_t* targets, int64_t N, int64_t C) {
  double* mx = t.arena().template alloc<double>(N);
  double* inv = t.arena().template alloc<double>(N);
  double* loss = t.arena().template alloc<double>(N);
  t.device()->launch(kernels::CrossEntropyRows<T>{t.value(logits).data, targets, C, mx, inv, loss},
                     N);
  Var y = scalar_of_terms(t, loss, N, 1.0 / N, detail::any_grad(t, {logits}));
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&cross_entropy_backward<T>, y, {logits});
    n.saved = {targets, inv, mx};
    t.record(n);
  }
  return y;
}

}  // namespace

template <class T>
Var cross_entropy(Tape<T>& t, Var logits, const int32_t* targets) {
  const Shape& s = t.shape(logits);
  if (s.rank != 2 || s[1] < 1)
    detail::shape_error("cross_entropy", "logits " + s.str() + " must be [N, C]");
  const int64_t N = s[0], C = s[1];
  if (t.device()) return cross_entropy_device(t, logits, targets, N, C);
  for (int64_t r = 0; r < N; ++r)
    if (targets[r] < 0 || targets[r] >= C)
      detail::shape_error("cross_entropy", "target " + std::to_string(targets[r]) + " at row " +
                                               std::to_string(r) + " is outside [0, " +
                                               std::to_string(C) + ")");
  const T* xv = t.value(logits).data;
  double* lse = t.arena().template alloc<double>(N);  // then the row's loss, lse - x[target]
  double* inv = t.arena().template alloc<double>(N);
  T* ex = t.arena().template alloc<T>(N * C);  // exp(x - max), in the logits' precision
  // exp costs tens of cycles per element: rows split across threads from a few thousand elements.
  parallel_for(N, std::max<int64_t>(1, kExpGrain / C), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = xv + r * C;
      T* er = ex + r * C;
      int64_t arg = 0;
      for (int64_t j = 1; j < C; ++j)
        if (xr[j] > xr[arg]) arg = j;
      const T mx = xr[arg];
      // Below the underflow bound exp rounds to exactly 0: skip the call (libm's underflow path is
      // slow, and confident models send most logits there). Floats go four lanes at a time, with
      // the same bits as std::exp (tensor/vector_exp.h).
      if constexpr (std::is_same_v<T, float>) {
        exp_minus(xr, mx, er, C);
      } else {
        for (int64_t j = 0; j < C; ++j) {
          const T d = xr[j] - mx;
          er[j] = d < T(-746) ? T(0) : std::exp(d);
        }
      }
      // lse = max + log1p(sum of the other terms): keeps losses near 1e-7 accurate.
      double rest = 0;
      for (int64_t j = 0; j < C; ++j)
        if (j != arg) rest += double(er[j]);
      lse[r] = double(mx) + std::log1p(rest);
      inv[r] = 1.0 / (1.0 + rest);
    }
  });
  for (int64_t r = 0; r < N; ++r) lse[r] -= double(xv[r * C + targets[r]]);
  Var y = scalar_of_terms(t, static_cast<const double*>(lse), N, 1.0 / N,
                          detail::any_grad(t, {logits}));
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&cross_entropy_backward<T>, y, {logits});
    n.saved = {targets, inv, ex};
    t.record(n);
  }
  return y;
}

template <class T>
Var hinge(Tape<T>& t, Var scores, const int32_t* targets) {
  const Shape& s = t.shape(scores);
  if (s.rank != 2 || s[1] != 1)
    detail::shape_error("hinge", "scores " + s.str() + " must be [N, 1] (one score per example)");
  const int64_t N = s[0];
  const T* fv = t.value(scores).data;
  for (int64_t r = 0; r < N && !t.device(); ++r)  // device targets are checked where uploaded
    if (targets[r] != 0 && targets[r] != 1)
      detail::shape_error("hinge", "target " + std::to_string(targets[r]) + " at row " +
                                       std::to_string(r) + " is not 0 or 1");
  double* loss = t.arena().template alloc<double>(std::max<int64_t>(N, 1));
  t.backend().launch(kernels::HingeRows<T>{fv, targets, loss}, N);
  Var y = scalar_of_terms(t, static_cast<const double*>(loss), N, 1.0 / std::max<int64_t>(N, 1),
                          detail::any_grad(t, {scores}));
  if (t.requires_grad(y)) {
    Node<T> node = detail::make_node<T>(&hinge_backward<T>, y, {scores});
    node.saved[0] = targets;
    t.record(node);
  }
  return y;
}

template <class T>
Var mse(Tape<T>& t, Var a, Var b) {
  if (t.shape(a) != t.shape(b))
    detail::shape_error("mse", "a " + t.shape(a).str() + " and b " + t.shape(b).str() +
                                   " must have the same shape");
  const int64_t count = t.shape(a).numel();
  const T* av = t.value(a).data;
  const T* bv = t.value(b).data;
  double* terms = t.arena().template alloc<double>(std::max<int64_t>(count, 1));
  t.backend().launch(kernels::SquaredDiffTerms<T>{av, bv, terms}, count);
  Var y = scalar_of_terms(t, static_cast<const double*>(terms), count,
                          1.0 / std::max<int64_t>(count, 1), detail::any_grad(t, {a, b}));
  if (t.requires_grad(y)) t.record(detail::make_node<T>(&mse_backward<T>, y, {a, b}));
  return y;
}

template <class T>
Var sum(Tape<T>& t, Var x) {
  return scalar_sum(t, x, 1.0);
}

template <class T>
Var mean(Tape<T>& t, Var x) {
  return scalar_sum(t, x, 1.0 / std::max<int64_t>(t.shape(x).numel(), 1));
}

#define GRADSCOPE_INSTANTIATE(T)                                \
  template Var cross_entropy<T>(Tape<T>&, Var, const int32_t*); \
  template Var hinge<T>(Tape<T>&, Var, const int32_t*);         \
  template Var mse<T>(Tape<T>&, Var, Var);                      \
  template Var sum<T>(Tape<T>&, Var);                           \
  template Var mean<T>(Tape<T>&, Var);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
