// Indexing and shape ops: embedding gather, views (reshape, rows), positional add, transpose,
// slice and select_last.
#include <fmt/core.h>

#include "gradscope/autograd/ops_common.h"

namespace gradscope {
namespace {

// ---- embedding: y[r] = W[ids[r]]; pair_sum: y[n] = W[ids[2n]] + W[ids[2n + 1]] ----
// Node layout: in = {W}; saved[0] = ids; i[0] = number of ids; i[1] = ids per row of y (1 or 2).
// The gradient is a scan: each element of dW adds the rows of dy whose id is its row, in order
// (kernels::GatherGradScan; on the cpu, threads split W's columns, each walking the ids once), so
// repeated ids accumulate in the same order on every device and for any thread count.
template <class T>
void gather_backward(Tape<T>& t, const Node<T>& n) {
  const Var W{n.in[0]}, y{n.out};
  if (!t.requires_grad(W)) return;
  const int32_t* ids = static_cast<const int32_t*>(n.saved[0]);
  const int64_t V = t.shape(W)[0], D = t.shape(W).back();
  t.backend().launch(
      kernels::GatherGradScan<T>{ids, n.i[0], D, t.grad_if_any(y), t.grad(W), n.i[1]}, V * D);
}

// Records y's gather node when y needs a gradient: `count` ids, `group` of them per row of y.
template <class T>
void record_gather(Tape<T>& t, Var y, Var W, const int32_t* ids, int64_t count, int64_t group) {
  if (!t.requires_grad(y)) return;
  Node<T> n = detail::make_node<T>(&gather_backward<T>, y, {W});
  n.saved[0] = ids;
  n.i[0] = count;
  n.i[1] = group;
  t.record(n);
}

// ---- transpose of the last two dimensions ----
template <class T>
void transpose_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, y{n.out};
  if (!t.requires_grad(x)) return;
  const Shape& ys = t.shape(y);  // [..., N, M]
  const int64_t N = ys.back(1), M = ys.back();
  t.backend().launch(kernels::Transpose<T>{t.grad_if_any(y), t.grad(x), N, M, true}, ys.numel());
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
  t.backend().launch(kernels::Slice<T>{dy, dx, size, inner, start, len, true}, outer * len * inner);
}

// Every one of the `count` ids is in [0, V) (host ids; a device's are checked at upload).
template <class T>
void check_ids(const Tape<T>& t, const char* op, const int32_t* ids, int64_t count, int64_t V) {
  for (int64_t r = 0; r < count && t.backend().host_memory(); ++r)
    if (ids[r] < 0 || ids[r] >= V)
      detail::shape_error(op, "id " + std::to_string(ids[r]) + " at position " + std::to_string(r) +
                                  " is outside [0, " + std::to_string(V) + ")");
}

}  // namespace

template <class T>
Var embedding(Tape<T>& t, const int32_t* ids, Shape ids_shape, Var W) {
  const Shape& ws = t.shape(W);
  if (ws.rank != 2) detail::shape_error("embedding", "W " + ws.str() + " must be [V, D]");
  if (ids_shape.rank >= kMaxRank)
    detail::shape_error("embedding", "ids " + ids_shape.str() + " must have rank below 4");
  const int64_t count = ids_shape.numel(), V = ws[0], D = ws[1];
  check_ids(t, "embedding", ids, count, V);
  Shape ys = ids_shape;
  ys.dims[ys.rank++] = D;
  Var y = t.make(ys, detail::any_grad(t, {W}));
  const T* wv = t.value(W).data;
  T* out = t.value(y).data;
  t.backend().launch(kernels::Gather<T>{ids, wv, out, D}, count * D);
  record_gather(t, y, W, ids, count, 1);
  return y;
}

template <class T>
Var pair_sum(Tape<T>& t, const int32_t* ids, int64_t N, Var W) {
  const Shape& ws = t.shape(W);
  if (ws.rank != 2) detail::shape_error("pair_sum", "W " + ws.str() + " must be [V, D]");
  const int64_t V = ws[0], D = ws[1];
  check_ids(t, "pair_sum", ids, 2 * N, V);
  Var y = t.make(Shape{N, D}, detail::any_grad(t, {W}));
  t.backend().launch(kernels::PairSum<T>{ids, t.value(W).data, t.value(y).data, D}, N * D);
  record_gather(t, y, W, ids, 2 * N, 2);
  return y;
}

template <class T>
Var one_hot(Tape<T>& t, const int32_t* ids, int64_t R, int64_t L, int64_t V) {
  check_ids(t, "one_hot", ids, R * L, V);
  Var y = t.make(Shape{R, L * V}, false);  // [R, L V]
  t.backend().launch(kernels::OneHot<T>{ids, L, V, t.value(y).data}, R * L * V);
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
  t.backend().launch(kernels::Transpose<T>{t.value(x).data, t.value(y).data, M, N, false},
                     xs.numel());
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
  t.backend().launch(kernels::Slice<T>{xv, out, size, inner, start, len, false},
                     outer * len * inner);
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

#define GRADSCOPE_INSTANTIATE(T)                                                \
  template Var embedding<T>(Tape<T>&, const int32_t*, Shape, Var);              \
  template Var pair_sum<T>(Tape<T>&, const int32_t*, int64_t, Var);             \
  template Var one_hot<T>(Tape<T>&, const int32_t*, int64_t, int64_t, int64_t); \
  template Var reshape<T>(Tape<T>&, Var, Shape);                                \
  template Var rows<T>(Tape<T>&, Var, int64_t, int64_t);                        \
  template Var add_positional<T>(Tape<T>&, Var, Var);                           \
  template Var transpose<T>(Tape<T>&, Var);                                     \
  template Var slice<T>(Tape<T>&, Var, int, int64_t, int64_t);                  \
  template Var select_last<T>(Tape<T>&, Var);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
