// Fused multi-head scaled dot-product attention (optionally causal) on projected q, k, v.
// Work is split over (batch, head) pairs; each pair owns disjoint slices of every output and
// gradient, so results do not depend on the thread count.
#include <cmath>

#include "gradscope/autograd/ops_common.h"

namespace gradscope {
namespace {

struct AttnDims {
  int64_t B, T, H, Dh, E;  // E = H * Dh, the row stride of q, k, v and y
  // Offset of head h of position s in batch b within a [B, T, E] buffer.
  int64_t at(int64_t b, int64_t s, int64_t h) const { return (b * T + s) * E + h * Dh; }
};

// Node layout: in = {q, k, v}; saved[0] = P [B, H, T, T]; i = {B, T, H, causal}.
template <class T>
void attention_backward(Tape<T>& t, const Node<T>& n) {
  const Var q{n.in[0]}, k{n.in[1]}, v{n.in[2]}, y{n.out};
  const int64_t B = n.i[0], Tn = n.i[1], H = n.i[2];
  const bool causal = n.i[3] != 0;
  const AttnDims d{B, Tn, H, t.shape(q).back() / H, t.shape(q).back()};
  const double scale = 1.0 / std::sqrt(static_cast<double>(d.Dh));
  const T* P = static_cast<const T*>(n.saved[0]);
  const T* dy = t.grad_if_any(y);
  const T* qv = t.value(q).data;
  const T* kv = t.value(k).data;
  const T* vv = t.value(v).data;
  T* dq = t.requires_grad(q) ? t.grad(q) : nullptr;
  T* dk = t.requires_grad(k) ? t.grad(k) : nullptr;
  T* dv = t.requires_grad(v) ? t.grad(v) : nullptr;
  double* scratch = t.arena().template alloc<double>(B * H * Tn);  // dS row per (b, h)
  parallel_for(B * H, std::max<int64_t>(1, detail::kGrain / (Tn * Tn * d.Dh + 1)),
               [&](int64_t p0, int64_t p1) {
                 for (int64_t p = p0; p < p1; ++p) {
                   const int64_t b = p / H, h = p % H;
                   double* dS = scratch + p * Tn;
                   for (int64_t i = 0; i < Tn; ++i) {
                     const int64_t smax = causal ? i + 1 : Tn;
                     const T* Pi = P + (p * Tn + i) * Tn;
                     const T* gy = dy + d.at(b, i, h);
                     double dot = 0;
                     for (int64_t s = 0; s < smax; ++s) {
                       const T* vs = vv + d.at(b, s, h);
                       double dP = 0;
                       for (int64_t c = 0; c < d.Dh; ++c) dP += double(gy[c]) * vs[c];
                       dS[s] = dP;
                       dot += Pi[s] * dP;
                       if (dv) {
                         T* dvs = dv + d.at(b, s, h);
                         for (int64_t c = 0; c < d.Dh; ++c) dvs[c] += Pi[s] * gy[c];
                       }
                     }
                     for (int64_t s = 0; s < smax; ++s) dS[s] = Pi[s] * (dS[s] - dot) * scale;
                     if (dq) {
                       T* dqi = dq + d.at(b, i, h);
                       for (int64_t s = 0; s < smax; ++s) {
                         const T* ks = kv + d.at(b, s, h);
                         for (int64_t c = 0; c < d.Dh; ++c) dqi[c] += static_cast<T>(dS[s] * ks[c]);
                       }
                     }
                     if (dk) {
                       const T* qi = qv + d.at(b, i, h);
                       for (int64_t s = 0; s < smax; ++s) {
                         T* dks = dk + d.at(b, s, h);
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
  if (qs.rank != 3 || t.shape(k) != qs || t.shape(v) != qs)
    detail::shape_error("attention", "q " + qs.str() + ", k " + t.shape(k).str() + ", v " +
                                         t.shape(v).str() + " (all must be the same [B, T, H*Dh])");
  if (n_heads < 1 || qs[2] % n_heads != 0)
    detail::shape_error("attention", "width " + std::to_string(qs[2]) +
                                         " is not divisible by n_heads " + std::to_string(n_heads));
  const AttnDims d{qs[0], qs[1], n_heads, qs[2] / n_heads, qs[2]};
  const double scale = 1.0 / std::sqrt(static_cast<double>(d.Dh));
  Var y = t.make(qs, detail::any_grad(t, {q, k, v}));
  T* P = t.arena().template zeros<T>(d.B * d.H * d.T * d.T);  // masked entries stay 0
  const T* qv = t.value(q).data;
  const T* kv = t.value(k).data;
  const T* vv = t.value(v).data;
  T* out = t.value(y).data;
  double* scratch = t.arena().template alloc<double>(d.B * d.H * d.T);
  parallel_for(d.B * d.H, std::max<int64_t>(1, detail::kGrain / (d.T * d.T * d.Dh + 1)),
               [&](int64_t p0, int64_t p1) {
                 for (int64_t p = p0; p < p1; ++p) {
                   const int64_t b = p / d.H, h = p % d.H;
                   double* sc = scratch + p * d.T;
                   for (int64_t i = 0; i < d.T; ++i) {
                     const int64_t smax = causal ? i + 1 : d.T;
                     const T* qi = qv + d.at(b, i, h);
                     double m = -INFINITY;
                     for (int64_t s = 0; s < smax; ++s) {
                       const T* ks = kv + d.at(b, s, h);
                       double dot = 0;
                       for (int64_t c = 0; c < d.Dh; ++c) dot += double(qi[c]) * ks[c];
                       sc[s] = dot * scale;
                       m = std::max(m, sc[s]);
                     }
                     double total = 0;
                     for (int64_t s = 0; s < smax; ++s) total += (sc[s] = std::exp(sc[s] - m));
                     T* Pi = P + (p * d.T + i) * d.T;
                     T* yi = out + d.at(b, i, h);
                     for (int64_t c = 0; c < d.Dh; ++c) yi[c] = T(0);
                     for (int64_t s = 0; s < smax; ++s) {
                       Pi[s] = static_cast<T>(sc[s] / total);
                       const T* vs = vv + d.at(b, s, h);
                       for (int64_t c = 0; c < d.Dh; ++c) yi[c] += Pi[s] * vs[c];
                     }
                   }
                 }
               });
  if (probs) *probs = Tensor<T>(P, Shape{d.B, d.H, d.T, d.T});
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&attention_backward<T>, y, {q, k, v});
    n.saved[0] = P;
    n.i = {d.B, d.T, d.H, causal};
    t.record(n);
  }
  return y;
}

#define GRADSCOPE_INSTANTIATE(T) \
  template Var attention<T>(Tape<T>&, Var, Var, Var, int64_t, bool, Tensor<T>*);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
