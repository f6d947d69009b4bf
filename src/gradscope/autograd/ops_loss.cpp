// Reductions to a scalar and the losses: cross_entropy, hinge, mse, sum, mean. All accumulate in
// double.
#include <algorithm>

#include "gradscope/autograd/ops_common.h"
#include "gradscope/tensor/vector_exp.h"

#if defined(__AVX512F__) && defined(__AVX512VL__)
#include <immintrin.h>
#endif

namespace gradscope {

// The cpu forms of kernels::CrossEntropyRows: a float row's exps four lanes at a time with
// expf's bits (tensor/vector_exp.h: element for element std::exp), so the same numbers as the
// kernel's loop; doubles row by row as the kernel. Float rows go eight at a time with AVX-512
// (one row to a vector lane), else four at a time: each row's argmax and sum take the kernel's
// steps in the kernel's order, the rows' steps interleaved so that the sums' additions (each
// waiting on the one before) overlap.
#if defined(__AVX512F__) && defined(__AVX512VL__)
namespace {

// Rows r .. r + 7 as kernels::CrossEntropyRows computes them, each row's steps in one lane of a
// vector: its argmax (the first largest: a strict > against the best so far, in column order), its
// exps (exp_minus), and the sum of its exps but the argmax's, in column order in double. The
// lanes read their columns by gathers at a stride of C.
void cross_entropy_rows8(const kernels::CrossEntropyRows<float>& k, int64_t r) {
  const int64_t C = k.C;
  const float* xr = k.x + r * C;
  const __m256i at = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                        _mm256_set1_epi32(static_cast<int>(C)));
  __m256 best = _mm256_i32gather_ps(xr, at, 4);
  __m256i arg = _mm256_setzero_si256();
  for (int64_t j = 1; j < C; ++j) {
    const __m256 v = _mm256_i32gather_ps(xr + j, at, 4);
    const __mmask8 more = _mm256_cmp_ps_mask(v, best, _CMP_GT_OQ);
    best = _mm256_mask_mov_ps(best, more, v);
    arg = _mm256_mask_mov_epi32(arg, more, _mm256_set1_epi32(static_cast<int>(j)));
  }
  alignas(32) int32_t args[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(args), arg);
  for (int q = 0; q < 8; ++q) exp_minus(xr + q * C, xr[q * C + args[q]], k.ex + (r + q) * C, C);
  const float* er = k.ex + r * C;
  __m512d rest = _mm512_setzero_pd();
  for (int64_t j = 0; j < C; ++j) {
    const __mmask8 other = _mm256_cmpneq_epi32_mask(arg, _mm256_set1_epi32(static_cast<int>(j)));
    rest = _mm512_mask_add_pd(rest, other, rest,
                              _mm512_maskz_cvtps_pd(0xFF, _mm256_i32gather_ps(er + j, at, 4)));
  }
  alignas(64) double rests[8];
  _mm512_store_pd(rests, rest);
  for (int q = 0; q < 8; ++q) k.finish(r + q, args[q], rests[q]);
}

}  // namespace
#endif

template <>
void kernels::CrossEntropyRows<float>::cpu_range(int64_t b, int64_t e) const {
  constexpr int kRows = 4;
  int64_t r = b;
#if defined(__AVX512F__) && defined(__AVX512VL__)
  // Gathers index a group's rows by 32-bit offsets: up to 7 C.
  if (7 * C < (int64_t{1} << 31))
    for (; r + 8 <= e; r += 8) cross_entropy_rows8(*this, r);
#endif
  for (; r + kRows <= e; r += kRows) {
    const float* xr = x + r * C;
    int64_t arg[kRows] = {};
    for (int64_t j = 1; j < C; ++j)
      for (int q = 0; q < kRows; ++q)
        if (xr[q * C + j] > xr[q * C + arg[q]]) arg[q] = j;
    for (int q = 0; q < kRows; ++q) exp_minus(xr + q * C, xr[q * C + arg[q]], ex + (r + q) * C, C);
    const float* er = ex + r * C;
    double rest[kRows] = {};
    for (int64_t j = 0; j < C; ++j)
      for (int q = 0; q < kRows; ++q)
        if (j != arg[q]) rest[q] += double(er[q * C + j]);
    for (int q = 0; q < kRows; ++q) finish(r + q, arg[q], rest[q]);
  }
  for (; r < e; ++r) {
    const int64_t arg = argmax(r);
    exp_minus(x + r * C, x[r * C + arg], ex + r * C, C);
    finish(r, arg);
  }
}
template <>
void kernels::CrossEntropyRows<double>::cpu_range(int64_t b, int64_t e) const {
  for (int64_t r = b; r < e; ++r) (*this)(r);
}

namespace {

// ---- cross_entropy ----
// Node layout: in = {logits}; saved[0] = targets [N], saved[1] = 1 / sum_j exp(x_j - max) per row
// [N] (double), saved[2] = exp(x - max) [N, C] (T), computed once in the forward pass
// (kernels::CrossEntropyRows; the gradient kernels::CrossEntropyGrad).
template <class T>
void cross_entropy_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, y{n.out};
  if (!t.requires_grad(x)) return;
  const int64_t N = t.shape(x)[0], C = t.shape(x)[1];
  bool fresh = false;
  T* dx = t.grad_fresh(x, fresh);
  t.backend().launch(kernels::CrossEntropyGrad<T>{static_cast<const T*>(n.saved[2]),
                                                  static_cast<const double*>(n.saved[1]),
                                                  static_cast<const int32_t*>(n.saved[0]),
                                                  t.grad_if_any(y), N, C, dx, fresh},
                     N * C);
}

// ---- stablemax_cross_entropy ----
// Node layout: in = {logits}; saved[0] = targets [N], saved[1] = sum_j s(x_j) per row [N] (double).
template <class T>
void stablemax_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, y{n.out};
  if (!t.requires_grad(x)) return;
  const int64_t N = t.shape(x)[0], C = t.shape(x)[1];
  bool fresh = false;
  T* dx = t.grad_fresh(x, fresh);
  t.backend().launch(
      kernels::StableMaxGrad<T>{t.value(x).data, static_cast<const double*>(n.saved[1]),
                                static_cast<const int32_t*>(n.saved[0]), t.grad_if_any(y), N, C, dx,
                                fresh},
      N * C);
}

// ---- torch_cross_entropy ----
// Node layout: in = {logits}; saved[0] = targets [N], saved[1] = log-softmax [N, C] in U (float
// or double: i[0] = 1 for double).
template <class T, class U>
void torch_ce_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, y{n.out};
  if (!t.requires_grad(x)) return;
  const int64_t N = t.shape(x)[0], C = t.shape(x)[1];
  bool fresh = false;
  T* dx = t.grad_fresh(x, fresh);
  t.backend().launch(kernels::TorchCrossEntropyGrad<T, U>{static_cast<const U*>(n.saved[1]),
                                                          static_cast<const int32_t*>(n.saved[0]),
                                                          t.grad_if_any(y), N, C, dx, fresh},
                     N * C);
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

// Checks logits [N, C] and (host) targets in [0, C); returns N and C.
template <class T>
std::pair<int64_t, int64_t> class_rows(Tape<T>& t, Var logits, const int32_t* targets,
                                       const char* op) {
  const Shape& s = t.shape(logits);
  if (s.rank != 2 || s[1] < 1) detail::shape_error(op, "logits " + s.str() + " must be [N, C]");
  const int64_t N = s[0], C = s[1];
  for (int64_t r = 0; r < N && t.backend().host_memory(); ++r)  // device targets: at upload
    if (targets[r] < 0 || targets[r] >= C)
      detail::shape_error(op, "target " + std::to_string(targets[r]) + " at row " +
                                  std::to_string(r) + " is outside [0, " + std::to_string(C) + ")");
  return {N, C};
}

template <class T, class U>
Var torch_ce_in(Tape<T>& t, Var logits, const int32_t* targets) {
  const auto [N, C] = class_rows(t, logits, targets, "torch_cross_entropy");
  double* loss = t.arena().template alloc<double>(std::max<int64_t>(N, 1));
  U* logp = t.arena().template alloc<U>(N * C);  // [N, C]
  t.backend().launch(
      kernels::TorchCrossEntropyRows<T, U>{t.value(logits).data, targets, C, logp, loss}, N);
  Var y = scalar_of_terms(t, static_cast<const double*>(loss), N, 1.0 / std::max<int64_t>(N, 1),
                          detail::any_grad(t, {logits}));
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&torch_ce_backward<T, U>, y, {logits});
    n.saved = {targets, logp};
    t.record(n);
  }
  return y;
}

}  // namespace

template <class T>
Var stablemax_cross_entropy(Tape<T>& t, Var logits, const int32_t* targets) {
  const auto [N, C] = class_rows(t, logits, targets, "stablemax_cross_entropy");
  double* sums = t.arena().template alloc<double>(std::max<int64_t>(N, 1));
  double* loss = t.arena().template alloc<double>(std::max<int64_t>(N, 1));
  t.backend().launch(kernels::StableMaxRows<T>{t.value(logits).data, targets, C, sums, loss}, N);
  Var y = scalar_of_terms(t, static_cast<const double*>(loss), N, 1.0 / std::max<int64_t>(N, 1),
                          detail::any_grad(t, {logits}));
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&stablemax_backward<T>, y, {logits});
    n.saved = {targets, sums};
    t.record(n);
  }
  return y;
}

template <class T>
Var torch_cross_entropy(Tape<T>& t, Var logits, const int32_t* targets, bool float64) {
  return float64 ? torch_ce_in<T, double>(t, logits, targets)
                 : torch_ce_in<T, float>(t, logits, targets);
}

template <class T>
Var cross_entropy(Tape<T>& t, Var logits, const int32_t* targets) {
  const auto [N, C] = class_rows(t, logits, targets, "cross_entropy");
  double* inv = t.arena().template alloc<double>(N);
  double* loss = t.arena().template alloc<double>(std::max<int64_t>(N, 1));
  T* ex = t.arena().template alloc<T>(N * C);  // exp(x - max), in the logits' precision
  t.backend().launch(kernels::CrossEntropyRows<T>{t.value(logits).data, targets, C, ex, inv, loss},
                     N);
  Var y = scalar_of_terms(t, static_cast<const double*>(loss), N, 1.0 / N,
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
  const Shape s = t.shape(scores);  // a copy: host_constant adds records (recs_ may move)
  if (s.rank != 2 || s[1] != 1)
    detail::shape_error("hinge", "scores " + s.str() + " must be [N, 1] (one score per example)");
  const int64_t N = s[0];
  const T* fv = t.value(scores).data;
  for (int64_t r = 0; r < N && t.backend().host_memory(); ++r)  // device targets: at upload
    if (targets[r] != 0 && targets[r] != 1)
      detail::shape_error("hinge", "target " + std::to_string(targets[r]) + " at row " +
                                       std::to_string(r) + " is not 0 or 1");
  if (KinkPatterns* k = t.kinks()) {  // the recorded point's active terms: mean(m (1 - y f))
    auto y = [targets](int64_t r) { return targets[r] == 1 ? 1.0 : -1.0; };
    const std::vector<uint8_t>& active = detail::kink_sides(
        *k, N, "hinge", [&](int64_t r) { return 1.0 - y(r) * double(fv[r]) > 0; });
    Var slope = detail::host_constant(t, s, [&](int64_t r) { return -y(r) * active[r]; });
    Var offset = detail::host_constant(t, s, [&](int64_t r) { return active[r]; });
    return mean(t, add(t, mul(t, scores, slope), offset));
  }
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

#define GRADSCOPE_INSTANTIATE(T)                                            \
  template Var cross_entropy<T>(Tape<T>&, Var, const int32_t*);             \
  template Var stablemax_cross_entropy<T>(Tape<T>&, Var, const int32_t*);   \
  template Var torch_cross_entropy<T>(Tape<T>&, Var, const int32_t*, bool); \
  template Var hinge<T>(Tape<T>&, Var, const int32_t*);                     \
  template Var mse<T>(Tape<T>&, Var, Var);                                  \
  template Var sum<T>(Tape<T>&, Var);                                       \
  template Var mean<T>(Tape<T>&, Var);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
