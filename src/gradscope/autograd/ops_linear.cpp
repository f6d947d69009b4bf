// linear / matmul: forward and backward on GEMM (OpenBLAS on the host, cuBLAS on a GPU).
#include "gradscope/autograd/ops_common.h"

namespace gradscope {
namespace {

// Node layout: in = {x, W, b}; i[0] = transpose_b (W stored [N, K]).
template <class T>
void linear_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, W{n.in[1]}, b{n.in[2]}, y{n.out};
  const bool tw = n.i[0] != 0;
  const int64_t rows = t.shape(x).rows(), K = t.shape(x).back(), N = t.shape(y).back();
  const T* dy = t.grad_if_any(y);  // [rows, N]
  if (t.requires_grad(x)) {
    // dx [rows, K] += dy [rows, N] @ W^T   (W [K, N]), or dy @ W (W [N, K]); = when fresh
    bool fresh = false;
    T* dx = t.grad_fresh(x, fresh);
    detail::gemm_on(t, false, !tw, rows, K, N, T(1), dy, t.value(W).data, fresh ? T(0) : T(1), dx);
  }
  if (t.requires_grad(W)) {
    if (!tw) {  // dW [K, N] += x^T [K, rows] @ dy [rows, N]
      detail::gemm_on(t, true, false, K, N, rows, T(1), t.value(x).data, dy, T(1), t.grad(W));
    } else {  // dW [N, K] += dy^T [N, rows] @ x [rows, K]
      detail::gemm_on(t, true, false, N, K, rows, T(1), dy, t.value(x).data, T(1), t.grad(W));
    }
  }
  if (b.valid() && t.requires_grad(b))
    detail::add_column_sums(t, dy, static_cast<const T*>(nullptr), rows, N, t.grad(b));
}

template <class T>
Var linear_impl(Tape<T>& t, Var x, Var W, Var b, bool tw, const char* op) {
  const Shape& xs = t.shape(x);
  const Shape& ws = t.shape(W);
  if (xs.rank < 1 || ws.rank != 2)
    detail::shape_error(op, "x " + xs.str() + " and W " + ws.str() + " (W must be 2-D)");
  const int64_t K = tw ? ws[1] : ws[0], N = tw ? ws[0] : ws[1];
  if (xs.back() != K)
    detail::shape_error(
        op, "x " + xs.str() + " does not match W " + ws.str() + (tw ? " (transposed)" : ""));
  if (b.valid() && (t.shape(b).rank != 1 || t.shape(b)[0] != N))
    detail::shape_error(
        op, "bias " + t.shape(b).str() + " does not match output width " + std::to_string(N));
  const int64_t rows = xs.rows();
  Var y = t.make(xs.with_last(N), detail::any_grad(t, {x, W, b}));
  T* out = t.value(y).data;  // [rows, N]
  T beta = T(0);
  if (b.valid()) {  // start from the broadcast bias and let GEMM accumulate onto it
    t.backend().launch(kernels::BroadcastRows<T>{t.value(b).data, out, N}, rows * N);
    beta = T(1);
  }
  detail::gemm_on(t, false, tw, rows, N, K, T(1), t.value(x).data, t.value(W).data, beta, out);
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&linear_backward<T>, y, {x, W, b});
    n.i[0] = tw;
    t.record(n);
  }
  return y;
}

}  // namespace

template <class T>
Var linear(Tape<T>& t, Var x, Var W, Var b) {
  return linear_impl(t, x, W, b, false, "linear");
}

template <class T>
Var matmul(Tape<T>& t, Var a, Var b, bool transpose_b) {
  return linear_impl(t, a, b, Var{}, transpose_b, "matmul");
}

#define GRADSCOPE_INSTANTIATE(T)                   \
  template Var linear<T>(Tape<T>&, Var, Var, Var); \
  template Var matmul<T>(Tape<T>&, Var, Var, bool);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
