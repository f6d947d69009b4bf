// Indexing and shape ops: embedding gather, views (reshape, rows), positional add, transpose,
// slice and select_last.
#include <fmt/core.h>

#include "gradscope/autograd/ops_common.h"

namespace gradscope {
namespace {

using detail::kGrain;

// ---- embedding: y[r] = W[ids[r]] ----
// Node layout: in = {W}; saved[0] = ids; i[0] = number of ids. Threads split W's columns, each
// walking the ids in order, so repeated ids accumulate in the same order whatever the threads.
// Gathers on a device: dW += M^T dy with M [count, V] the one-hot matrix of the ids (one GEMM,
// deterministic) while M stays under kOneHotLimit elements; beyond, one index per (v, c) of dW
// sums dy over the ids in order (slow, for very large vocabularies).
constexpr int64_t kOneHotLimit = int64_t{1} << 26;

template <class T>
void embedding_backward_device(Tape<T>& t, const int32_t* ids, int64_t count, int64_t V, int64_t D,
                               const T* dy, T* dW) {
  DeviceContext& d = *t.device();
  if (count * V > kOneHotLimit)
    return d.launch(kernels::GatherGradScan<T>{ids, count, D, dy, dW}, V * D);
  T* M = t.arena().template alloc<T>(count * V);  // [count, V]
  d.launch(kernels::OneHot<T>{ids, V, M}, count * V);
  detail::gemm_on(t, true, false, V, D, count, T(1), static_cast<const T*>(M), dy, T(1), dW);
}

template <class T>
void embedding_backward(Tape<T>& t, const Node<T>& n) {
  const Var W{n.in[0]}, y{n.out};
  if (!t.requires_grad(W)) return;
  const int32_t* ids = static_cast<const int32_t*>(n.saved[0]);
  const int64_t count = n.i[0], D = t.shape(W).back();
  const T* dy = t.grad_if_any(y);
  T* dW = t.grad(W);
  if (t.device()) return embedding_backward_device(t, ids, count, t.shape(W)[0], D, dy, dW);
  parallel_for(D, std::max<int64_t>(1, kGrain / std::max<int64_t>(count, 1)),
               [&](int64_t c0, int64_t c1) {
                 for (int64_t r = 0; r < count; ++r)
                   for (int64_t c = c0; c < c1; ++c) dW[ids[r] * D + c] += dy[r * D + c];
               });
}

// ---- transpose of the last two dimensions ----
template <class T>
void transpose_copy(const T* x, T* y, int64_t batch, int64_t M, int64_t N, bool accumulate) {
  // y[b, n, m] (=|+=) x[b, m, n]
  parallel_for(batch * N, std::max<int64_t>(1, kGrain / std::max<int64_t>(M, 1)),
               [&](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   const int64_t b = r / N, j = r % N;
                   const T* xb = x + b * M * N;
                   T* yr = y + r * M;
                   for (int64_t m = 0; m < M; ++m)
                     yr[m] = accumulate ? yr[m] + xb[m * N + j] : xb[m * N + j];
                 }
               });
}

template <class T>
void transpose_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, y{n.out};
  if (!t.requires_grad(x)) return;
  const Shape& ys = t.shape(y);  // [..., N, M]
  const int64_t N = ys.back(1), M = ys.back();
  if (DeviceContext* d = t.device())
    return d->launch(kernels::Transpose<T>{t.grad_if_any(y), t.grad(x), N, M, true}, ys.numel());
  transpose_copy(t.grad_if_any(y), t.grad(x), ys.numel() / (M * N), N, M, true);
}

// ---- slice along one dimension: y[o, l, i] = x[o, start + l, i] ----
// Node layout: in = {x}; i = {outer, dim size, inner, start}.
template <class T>
void slice_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, y{n.out};
  if (!t.requires_grad(x)) return;
  const int64_t outer = n.i[0], size = n.i[1], inner = n.i[2], start = n.i[3];
  const int64_t len = t.shape(y).numel() / (outer * inner);
  const T* dy = t.grad_if_any(y);
  T* dx = t.grad(x);
  if (DeviceContext* d = t.device())
    return d->launch(kernels::Slice<T>{dy, dx, size, inner, start, len, true}, outer * len * inner);
  parallel_for(outer, std::max<int64_t>(1, kGrain / (len * inner)), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o)
      for (int64_t j = 0; j < len * inner; ++j)
        dx[(o * size + start) * inner + j] += dy[o * len * inner + j];
  });
}

}  // namespace

template <class T>
Var embedding(Tape<T>& t, const int32_t* ids, Shape ids_shape, Var W) {
  const Shape& ws = t.shape(W);
  if (ws.rank != 2) detail::shape_error("embedding", "W " + ws.str() + " must be [V, D]");
  if (ids_shape.rank >= kMaxRank)
    detail::shape_error("embedding", "ids " + ids_shape.str() + " must have rank below 4");
  const int64_t count = ids_shape.numel(), V = ws[0], D = ws[1];
  for (int64_t r = 0; r < count && !t.device(); ++r)  // device ids are checked where uploaded
    if (ids[r] < 0 || ids[r] >= V)
      detail::shape_error("embedding", "id " + std::to_string(ids[r]) + " at position " +
                                           std::to_string(r) + " is outside [0, " +
                                           std::to_string(V) + ")");
  Shape ys = ids_shape;
  ys.dims[ys.rank++] = D;
  Var y = t.make(ys, detail::any_grad(t, {W}));
  const T* wv = t.value(W).data;
  T* out = t.value(y).data;
  if (DeviceContext* d = t.device())
    d->launch(kernels::Gather<T>{ids, wv, out, D}, count * D);
  else
    parallel_for(count, std::max<int64_t>(1, kGrain / D), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = 0; c < D; ++c) out[r * D + c] = wv[ids[r] * D + c];
    });
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&embedding_backward<T>, y, {W});
    n.saved[0] = ids;
    n.i[0] = count;
    t.record(n);
  }
  return y;
}

template <class T>
Var reshape(Tape<T>& t, Var x, Shape shape) {
  if (shape.numel() != t.shape(x).numel())
    detail::shape_error("reshape", "cannot view " + t.shape(x).str() + " as " + shape.str());
  return t.view(x, 0, shape);
}

template <class T>
Var rows(Tape<T>& t, Var x, int64_t start, int64_t len) {
  const Shape& s = t.shape(x);
  if (s.rank == 0 || start < 0 || len < 0 || start + len > s[0])
    detail::shape_error("rows", fmt::format("[{}, {}) is outside the first dimension of {}", start,
                                            start + len, s.str()));
  Shape vs = s;
  vs[0] = len;
  return t.view(x, start * (s[0] ? s.numel() / s[0] : 0), vs);
}

template <class T>
Var add_positional(Tape<T>& t, Var x, Var W_pos) {
  const Shape& xs = t.shape(x);
  const Shape& ps = t.shape(W_pos);
  if (xs.rank != 3 || ps.rank != 2 || ps[1] != xs[2] || ps[0] < xs[1])
    detail::shape_error("add_positional", "x " + xs.str() + " needs W_pos [>= " +
                                              (xs.rank == 3 ? std::to_string(xs[1]) : "T") +
                                              ", D], got " + ps.str());
  return add(t, x, rows(t, W_pos, 0, xs[1]));
}

template <class T>
Var transpose(Tape<T>& t, Var x) {
  const Shape& xs = t.shape(x);
  if (xs.rank < 2) detail::shape_error("transpose", "x " + xs.str() + " needs rank >= 2");
  const int64_t M = xs.back(1), N = xs.back();
  Shape ys = xs;
  ys[ys.rank - 2] = N;
  ys[ys.rank - 1] = M;
  Var y = t.make(ys, detail::any_grad(t, {x}));
  if (DeviceContext* d = t.device())
    d->launch(kernels::Transpose<T>{t.value(x).data, t.value(y).data, M, N, false}, xs.numel());
  else
    transpose_copy(t.value(x).data, t.value(y).data, xs.numel() / std::max<int64_t>(M * N, 1), M, N,
                   false);
  if (t.requires_grad(y)) t.record(detail::make_node<T>(&transpose_backward<T>, y, {x}));
  return y;
}

template <class T>
Var slice(Tape<T>& t, Var x, int dim, int64_t start, int64_t len) {
  const Shape& xs = t.shape(x);
  if (dim < 0 || dim >= xs.rank)
    detail::shape_error("slice", "dimension " + std::to_string(dim) + " of " + xs.str());
  if (start < 0 || len < 0 || start + len > xs[dim])
    detail::shape_error("slice", fmt::format("[{}, {}) is outside dimension {} of {}", start,
                                             start + len, dim, xs.str()));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < dim; ++i) outer *= xs[i];
  for (int i = dim + 1; i < xs.rank; ++i) inner *= xs[i];
  Shape ys = xs;
  ys[dim] = len;
  Var y = t.make(ys, detail::any_grad(t, {x}));
  const T* xv = t.value(x).data;
  T* out = t.value(y).data;
  const int64_t size = xs[dim];
  if (DeviceContext* d = t.device())
    d->launch(kernels::Slice<T>{xv, out, size, inner, start, len, false}, outer * len * inner);
  else
    parallel_for(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(len * inner, 1)),
                 [&](int64_t o0, int64_t o1) {
                   for (int64_t o = o0; o < o1; ++o)
                     for (int64_t j = 0; j < len * inner; ++j)
                       out[o * len * inner + j] = xv[(o * size + start) * inner + j];
                 });
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&slice_backward<T>, y, {x});
    n.i = {outer, size, inner, start};
    t.record(n);
  }
  return y;
}

template <class T>
Var select_last(Tape<T>& t, Var x) {
  const Shape& xs = t.shape(x);
  if (xs.rank != 3) detail::shape_error("select_last", "x " + xs.str() + " must be [B, T, D]");
  const Shape out{xs[0], xs[2]};
  return reshape(t, slice(t, x, 1, xs[1] - 1, 1), out);
}

#define GRADSCOPE_INSTANTIATE(T)                                   \
  template Var embedding<T>(Tape<T>&, const int32_t*, Shape, Var); \
  template Var reshape<T>(Tape<T>&, Var, Shape);                   \
  template Var rows<T>(Tape<T>&, Var, int64_t, int64_t);           \
  template Var add_positional<T>(Tape<T>&, Var, Var);              \
  template Var transpose<T>(Tape<T>&, Var);                        \
  template Var slice<T>(Tape<T>&, Var, int, int64_t, int64_t);     \
  template Var select_last<T>(Tape<T>&, Var);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
