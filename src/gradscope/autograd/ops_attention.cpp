// Fused multi-head scaled dot-product attention (optionally causal) on projected q, k, v.
// Work is split over (batch, head) pairs; each pair owns disjoint slices of every output and
// gradient, so results do not depend on the thread count. Dot products over the head width
// accumulate in double; from kTransposeKeys keys on, one head coordinate at a time across all
// keys (a transposed copy of the pair's keys or values), which vectorizes over keys. Float
// products are exact in double, so both loops give the same sums bit for bit.
#include <cmath>

#include "gradscope/autograd/ops_common.h"

namespace gradscope {
namespace {

// out [Dh, Tk] = the (b, h) slice of x [B, Tk, E] transposed (head coordinate-major).
template <class T>
void transpose_head(const T* x, int64_t Tk, int64_t E, int64_t Dh, T* out) {
  for (int64_t s = 0; s < Tk; ++s)
    for (int64_t c = 0; c < Dh; ++c) out[c * Tk + s] = x[s * E + c];
}

// Keys below which the dot products run key by key (the transposed layout does not pay off).
constexpr int64_t kTransposeKeys = 16;

// acc[s] = sum_c a[c] * x_s[c] for s < smax, in double, coordinate c in order: over the transposed
// copy xt [Dh, Tk] (vectorized across keys) when xt is given, else over x's rows (stride E).
template <class T>
void dots(const T* a, const T* x, const T* xt, int64_t Dh, int64_t Tk, int64_t E, int64_t smax,
          double* acc) {
  if (!xt) {
    for (int64_t s = 0; s < smax; ++s) {
      const T* xs = x + s * E;
      double d = 0;
      for (int64_t c = 0; c < Dh; ++c) d += double(a[c]) * double(xs[c]);
      acc[s] = d;
    }
    return;
  }
  for (int64_t s = 0; s < smax; ++s) acc[s] = 0;
  for (int64_t c = 0; c < Dh; ++c) {
    const double ac = double(a[c]);
    const T* row = xt + c * Tk;
    for (int64_t s = 0; s < smax; ++s) acc[s] += ac * double(row[s]);
  }
}

struct AttnDims {
  int64_t B, Tq, Tk, H, Dh, E;  // E = H * Dh, the row stride of q, k, v and y
  // Offset of head h of query position i (q, y) or key position s (k, v) in batch b.
  int64_t q_at(int64_t b, int64_t i, int64_t h) const { return (b * Tq + i) * E + h * Dh; }
  int64_t k_at(int64_t b, int64_t s, int64_t h) const { return (b * Tk + s) * E + h * Dh; }
  // Number of keys query i sees: queries are the last Tq positions of the Tk.
  int64_t keys(int64_t i, bool causal) const { return causal ? i + (Tk - Tq) + 1 : Tk; }
};

// Node layout: in = {q, k, v}; saved[0] = P [B, H, Tq, Tk]; i = {B, Tq, Tk, H}; f[0] = causal.
template <class T>
void attention_backward(Tape<T>& t, const Node<T>& n) {
  const Var q{n.in[0]}, k{n.in[1]}, v{n.in[2]}, y{n.out};
  const int64_t H = n.i[3];
  const bool causal = n.f[0] != 0;
  const AttnDims d{n.i[0], n.i[1], n.i[2], H, t.shape(q).back() / H, t.shape(q).back()};
  const double scale = 1.0 / std::sqrt(static_cast<double>(d.Dh));
  const T* P = static_cast<const T*>(n.saved[0]);
  const T* dy = t.grad_if_any(y);
  const T* qv = t.value(q).data;
  const T* kv = t.value(k).data;
  const T* vv = t.value(v).data;
  T* dq = t.requires_grad(q) ? t.grad(q) : nullptr;
  T* dk = t.requires_grad(k) ? t.grad(k) : nullptr;
  T* dv = t.requires_grad(v) ? t.grad(v) : nullptr;
  double* scratch = t.arena().template alloc<double>(d.B * H * d.Tk);  // dS row per (b, h)
  const bool transposed = d.Tk >= kTransposeKeys;
  T* vt_all = transposed ? t.arena().template alloc<T>(d.B * H * d.Dh * d.Tk) : nullptr;
  parallel_for(d.B * H, std::max<int64_t>(1, detail::kGrain / (d.Tq * d.Tk * d.Dh + 1)),
               [&](int64_t p0, int64_t p1) {
                 for (int64_t p = p0; p < p1; ++p) {
                   const int64_t b = p / H, h = p % H;
                   double* dS = scratch + p * d.Tk;
                   T* vt = transposed ? vt_all + p * d.Dh * d.Tk : nullptr;  // [Dh, Tk]
                   if (vt) transpose_head(vv + d.k_at(b, 0, h), d.Tk, d.E, d.Dh, vt);
                   for (int64_t i = 0; i < d.Tq; ++i) {
                     const int64_t smax = d.keys(i, causal);
                     const T* Pi = P + (p * d.Tq + i) * d.Tk;
                     const T* gy = dy + d.q_at(b, i, h);
                     dots(gy, vv + d.k_at(b, 0, h), vt, d.Dh, d.Tk, d.E, smax,
                          dS);  // dP[s] = gy . v_s
                     double dot = 0;
                     for (int64_t s = 0; s < smax; ++s) {
                       dot += Pi[s] * dS[s];
                       if (dv) {
                         T* dvs = dv + d.k_at(b, s, h);
                         for (int64_t c = 0; c < d.Dh; ++c) dvs[c] += Pi[s] * gy[c];
                       }
                     }
                     for (int64_t s = 0; s < smax; ++s) dS[s] = Pi[s] * (dS[s] - dot) * scale;
                     if (dq) {
                       T* dqi = dq + d.q_at(b, i, h);
                       for (int64_t s = 0; s < smax; ++s) {
                         const T* ks = kv + d.k_at(b, s, h);
                         for (int64_t c = 0; c < d.Dh; ++c) dqi[c] += static_cast<T>(dS[s] * ks[c]);
                       }
                     }
                     if (dk) {
                       const T* qi = qv + d.q_at(b, i, h);
                       for (int64_t s = 0; s < smax; ++s) {
                         T* dks = dk + d.k_at(b, s, h);
                         for (int64_t c = 0; c < d.Dh; ++c) dks[c] += static_cast<T>(dS[s] * qi[c]);
                       }
                     }
                   }
                 }
               });
}

}  // namespace

template <class T>
Var attention(Tape<T>& t, Var q, Var k, Var v, int64_t n_heads, bool causal, Tensor<T>* probs) {
  const Shape& qs = t.shape(q);
  const Shape& ks = t.shape(k);
  if (qs.rank != 3 || ks.rank != 3 || t.shape(v) != ks || qs[0] != ks[0] || qs[2] != ks[2] ||
      qs[1] > ks[1])
    detail::shape_error("attention", "q " + qs.str() + ", k " + ks.str() + ", v " +
                                         t.shape(v).str() +
                                         " (q [B, Tq, H*Dh], k and v [B, Tk, H*Dh], Tq <= Tk)");
  if (n_heads < 1 || qs[2] % n_heads != 0)
    detail::shape_error("attention", "width " + std::to_string(qs[2]) +
                                         " is not divisible by n_heads " + std::to_string(n_heads));
  const AttnDims d{qs[0], qs[1], ks[1], n_heads, qs[2] / n_heads, qs[2]};
  const double scale = 1.0 / std::sqrt(static_cast<double>(d.Dh));
  Var y = t.make(qs, detail::any_grad(t, {q, k, v}));
  T* P = t.arena().template zeros<T>(d.B * d.H * d.Tq * d.Tk);  // masked entries stay 0
  const T* qv = t.value(q).data;
  const T* kv = t.value(k).data;
  const T* vv = t.value(v).data;
  T* out = t.value(y).data;
  double* scratch = t.arena().template alloc<double>(d.B * d.H * d.Tk);
  const bool transposed = d.Tk >= kTransposeKeys;
  T* kt_all = transposed ? t.arena().template alloc<T>(d.B * d.H * d.Dh * d.Tk) : nullptr;
  parallel_for(d.B * d.H, std::max<int64_t>(1, detail::kGrain / (d.Tq * d.Tk * d.Dh + 1)),
               [&](int64_t p0, int64_t p1) {
                 for (int64_t p = p0; p < p1; ++p) {
                   const int64_t b = p / d.H, h = p % d.H;
                   double* sc = scratch + p * d.Tk;
                   T* kt = transposed ? kt_all + p * d.Dh * d.Tk : nullptr;  // [Dh, Tk]
                   if (kt) transpose_head(kv + d.k_at(b, 0, h), d.Tk, d.E, d.Dh, kt);
                   for (int64_t i = 0; i < d.Tq; ++i) {
                     const int64_t smax = d.keys(i, causal);
                     const T* qi = qv + d.q_at(b, i, h);
                     dots(qi, kv + d.k_at(b, 0, h), kt, d.Dh, d.Tk, d.E, smax, sc);
                     double m = -INFINITY;
                     for (int64_t s = 0; s < smax; ++s) {
                       sc[s] *= scale;
                       m = std::max(m, sc[s]);
                     }
                     double total = 0;
                     for (int64_t s = 0; s < smax; ++s) total += (sc[s] = std::exp(sc[s] - m));
                     T* Pi = P + (p * d.Tq + i) * d.Tk;
                     T* yi = out + d.q_at(b, i, h);
                     for (int64_t c = 0; c < d.Dh; ++c) yi[c] = T(0);
                     for (int64_t s = 0; s < smax; ++s) {
                       Pi[s] = static_cast<T>(sc[s] / total);
                       const T* vs = vv + d.k_at(b, s, h);
                       for (int64_t c = 0; c < d.Dh; ++c) yi[c] += Pi[s] * vs[c];
                     }
                   }
                 }
               });
  if (probs) *probs = Tensor<T>(P, Shape{d.B, d.H, d.Tq, d.Tk});
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&attention_backward<T>, y, {q, k, v});
    n.saved[0] = P;
    n.i = {d.B, d.Tq, d.Tk, d.H};
    n.f[0] = causal ? 1.0 : 0.0;
    t.record(n);
  }
  return y;
}

#define GRADSCOPE_INSTANTIATE(T) \
  template Var attention<T>(Tape<T>&, Var, Var, Var, int64_t, bool, Tensor<T>*);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
