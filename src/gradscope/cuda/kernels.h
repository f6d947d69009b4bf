// The device kernels, one functor each: `operator()(i)` does the work of index i and is compiled
// for the GPU (GS_HD = __host__ __device__ under nvcc) and for the host (the emulated device, and
// tests), so both run the same code. DeviceContext::launch(f, n) calls f(i) for i in [0, n).
//
// Rules every kernel keeps, so that results are deterministic (no float atomics) and close to the
// CPU ops': each index writes only its own outputs; sums run in a fixed order (a row's elements
// in order; column sums over fixed chunks of rows, the chunks then summed in order); row
// statistics and every reduction accumulate in double; transcendental functions run in double.
// A kernel that accumulates (+=) says so; `fresh` means "store instead of add".
//
// Shape legend: R = rows, S = broadcast length (columns), D = row width, C = classes, N = rows
// of a loss, B = batch, Tq/Tk = query/key positions, H = heads, Dh = head width, E = H * Dh,
// V = vocabulary.
#pragma once

#include <math.h>

#include <cmath>
#include <cstdint>

#include "gradscope/cuda/hd.h"

namespace gradscope::kernels {

// Single-rounding fused multiply-add and correctly rounded square root in T's own precision, on
// both the host (C's fmaf/fma, sqrtf/sqrt) and the GPU (the same IEEE operations): the optimizers
// then give the CPU's bits.
GS_HD inline float fused(float a, float b, float c) {
  return fmaf(a, b, c);
}
GS_HD inline double fused(double a, double b, double c) {
  return fma(a, b, c);
}
GS_HD inline float root(float a) {
  return sqrtf(a);
}
GS_HD inline double root(double a) {
  return sqrt(a);
}

// ---------------------------------------------------------------------------------- elementwise

// For the cpu forms of broadcasting kernels: the indices [b, e) of a row-major [R, S] array cut
// at row ends, f(i, s, m) for each piece: m indices from i, starting at column s (no division
// per index). The pieces' loops take their pointers as restrict parameters (the helpers below),
// so that the compiler vectorizes them without alias checks.
template <class F>
inline void for_row_pieces(int64_t b, int64_t e, int64_t S, F&& f) {
  for (int64_t i = b, s = b % S; i < e; s = 0) {
    const int64_t m = S - s < e - i ? S - s : e - i;
    f(i, s, m);
    i += m;
  }
}

template <class T>
inline void row_copy(const T* __restrict x, T* __restrict y, int64_t m) {
  for (int64_t k = 0; k < m; ++k) y[k] = x[k];
}
template <class T>
inline void row_add(const T* __restrict x, T* __restrict y, int64_t m) {  // y += x
  for (int64_t k = 0; k < m; ++k) y[k] = T(y[k] + x[k]);
}
template <class T, bool kMul>
inline void row_binary(const T* __restrict a, const T* __restrict b, T* __restrict y, int64_t m) {
  for (int64_t k = 0; k < m; ++k) y[k] = kMul ? T(a[k] * b[k]) : T(a[k] + b[k]);
}
template <class T>
inline void row_add_product(const T* __restrict x, const T* __restrict w, T* __restrict y,
                            int64_t m) {  // y += x * w
  for (int64_t k = 0; k < m; ++k) y[k] += x[k] * w[k];
}

template <class T>
struct Fill {  // y[i] = v
  T* y;
  T v;
  GS_HD void operator()(int64_t i) const { y[i] = v; }
};

template <class T>
struct Copy {  // y[i] (=|+=) x[i]
  const T* x;
  T* y;
  bool accumulate;
  GS_HD void operator()(int64_t i) const { y[i] = accumulate ? T(y[i] + x[i]) : x[i]; }
  void cpu_range(int64_t b, int64_t e) const {  // the cpu's form: one branch per range
    if (!accumulate)
      row_copy(x + b, y + b, e - b);
    else
      row_add(x + b, y + b, e - b);
  }
};

template <class T>
struct BroadcastRows {  // y [R, S] = b [S] in every row
  const T* b;
  T* y;
  int64_t S;
  GS_HD void operator()(int64_t i) const { y[i] = b[i % S]; }
  void cpu_range(int64_t b0, int64_t e) const {  // the cpu's form: row by row
    for_row_pieces(b0, e, S,
                   [this](int64_t i, int64_t s, int64_t m) { row_copy(b + s, y + i, m); });
  }
};

template <class T, bool kMul>
struct Binary {  // y [R, S] = a [R, S] (+|*) b [S]
  const T* a;
  const T* b;
  T* y;
  int64_t S;
  GS_HD void operator()(int64_t i) const { y[i] = kMul ? T(a[i] * b[i % S]) : T(a[i] + b[i % S]); }
  void cpu_range(int64_t b0, int64_t e) const {  // the cpu's form: row by row
    for_row_pieces(b0, e, S, [this](int64_t i, int64_t s, int64_t m) {
      row_binary<T, kMul>(a + i, b + s, y + i, m);
    });
  }
};

template <class T>
struct MulGradA {  // da [R, S] += dy [R, S] * b [S]
  const T* dy;
  const T* b;
  T* da;
  int64_t S;
  GS_HD void operator()(int64_t i) const { da[i] += dy[i] * b[i % S]; }
  void cpu_range(int64_t b0, int64_t e) const {  // the cpu's form: row by row
    for_row_pieces(b0, e, S, [this](int64_t i, int64_t s, int64_t m) {
      row_add_product(dy + i, b + s, da + i, m);
    });
  }
};

template <class T>
struct Product {  // y[i] = x[i] * w[i]
  const T* x;
  const T* w;
  T* y;
  GS_HD void operator()(int64_t i) const { y[i] = x[i] * w[i]; }
};

// Unary ops: forward f(x) and the derivative f'(x) from x and y = f(x); c is the op's constant.
struct ScaleOp {
  template <class T>
  GS_HD static T fwd(T x, double c) {
    return static_cast<T>(c * x);
  }
  template <class T>
  GS_HD static T bwd(T, T, double c) {
    return static_cast<T>(c);
  }
};
// max(x, 0). kCpuVector: the cpu runs it through cpu_unary, a loop the compiler vectorizes into
// the same compare-and-select (no library call: the same bits).
struct ReluOp {
  static constexpr bool kCpuVector = true;
  template <class T>
  GS_HD static T fwd(T x, double) {
    return x > T(0) ? x : T(0);
  }
  template <class T>
  GS_HD static T bwd(T x, T, double) {
    return x > T(0) ? T(1) : T(0);
  }
};
// x Phi(x), the exact (erf) GELU. kCpuVector: the cpu runs it through cpu_unary (below).
struct GeluOp {
  static constexpr bool kCpuVector = true;
  template <class T>
  GS_HD static T fwd(T x, double) {
    return static_cast<T>(0.5 * double(x) * (1.0 + ::erf(double(x) * 0.70710678118654752440)));
  }
  template <class T>
  GS_HD static T bwd(T x, T, double) {
    const double cdf = 0.5 * (1.0 + ::erf(double(x) * 0.70710678118654752440));
    const double pdf = ::exp(-0.5 * double(x) * double(x)) * 0.39894228040143267794;
    return static_cast<T>(cdf + double(x) * pdf);
  }
};
struct GeluTanhOp {  // GPT-2's GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  static constexpr bool kCpuVector = true;
  static constexpr double kBeta = 0.79788456080286535588;  // sqrt(2 / pi)
  static constexpr double kKappa = 0.044715;
  template <class T>
  GS_HD static T fwd(T x, double) {
    const double d = x;
    return static_cast<T>(0.5 * d * (1.0 + ::tanh(kBeta * (d + kKappa * d * d * d))));
  }
  // PyTorch's derivative: 0.5 (1 + t) + 0.5 x (1 - t^2) beta (1 + 3 kappa x^2).
  template <class T>
  GS_HD static T bwd(T x, T, double) {
    const double d = x, t = ::tanh(kBeta * (d + kKappa * d * d * d));
    return static_cast<T>(0.5 * (1.0 + t) +
                          0.5 * d * (1.0 - t * t) * kBeta * (1.0 + 3.0 * kKappa * d * d));
  }
};
struct TanhOp {
  template <class T>
  GS_HD static T fwd(T x, double) {
    return static_cast<T>(::tanh(double(x)));
  }
  template <class T>
  GS_HD static T bwd(T, T y, double) {
    return T(1) - y * y;
  }
};
struct SquareOp {
  template <class T>
  GS_HD static T fwd(T x, double) {
    return x * x;
  }
  template <class T>
  GS_HD static T bwd(T x, T, double) {
    return T(2) * x;
  }
};

#if !defined(__CUDACC__)
// The cpu form of an elementwise op whose body calls the C library (Op::kCpuVector): the same
// Op::fwd / Op::bwd over a range, compiled in cuda/cpu_vector_ops.cpp where GCC may call glibc's
// vector erf, exp and tanh (libmvec, within 2 ulp of the scalar functions in double) for 4 or 8
// elements at a time. tests/unit/cpu_vector_ops_test.cpp compares it with the kernel's loop.
// Whether Op asks for that form (false for an op without kCpuVector).
template <class Op>
concept CpuVectorOp = requires {
  requires Op::kCpuVector;
};
template <class T, class Op>
void cpu_unary(const T* a, T* y, int64_t n, double c);
template <class T, class Op>
void cpu_unary_grad(const T* dy, const T* a, const T* y, T* da, int64_t n, double c, bool fresh);
#endif

template <class T, class Op>
struct Unary {  // y[i] = f(a[i])
  const T* a;
  T* y;
  double c;
  GS_HD void operator()(int64_t i) const { y[i] = Op::fwd(a[i], c); }
#if !defined(__CUDACC__)
  void cpu_range(int64_t b, int64_t e) const requires CpuVectorOp<Op> {
    cpu_unary<T, Op>(a + b, y + b, e - b, c);
  }
#endif
};

template <class T, class Op>
struct UnaryGrad {  // da[i] (=|+=) dy[i] f'(a[i])
  const T* dy;
  const T* a;
  const T* y;
  T* da;
  double c;
  bool fresh;
  GS_HD void operator()(int64_t i) const {
    const T d = dy[i] * Op::bwd(a[i], y[i], c);
    da[i] = fresh ? d : T(da[i] + d);
  }
#if !defined(__CUDACC__)
  void cpu_range(int64_t b, int64_t e) const requires CpuVectorOp<Op> {
    cpu_unary_grad<T, Op>(dy + b, a + b, y + b, da + b, e - b, c, fresh);
  }
#endif
};

// ---------------------------------------------------------------------------------- reductions

// part[c, s] = sum of x[r, s] (* w[r, s] when w) over the rows r of chunk c, in order.
// Index i = c * S + s.
template <class T>
struct ColumnPartials {
  const T* x;
  const T* w;
  int64_t R, S, chunk;
  double* part;
  GS_HD void operator()(int64_t i) const {
    const int64_t c = i / S, s = i % S;
    const int64_t r1 = (c + 1) * chunk < R ? (c + 1) * chunk : R;
    double acc = 0;
    for (int64_t r = c * chunk; r < r1; ++r)
      acc += w ? double(x[r * S + s]) * double(w[r * S + s]) : double(x[r * S + s]);
    part[i] = acc;
  }
};

template <class T>
struct ColumnFinish {  // out[s] (+|=)= sum_c part[c, s], chunks in order
  const double* part;
  int64_t chunks, S;
  T* out;
  bool accumulate;
  GS_HD void operator()(int64_t s) const {
    double acc = 0;
    for (int64_t c = 0; c < chunks; ++c) acc += part[c * S + s];
    out[s] = accumulate ? T(out[s] + T(acc)) : T(acc);
  }
};

struct SumChunks {  // part[c] = sum of v over chunk c, in order
  const double* v;
  int64_t n, chunk;
  double* part;
  int64_t cpu_cost() const { return chunk; }
  GS_HD void operator()(int64_t c) const {
    const int64_t i1 = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    double acc = 0;
    for (int64_t i = c * chunk; i < i1; ++i) acc += v[i];
    part[c] = acc;
  }
};

template <class T>
struct SumFinish {  // out[0] = T(factor * sum of part, in order); one index. Also `total` (double).
  const double* part;
  int64_t chunks;
  double factor;
  T* out;
  double* total;
  GS_HD void operator()(int64_t) const {
    double acc = 0;
    for (int64_t c = 0; c < chunks; ++c) acc += part[c];
    if (total) *total = acc;
    if (out) out[0] = static_cast<T>(acc * factor);
  }
};

template <class T>
struct SquareTerms {  // out[i] = x[i]^2 in double
  const T* x;
  double* out;
  GS_HD void operator()(int64_t i) const { out[i] = double(x[i]) * double(x[i]); }
};

template <class T>
struct ProductTerms {  // out[i] = a[i] b[i] in double
  const T* a;
  const T* b;
  double* out;
  GS_HD void operator()(int64_t i) const { out[i] = double(a[i]) * double(b[i]); }
};

template <class T>
struct DoubleTerms {  // out[i] = x[i] in double
  const T* x;
  double* out;
  GS_HD void operator()(int64_t i) const { out[i] = double(x[i]); }
};

template <class T>
struct SquaredDiffTerms {  // out[i] = (a[i] - b[i])^2 in double
  const T* a;
  const T* b;
  double* out;
  GS_HD void operator()(int64_t i) const {
    const double d = double(a[i]) - double(b[i]);
    out[i] = d * d;
  }
};

template <class T>
struct ScalarGrad {  // dx[i] += gout[0] * factor (the backward of sum and mean)
  const T* gout;
  double factor;
  T* dx;
  GS_HD void operator()(int64_t i) const { dx[i] += static_cast<T>(double(gout[0]) * factor); }
};

template <class T>
struct MseGrad {  // d[i] += sign 2 gout (a - b) / n for d = da (sign 1) or db (sign -1)
  const T* a;
  const T* b;
  const T* gout;
  int64_t n;
  double sign;
  T* d;
  GS_HD void operator()(int64_t i) const {
    d[i] += static_cast<T>(sign * 2.0 * double(gout[0]) / n * (double(a[i]) - double(b[i])));
  }
};

// -------------------------------------------------------------------------------------- rows

template <class T>
struct SoftmaxRows {  // y [R, D] = softmax of x over each row
  const T* x;
  T* y;
  int64_t D;
  int64_t cpu_cost() const { return D; }  // one row per index
  GS_HD void operator()(int64_t r) const {
    const T* xr = x + r * D;
    T m = xr[0];
    for (int64_t j = 1; j < D; ++j) m = xr[j] > m ? xr[j] : m;
    double total = 0;
    for (int64_t j = 0; j < D; ++j) total += ::exp(double(xr[j]) - double(m));
    for (int64_t j = 0; j < D; ++j)
      y[r * D + j] = static_cast<T>(::exp(double(xr[j]) - double(m)) / total);
  }
};

template <class T>
struct SoftmaxGrad {  // dx += y (dy - <dy, y>) per row
  const T* dy;
  const T* y;
  T* dx;
  int64_t D;
  int64_t cpu_cost() const { return D; }  // one row per index
  GS_HD void operator()(int64_t r) const {
    double dot = 0;
    for (int64_t j = 0; j < D; ++j) dot += double(dy[r * D + j]) * double(y[r * D + j]);
    for (int64_t j = 0; j < D; ++j)
      dx[r * D + j] += static_cast<T>(double(y[r * D + j]) * (double(dy[r * D + j]) - dot));
  }
};

// sum_j f(j) over j < n as four interleaved partial sums, ((s0 + s1) + (s2 + s3)): a row
// reduction the cpu's compiler vectorizes (a serial double sum runs at one add per four cycles);
// every device computes the same sums in the same order.
template <class F>
GS_HD double lane_sum(int64_t n, const F& f) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += f(j);
    s1 += f(j + 1);
    s2 += f(j + 2);
    s3 += f(j + 3);
  }
  for (; j < n; ++j) s0 += f(j);
  return (s0 + s1) + (s2 + s3);
}

template <class T>
struct LayerNormRows {  // y = (x - mean) rstd * g + b per row; mean, rstd [R] saved (double)
  const T* x;
  const T* g;
  const T* b;
  T* y;
  double* mean;
  double* rstd;
  int64_t D;
  double eps;
  int64_t cpu_cost() const { return D; }  // one row per index
  GS_HD void operator()(int64_t r) const {
    const T* xr = x + r * D;
    const double m = lane_sum(D, [xr](int64_t j) { return double(xr[j]); }) / D;
    const double v = lane_sum(D, [xr, m](int64_t j) { return (xr[j] - m) * (xr[j] - m); });
    const double s = 1.0 / ::sqrt(v / D + eps);
    mean[r] = m;
    rstd[r] = s;
    for (int64_t j = 0; j < D; ++j)
      y[r * D + j] =
          static_cast<T>((xr[j] - m) * s * (g ? double(g[j]) : 1.0) + (b ? double(b[j]) : 0.0));
  }
};

template <class T>
struct LayerNormGradX {  // dx += rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) per row
  const T* dy;
  const T* x;
  const T* g;
  const double* mean;
  const double* rstd;
  T* dx;
  int64_t D;
  int64_t cpu_cost() const { return D; }  // one row per index
  GS_HD void operator()(int64_t r) const {
    const T *dyr = dy + r * D, *xr = x + r * D, *gr = g;
    const double mr = mean[r], sr = rstd[r];
    auto dxhat = [dyr, gr](int64_t j) { return double(dyr[j]) * (gr ? double(gr[j]) : 1.0); };
    const double m1 = lane_sum(D, dxhat) / D;
    const double m2 =
        lane_sum(D, [dxhat, xr, mr, sr](int64_t j) { return dxhat(j) * (xr[j] - mr) * sr; }) / D;
    for (int64_t j = 0; j < D; ++j)
      dx[r * D + j] += static_cast<T>(sr * (dxhat(j) - m1 - (xr[j] - mr) * sr * m2));
  }
};

template <class T>
struct LayerNormXhat {  // p[r, j] = dy[r, j] xhat[r, j] (for dgamma's column sums)
  const T* dy;
  const T* x;
  const double* mean;
  const double* rstd;
  T* p;
  int64_t D;
  GS_HD void operator()(int64_t i) const {
    const int64_t r = i / D;
    p[i] = static_cast<T>(dy[i] * (x[i] - mean[r]) * rstd[r]);
  }
  void cpu_range(int64_t b, int64_t e) const {  // the cpu's form: row by row
    for_row_pieces(b, e, D, [this](int64_t i, int64_t, int64_t m) {
      const int64_t r = i / D;
      for (int64_t k = i; k < i + m; ++k) p[k] = static_cast<T>(dy[k] * (x[k] - mean[r]) * rstd[r]);
    });
  }
};

// ---------------------------------------------------------------------------------- attention

struct AttnShape {
  int64_t B, Tq, Tk, H, Dh, E;
  bool causal;
  double scale;  // 1 / sqrt(Dh)
  GS_HD int64_t q_at(int64_t b, int64_t i, int64_t h) const { return (b * Tq + i) * E + h * Dh; }
  GS_HD int64_t k_at(int64_t b, int64_t s, int64_t h) const { return (b * Tk + s) * E + h * Dh; }
  // Keys query i sees (queries are the last Tq of Tk positions); the first query key s reaches.
  GS_HD int64_t keys(int64_t i) const { return causal ? i + (Tk - Tq) + 1 : Tk; }
  GS_HD int64_t first_query(int64_t s) const {
    return causal ? (s - (Tk - Tq) > 0 ? s - (Tk - Tq) : 0) : 0;
  }
};

// One (b, h, query i) per index, i = (b H + h) Tq + i: P [B, H, Tq, Tk] (masked entries 0) and
// y_i = sum_s P[s] v_s. sc [B, H, Tq, Tk] is double scratch.
template <class T>
struct AttentionForward {
  AttnShape d;
  const T* q;
  const T* k;
  const T* v;
  T* y;
  T* P;
  double* sc;
  GS_HD void operator()(int64_t at) const {
    const int64_t i = at % d.Tq, h = (at / d.Tq) % d.H, b = at / (d.Tq * d.H);
    const int64_t smax = d.keys(i);
    const T* qi = q + d.q_at(b, i, h);
    double* s_ = sc + at * d.Tk;
    double m = -1e300;
    for (int64_t s = 0; s < smax; ++s) {
      const T* ks = k + d.k_at(b, s, h);
      double acc = 0;
      for (int64_t c = 0; c < d.Dh; ++c) acc += double(qi[c]) * double(ks[c]);
      s_[s] = acc * d.scale;
      m = s_[s] > m ? s_[s] : m;
    }
    double total = 0;
    for (int64_t s = 0; s < smax; ++s) total += (s_[s] = ::exp(s_[s] - m));
    T* Pi = P + at * d.Tk;
    for (int64_t s = 0; s < d.Tk; ++s) Pi[s] = s < smax ? static_cast<T>(s_[s] / total) : T(0);
    T* yi = y + d.q_at(b, i, h);
    for (int64_t c = 0; c < d.Dh; ++c) yi[c] = T(0);
    for (int64_t s = 0; s < smax; ++s) {
      const T* vs = v + d.k_at(b, s, h);
      for (int64_t c = 0; c < d.Dh; ++c) yi[c] += Pi[s] * vs[c];
    }
  }
};

// One (b, h, query i) per index: dS[s] = P[s] (dy_i . v_s - sum_s' P dP) scale (kept in ds for
// AttentionGradKV), and dq_i += sum_s dS[s] k_s when dq.
template <class T>
struct AttentionGradQ {
  AttnShape d;
  const T* k;
  const T* v;
  const T* P;
  const T* dy;
  double* ds;
  T* dq;
  GS_HD void operator()(int64_t at) const {
    const int64_t i = at % d.Tq, h = (at / d.Tq) % d.H, b = at / (d.Tq * d.H);
    const int64_t smax = d.keys(i);
    const T* gy = dy + d.q_at(b, i, h);
    const T* Pi = P + at * d.Tk;
    double* dS = ds + at * d.Tk;
    double dot = 0;
    for (int64_t s = 0; s < smax; ++s) {
      const T* vs = v + d.k_at(b, s, h);
      double acc = 0;
      for (int64_t c = 0; c < d.Dh; ++c) acc += double(gy[c]) * double(vs[c]);
      dS[s] = acc;
      dot += Pi[s] * acc;
    }
    for (int64_t s = 0; s < smax; ++s) dS[s] = Pi[s] * (dS[s] - dot) * d.scale;
    for (int64_t s = smax; s < d.Tk; ++s) dS[s] = 0;
    if (!dq) return;
    T* dqi = dq + d.q_at(b, i, h);
    for (int64_t s = 0; s < smax; ++s) {
      const T* ks = k + d.k_at(b, s, h);
      for (int64_t c = 0; c < d.Dh; ++c) dqi[c] += static_cast<T>(dS[s] * ks[c]);
    }
  }
};

// One (b, h, key s) per index, at = (b H + h) Tk + s: dk_s += sum_i dS[i, s] q_i and
// dv_s += sum_i P[i, s] dy_i over the queries that see key s, in order.
template <class T>
struct AttentionGradKV {
  AttnShape d;
  const T* q;
  const T* P;
  const T* dy;
  const double* ds;
  T* dk;
  T* dv;
  GS_HD void operator()(int64_t at) const {
    const int64_t s = at % d.Tk, h = (at / d.Tk) % d.H, b = at / (d.Tk * d.H);
    for (int64_t i = d.first_query(s); i < d.Tq; ++i) {
      const int64_t row = ((b * d.H + h) * d.Tq + i) * d.Tk + s;
      const T* qi = q + d.q_at(b, i, h);
      const T* gy = dy + d.q_at(b, i, h);
      if (dk) {
        T* dks = dk + d.k_at(b, s, h);
        for (int64_t c = 0; c < d.Dh; ++c) dks[c] += static_cast<T>(ds[row] * qi[c]);
      }
      if (dv) {
        T* dvs = dv + d.k_at(b, s, h);
        for (int64_t c = 0; c < d.Dh; ++c) dvs[c] += P[row] * gy[c];
      }
    }
  }
};

// ---------------------------------------------------------------------------------- indexing

template <class T>
struct Gather {  // y [R, D] = W [V, D] rows ids [R]; i = r D + c
  const int32_t* ids;
  const T* W;
  T* y;
  int64_t D;
  GS_HD void operator()(int64_t i) const { y[i] = W[int64_t{ids[i / D]} * D + i % D]; }
  void cpu_range(int64_t b, int64_t e) const {  // the cpu's form: row by row
    for_row_pieces(b, e, D, [this](int64_t i, int64_t c, int64_t m) {
      row_copy(W + int64_t{ids[i / D]} * D + c, y + i, m);
    });
  }
};

template <class T>
struct PairSum {  // y [N, D] = W [V, D] rows ids[2n] + ids[2n + 1] (ids [N, 2]); i = n D + c
  const int32_t* ids;
  const T* W;
  T* y;
  int64_t D;
  GS_HD void operator()(int64_t i) const {
    const int64_t n = i / D, c = i % D;
    y[i] = W[int64_t{ids[2 * n]} * D + c] + W[int64_t{ids[2 * n + 1]} * D + c];
  }
  void cpu_range(int64_t b, int64_t e) const {  // the cpu's form: row by row
    for_row_pieces(b, e, D, [this](int64_t i, int64_t c, int64_t m) {
      const T* first = W + int64_t{ids[2 * (i / D)]} * D + c;
      const T* second = W + int64_t{ids[2 * (i / D) + 1]} * D + c;
      for (int64_t k = 0; k < m; ++k) y[i + k] = first[k] + second[k];
    });
  }
};

template <class T>
struct OneHot {  // y [R, L V] = the one-hot rows of ids [R, L], concatenated; i = (r L + k) V + v
  const int32_t* ids;
  int64_t L, V;
  T* y;
  GS_HD void operator()(int64_t i) const { y[i] = ids[i / V] == i % V ? T(1) : T(0); }
};

template <class T>
struct GatherGradScan {  // dW [V, D] += dy[r / group] for each r with ids[r] = v, in order;
                         // i = v D + c (group: ids a row of dy, 2 for PairSum)
  const int32_t* ids;
  int64_t count, D;
  const T* dy;
  T* dW;
  int64_t group = 1;
  GS_HD void operator()(int64_t i) const {
    const int64_t v = i / D, c = i % D;
    T acc = dW[i];
    for (int64_t r = 0; r < count; ++r)
      if (ids[r] == v) acc += dy[(r / group) * D + c];
    dW[i] = acc;
  }
  // The cpu's form over columns c0..c1 of dW: the same sums (each element adds its rows in
  // order), in one pass over the ids.
  int64_t cpu_extent(int64_t) const { return D; }
  int64_t cpu_cost() const { return count; }
  void cpu_range(int64_t c0, int64_t c1) const {
    for (int64_t r = 0; r < count; ++r)
      for (int64_t c = c0; c < c1; ++c) dW[int64_t{ids[r]} * D + c] += dy[(r / group) * D + c];
  }
};

template <class T>
struct Transpose {  // y [..., N, M] (=|+=) x [..., M, N]; i over y
  const T* x;
  T* y;
  int64_t M, N;
  bool accumulate;
  GS_HD void operator()(int64_t i) const {
    const int64_t m = i % M, n = (i / M) % N, b = i / (M * N);
    const T v = x[(b * M + m) * N + n];
    y[i] = accumulate ? T(y[i] + v) : v;
  }
  void cpu_range(int64_t b0, int64_t e) const {  // the cpu's form: along y's rows
    for_row_pieces(b0, e, M, [this](int64_t i, int64_t m0, int64_t len) {
      const int64_t r = i / M, n = r % N, b = r / N;
      const T* xb = x + b * M * N + n;
      if (accumulate)
        for (int64_t k = 0; k < len; ++k) y[i + k] = T(y[i + k] + xb[(m0 + k) * N]);
      else
        for (int64_t k = 0; k < len; ++k) y[i + k] = xb[(m0 + k) * N];
    });
  }
};

// A slice [start, start + len) of the middle dimension of x [outer, size, inner]: y [outer,
// len, inner] = x[:, start:start+len, :] (forward), or dx[:, start:start+len, :] += dy (grad).
template <class T>
struct Slice {
  const T* src;
  T* dst;
  int64_t size, inner, start, len;
  bool grad;
  GS_HD void operator()(int64_t i) const {
    const int64_t o = i / (len * inner), j = i % (len * inner);
    const int64_t at = (o * size + start) * inner + j;
    if (grad)
      dst[at] += src[i];
    else
      dst[i] = src[at];
  }
  void cpu_range(int64_t b, int64_t e) const {  // the cpu's form: row by row
    for_row_pieces(b, e, len * inner, [this](int64_t i, int64_t j, int64_t m) {
      const int64_t at = (i / (len * inner) * size + start) * inner + j;
      if (grad)
        row_add(src + i, dst + at, m);
      else
        row_copy(src + at, dst + i, m);
    });
  }
};

// -------------------------------------------------------------------------------------- losses

GS_HD inline float exp_of(float x) {
  return ::expf(x);
}
GS_HD inline double exp_of(double x) {
  return ::exp(x);
}
GS_HD inline float log_of(float x) {
  return ::logf(x);
}
GS_HD inline double log_of(double x) {
  return ::log(x);
}

// Per row r of logits [N, C] (one index a row): ex[r, :] = exp(x - max) in T (0 below exp's
// underflow), rest = the sum of the others in double, inv[r] = 1 / (1 + rest) (the softmax is ex
// * inv) and loss[r] = max + log1p(rest) - x[target] (log1p keeps losses near 1e-7 accurate).
// The cpu form (autograd/ops_loss.cpp) takes a float row's exps four lanes at a time with
// expf's bits (tensor/vector_exp.h), and four rows' maxima and sums side by side.
template <class T>
struct CrossEntropyRows {
  const T* x;
  const int32_t* target;
  int64_t C;
  T* ex;
  double* inv;
  double* loss;
  int64_t cpu_cost() const { return 8 * C; }  // an exp costs about eight additions
  GS_HD int64_t argmax(int64_t r) const {
    const T* xr = x + r * C;
    int64_t arg = 0;
    for (int64_t j = 1; j < C; ++j)
      if (xr[j] > xr[arg]) arg = j;
    return arg;
  }
  GS_HD void finish(int64_t r, int64_t arg) const {  // from the row's exps
    const T* er = ex + r * C;
    double rest = 0;
    for (int64_t j = 0; j < C; ++j)
      if (j != arg) rest += double(er[j]);
    finish(r, arg, rest);
  }
  GS_HD void finish(int64_t r, int64_t arg, double rest) const {  // from the others' sum
    inv[r] = 1.0 / (1.0 + rest);
    loss[r] = double(x[r * C + arg]) + ::log1p(rest) - double(x[r * C + target[r]]);
  }
  GS_HD void operator()(int64_t r) const {
    const int64_t arg = argmax(r);
    const T mx = x[r * C + arg];
    for (int64_t j = 0; j < C; ++j) {
      const T d = x[r * C + j] - mx;
      ex[r * C + j] = d < T(-746) ? T(0) : exp_of(d);
    }
    finish(r, arg);
  }
  void cpu_range(int64_t b, int64_t e) const;  // autograd/ops_loss.cpp
};
template <>
void CrossEntropyRows<float>::cpu_range(int64_t b, int64_t e) const;
template <>
void CrossEntropyRows<double>::cpu_range(int64_t b, int64_t e) const;

template <class T>
struct CrossEntropyGrad {  // dx[r, j] (=|+=) g (ex inv - onehot), g = gout / N; i = r C + j
  const T* ex;
  const double* inv;
  const int32_t* target;
  const T* gout;
  int64_t N, C;
  T* dx;
  bool fresh;
  // In double before rounding: at tiny losses p_target - 1 = -(sum of the others) / (1 + sum),
  // far below T's resolution of 1.
  GS_HD T term(int64_t r, int64_t j, double g) const {
    return static_cast<T>(g * inv[r] * double(ex[r * C + j]) - (j == target[r] ? g : 0.0));
  }
  GS_HD void operator()(int64_t i) const {
    const int64_t r = i / C, j = i % C;
    const T d = term(r, j, double(gout[0]) / N);
    dx[i] = fresh ? d : T(dx[i] + d);
  }
  // The cpu's form, row by row: term()'s bits, the target's column apart, so that the others'
  // loops ((g inv) ex, as term() multiplies; minus 0.0 changes no value) vectorize. A double
  // gradient added to (not fresh) keeps term()'s loop: there the compiler would fuse the product
  // with the sum into one FMA, which rounds once where term() rounds twice.
  void cpu_range(int64_t b, int64_t e) const {
    const double g = double(gout[0]) / N;
    for_row_pieces(b, e, C, [this, g](int64_t i, int64_t j0, int64_t m) {
      const int64_t r = i / C, t = target[r] - j0;  // the target's column in this piece
      if (!fresh && !std::is_same_v<T, float>) {
        for (int64_t k = 0; k < m; ++k) dx[i + k] += term(r, j0 + k, g);
        return;
      }
      const int64_t split = t >= 0 && t < m ? t : m;
      const double gi = g * inv[r];
      others(ex + i, gi, dx + i, split);
      if (split < m) {  // the target: term()'s product rounded before the subtraction, as there
        const volatile double product = gi * double(ex[i + t]);  // no fused FMA
        const T d = static_cast<T>(product - g);
        dx[i + t] = fresh ? d : T(dx[i + t] + d);
        others(ex + i + t + 1, gi, dx + i + t + 1, m - t - 1);
      }
    });
  }
  void others(const T* __restrict e, double gi, T* __restrict d, int64_t m) const {
    if (fresh)
      for (int64_t k = 0; k < m; ++k) d[k] = static_cast<T>(gi * double(e[k]));
    else  // float: the product rounds to float before the float sum
      for (int64_t k = 0; k < m; ++k) d[k] = T(d[k] + static_cast<T>(gi * double(e[k])));
  }
};

template <class T>
struct HingeRows {  // loss[r] = max(0, 1 - y f), y = 2 target - 1
  const T* f;
  const int32_t* target;
  double* loss;
  GS_HD void operator()(int64_t r) const {
    const double m = 1.0 - (target[r] == 1 ? 1.0 : -1.0) * double(f[r]);
    loss[r] = m > 0 ? m : 0.0;
  }
};

template <class T>
struct HingeGrad {  // df[r] += -y gout / N where the margin is below 1 (0 at the kink)
  const T* f;
  const int32_t* target;
  const T* gout;
  int64_t N;
  T* df;
  GS_HD void operator()(int64_t r) const {
    const double y = target[r] == 1 ? 1.0 : -1.0;
    if (1.0 - y * double(f[r]) > 0) df[r] += static_cast<T>(-y * double(gout[0]) / N);
  }
};

// StableMax cross-entropy (Prieto et al. 2025, their utils.py): s(x) = x + 1 for x >= 0 and
// 1 / (1 - x) below; loss[r] = -log(s(x_t) / sum_j s(x_j)), in double as their code computes it
// (the logits cast to float64, no max subtracted); sum[r] = sum_j s(x_j). One index a row.
GS_HD inline double stable_s(double x) {
  return x < 0 ? 1.0 / (1.0 - x) : x + 1.0;
}
GS_HD inline double stable_ds(double x) {  // s'(x)
  return x < 0 ? 1.0 / ((1.0 - x) * (1.0 - x)) : 1.0;
}

template <class T>
struct StableMaxRows {
  const T* x;
  const int32_t* target;
  int64_t C;
  double* sum;
  double* loss;
  int64_t cpu_cost() const { return 4 * C; }
  GS_HD void operator()(int64_t r) const {
    const T* xr = x + r * C;
    double s = 0;
    for (int64_t j = 0; j < C; ++j) s += stable_s(double(xr[j]));
    sum[r] = s;
    loss[r] = -::log(stable_s(double(xr[target[r]])) / s);
  }
};

template <class T>
struct StableMaxGrad {  // dx[r, j] (=|+=) g (s'(x_j) / sum - [j = t] s'(x_t) / s(x_t)); i = r C + j
  const T* x;
  const double* sum;
  const int32_t* target;
  const T* gout;
  int64_t N, C;
  T* dx;
  bool fresh;
  GS_HD void operator()(int64_t i) const {
    const int64_t r = i / C, j = i % C;
    const double g = double(gout[0]) / N, xj = double(x[i]);
    double d = stable_ds(xj) / sum[r];
    if (j == target[r]) d -= stable_ds(xj) / stable_s(xj);
    const T v = static_cast<T>(g * d);
    dx[i] = fresh ? v : T(dx[i] + v);
  }
};

// Cross-entropy as PyTorch computes it (log_softmax, then nll_loss with mean reduction) with the
// logits cast to U (float: the float32 arm of Prieto et al., where the softmax collapses; double:
// their float64 arm): per row, in U, m = max, sum = the sum of exp(x - m) (in order), logp =
// (x - m) - log sum (PyTorch's CPU order), loss[r] = -logp[target]. One index a row. PyTorch's
// vectorized exp is not always correctly rounded, so a few logp differ from its by an ulp.
template <class T, class U>
struct TorchCrossEntropyRows {
  const T* x;
  const int32_t* target;
  int64_t C;
  U* logp;  // [N, C]
  double* loss;
  int64_t cpu_cost() const { return 8 * C; }
  GS_HD void operator()(int64_t r) const {
    const T* xr = x + r * C;
    U m = U(xr[0]);
    for (int64_t j = 1; j < C; ++j) m = U(xr[j]) > m ? U(xr[j]) : m;
    U s = U(0);
    for (int64_t j = 0; j < C; ++j) s += exp_of(U(U(xr[j]) - m));
    const U log_sum = log_of(s);
    for (int64_t j = 0; j < C; ++j) logp[r * C + j] = U(U(U(xr[j]) - m) - log_sum);
    loss[r] = -double(logp[r * C + target[r]]);
  }
};

// Its gradient as PyTorch's log_softmax backward: dx = go - exp(logp) * sum(go), in U, where go
// (from nll_loss) is -g at the target and 0 elsewhere, g = gout / N; then rounded to T.
template <class T, class U>
struct TorchCrossEntropyGrad {
  const U* logp;
  const int32_t* target;
  const T* gout;
  int64_t N, C;
  T* dx;
  bool fresh;
  GS_HD void operator()(int64_t i) const {
    const int64_t r = i / C, j = i % C;
    const U g = U(double(gout[0]) / N);
    const U go = j == target[r] ? U(-g) : U(0);
    const U prod = U(exp_of(logp[i]) * U(-g));
    const T v = static_cast<T>(U(go - prod));
    dx[i] = fresh ? v : T(dx[i] + v);
  }
};

// ---------------------------------------------------------------------------------- optimizers

// One Adam(W) update per index, the operations of the CPU optimizer (optim/optimizer.cpp) in the
// same order with the same fused multiply-adds. k (device, set before each step): step_size,
// sqrt(bias correction 2), decay = 1 - lr wd.
template <class T, bool kDecoupled>
struct AdamUpdate {
  T* p;
  const T* g;
  T* m;
  T* v;
  const double* k;
  T wd, b1, b2, one_b1, one_b2, eps;
  bool has_wd;
  GS_HD void operator()(int64_t i) const {
    const T step_size = static_cast<T>(k[0]), bc2_sqrt = static_cast<T>(k[1]);
    const T decay = static_cast<T>(k[2]);
    T gi = g[i], pi = p[i];
    if (has_wd) {
      if (kDecoupled)
        pi = pi * decay;
      else
        gi = fused(wd, pi, gi);
    }
    const T mi = fused(m[i], b1, one_b1 * gi);
    const T vi = fused(v[i], b2, one_b2 * gi * gi);
    const T denom = root(vi) / bc2_sqrt + eps;
    m[i] = mi;
    v[i] = vi;
    p[i] = fused(-step_size, mi / denom, pi);
  }
};

// One SGD update per index (momentum, dampening, Nesterov, L2), as the CPU optimizer. k (device):
// lr, first (1 on the first step: the momentum buffer starts at the gradient).
template <class T>
struct SgdUpdate {
  T* p;
  const T* g;
  T* buf;
  const double* k;
  T wd, mom, damp;
  bool has_wd, nesterov;
  GS_HD void operator()(int64_t i) const {
    const T rate = static_cast<T>(k[0]);
    T d = g[i];
    if (has_wd) d = d + wd * p[i];
    if (buf) {
      buf[i] = k[1] != 0 ? d : T(buf[i] * mom + damp * d);
      d = nesterov ? T(d + mom * buf[i]) : buf[i];
    }
    p[i] = p[i] - rate * d;
  }
};

template <class T>
struct ClipScale {  // g *= max_norm / (norm + 1e-6) when that is below 1; norm2 = ||g||^2
  T* g;
  const double* norm2;
  double max_norm;
  GS_HD void operator()(int64_t i) const {
    const double coef = max_norm / (::sqrt(*norm2) + 1e-6);
    if (coef < 1.0) g[i] *= static_cast<T>(coef);
  }
};

// ---------------------------------------------------------------------------------- optimizer tail
// k (the optimizer's numbers, optimizer.h): k[3] = the gradients filtered before this one.

// Grokfast's EMA filter (grokfast.py gradfilter_ema): mu starts at the first gradient;
// mu = mu * alpha + g * rest; g = g + mu * lambda.
template <class T>
struct GradEma {
  T* g;
  T* mu;
  const double* k;
  T alpha, rest, lambda;
  GS_HD void operator()(int64_t i) const {
    if (k[3] == 0) mu[i] = g[i];
    mu[i] = mu[i] * alpha + g[i] * rest;
    g[i] = g[i] + mu[i] * lambda;
  }
};

// Grokfast's MA filter, first part: gradient number k[3] into slot k[3] mod w of ring [w, n].
template <class T>
struct GradWindowStore {
  const T* g;
  T* ring;
  const double* k;
  int64_t n, w;
  GS_HD void operator()(int64_t i) const { ring[(int64_t(k[3]) % w) * n + i] = g[i]; }
};

// Second part, once the ring holds w gradients: g = g + (their sum, oldest first, from 0) / w *
// lambda (grokfast.py gradfilter_ma: Python's sum over the deque, then / window * lamb).
template <class T>
struct GradWindowMean {
  T* g;
  const T* ring;
  const double* k;
  int64_t n, w;
  T count, lambda;
  GS_HD void operator()(int64_t i) const {
    const int64_t seen = int64_t(k[3]);
    if (seen + 1 < w) return;
    T sum = T(0);
    for (int64_t j = 0; j < w; ++j) sum = sum + ring[((seen + 1 + j) % w) * n + i];
    g[i] = g[i] + (sum / count) * lambda;
  }
  // The cpu's form: the same sums, a block of indices at a time row by row (the ring's rows are
  // read in order instead of w strided streams).
  void cpu_range(int64_t b, int64_t e) const {
    const int64_t seen = int64_t(k[3]);
    if (seen + 1 < w) return;
    constexpr int64_t kBlock = 512;
    T sum[kBlock];
    for (int64_t b0 = b; b0 < e; b0 += kBlock) {
      const int64_t m = e - b0 < kBlock ? e - b0 : kBlock;
      for (int64_t i = 0; i < m; ++i) sum[i] = T(0);
      for (int64_t j = 0; j < w; ++j) {
        const T* row = ring + ((seen + 1 + j) % w) * n + b0;
        for (int64_t i = 0; i < m; ++i) sum[i] = sum[i] + row[i];
      }
      for (int64_t i = 0; i < m; ++i) g[b0 + i] = g[b0 + i] + (sum[i] / count) * lambda;
    }
  }
};

// ⊥Grad (Prieto et al. 2025, their orthograd.py), per parameter tensor w with gradient g; d holds
// the tensor's [g.w, w.w, g.g, |g_orth|^2] in double. OrthoProject: g -= T(g.w / (w.w + 1e-30)) w;
// OrthoScale: g *= T(|g| / (|g_orth| + 1e-30)), the original norm restored.
template <class T>
struct OrthoProject {
  T* g;
  const T* w;
  const double* d;
  GS_HD void operator()(int64_t i) const {
    const T proj = static_cast<T>(d[0] / (d[1] + 1e-30));
    g[i] = g[i] - proj * w[i];
  }
};

template <class T>
struct OrthoScale {
  T* g;
  const double* d;
  GS_HD void operator()(int64_t i) const {
    g[i] = g[i] * static_cast<T>(::sqrt(d[2]) / (::sqrt(d[3]) + 1e-30));
  }
};

template <class T>
struct NormScale {  // x[i] *= T(target / sqrt(norm2)): Omnigrok's fixed norm; norm2 = ||x||^2
  T* x;
  const double* norm2;
  double target;
  GS_HD void operator()(int64_t i) const { x[i] = x[i] * static_cast<T>(target / ::sqrt(*norm2)); }
};

}  // namespace gradscope::kernels
