// softmax and layer_norm over the last dimension. Row statistics are accumulated in double.
#include <cmath>

#include "gradscope/autograd/ops_common.h"

namespace gradscope {
namespace {

using detail::kGrain;

// ---- softmax: y = exp(x - max) / sum; dx += y * (dy - <dy, y>) ----
template <class T>
void softmax_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, y{n.out};
  if (!t.requires_grad(x)) return;
  const int64_t R = t.shape(x).rows(), D = t.shape(x).back();
  const T* dy = t.grad_if_any(y);
  const T* yv = t.value(y).data;
  T* dx = t.grad(x);
  if (DeviceContext* d = t.device()) return d->launch(kernels::SoftmaxGrad<T>{dy, yv, dx, D}, R);
  parallel_for(R, std::max<int64_t>(1, kGrain / D), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* g = dy + r * D;
      const T* p = yv + r * D;
      double dot = 0;
      for (int64_t j = 0; j < D; ++j) dot += double(g[j]) * p[j];
      for (int64_t j = 0; j < D; ++j) dx[r * D + j] += static_cast<T>(p[j] * (g[j] - dot));
    }
  });
}

// ---- layer_norm: y = xhat * gamma + beta, xhat = (x - mean) * rstd ----
// On a device: dx per row; dgamma the column sums of dy * xhat, dbeta those of dy.
template <class T>
void layer_norm_backward_device(Tape<T>& t, const Node<T>& n, const T* dy, const T* xv, const T* gv,
                                const double* mean, const double* rstd) {
  const Var x{n.in[0]}, g{n.in[1]}, b{n.in[2]};
  const int64_t R = t.shape(x).rows(), D = t.shape(x).back();
  DeviceContext& d = *t.device();
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
  if (t.device()) return layer_norm_backward_device(t, n, dy, xv, gv, mean, rstd);
  if (t.requires_grad(x)) {
    T* dx = t.grad(x);
    parallel_for(R, std::max<int64_t>(1, kGrain / D), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* xr = xv + r * D;
        const T* gr = dy + r * D;
        double sum_dxhat = 0, sum_dxhat_xhat = 0;
        for (int64_t j = 0; j < D; ++j) {
          const double dxhat = double(gr[j]) * (gv ? gv[j] : T(1));
          sum_dxhat += dxhat;
          sum_dxhat_xhat += dxhat * (xr[j] - mean[r]) * rstd[r];
        }
        const double m1 = sum_dxhat / D, m2 = sum_dxhat_xhat / D;
        for (int64_t j = 0; j < D; ++j) {
          const double xhat = (xr[j] - mean[r]) * rstd[r];
          const double dxhat = double(gr[j]) * (gv ? gv[j] : T(1));
          dx[r * D + j] += static_cast<T>(rstd[r] * (dxhat - m1 - xhat * m2));
        }
      }
    });
  }
  if (g.valid() && t.requires_grad(g)) {  // dgamma[j] += sum_r dy[r, j] * xhat[r, j]
    T* prod = t.arena().template alloc<T>(R * D);
    parallel_for(R, std::max<int64_t>(1, kGrain / D), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t j = 0; j < D; ++j)
          prod[r * D + j] = static_cast<T>(dy[r * D + j] * (xv[r * D + j] - mean[r]) * rstd[r]);
    });
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
  if (DeviceContext* d = t.device())
    d->launch(kernels::SoftmaxRows<T>{xv, out, D}, R);
  else
    parallel_for(R, std::max<int64_t>(1, kGrain / D), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* xr = xv + r * D;
        T m = xr[0];
        for (int64_t j = 1; j < D; ++j) m = std::max(m, xr[j]);
        double total = 0;
        for (int64_t j = 0; j < D; ++j) total += std::exp(double(xr[j]) - m);
        for (int64_t j = 0; j < D; ++j)
          out[r * D + j] = static_cast<T>(std::exp(double(xr[j]) - m) / total);
      }
    });
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
  if (DeviceContext* d = t.device())
    d->launch(kernels::LayerNormRows<T>{xv, gv, bv, out, mean, rstd, D, eps}, R);
  else
    parallel_for(R, std::max<int64_t>(1, kGrain / D), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* xr = xv + r * D;
        double m = 0, v = 0;
        for (int64_t j = 0; j < D; ++j) m += xr[j];
        m /= D;
        for (int64_t j = 0; j < D; ++j) v += (xr[j] - m) * (xr[j] - m);
        mean[r] = m;
        rstd[r] = 1.0 / std::sqrt(v / D + eps);
        for (int64_t j = 0; j < D; ++j) {
          const double xhat = (xr[j] - m) * rstd[r];
          out[r * D + j] = static_cast<T>(xhat * (gv ? gv[j] : T(1)) + (bv ? bv[j] : T(0)));
        }
      }
    });
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
