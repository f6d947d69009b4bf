// Multi-head scaled dot-product attention (optionally causal) on projected q, k, v: the device
// kernels, and the cpu's two forms, fused per query (below kBlockedKeys keys, and token tables)
// and blocked GEMMs (see "the blocked cpu form" below). Work is split over (batch, head) pairs;
// each pair owns disjoint slices of every output and gradient, so results do not depend on the
// thread count. In the fused form dot products over the head width accumulate in double; from
// kTransposeKeys keys on, one head coordinate at a time across all keys (a transposed copy of the
// pair's keys or values), which vectorizes over keys; below it, four keys' sums side by side.
// Float products are exact in double, so every loop gives the same sums bit for bit.
//
// attention_rows reads keys and values as rows of per-token tables through an index instead of
// gathered copies [B, Tk, H*Dh]: the same sums in the same order, without the copies' memory
// traffic. Its table gradients are summed over the examples in order, as the gather's backward
// does (threads own ranges of table rows).
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "gradscope/autograd/ops_common.h"
#include "gradscope/tensor/vector_exp.h"

namespace gradscope {
namespace {

// Keys below which the dot products run key by key (the transposed layout does not pay off).
constexpr int64_t kTransposeKeys = 16;
// Keys from which the cpu runs the blocked form (attention_blocked), and its query block.
constexpr int64_t kBlockedKeys = 32, kQueryBlock = 64;

// acc + a * x in double. For float inputs the product is exact in double, so the fused
// multiply-add rounds once exactly where the separate multiply and add do (the same bits); for
// double inputs it stays two operations, as written.
template <class T>
double mul_add(double a, T x, double acc) {
  if constexpr (std::is_same_v<T, float>)
    return std::fma(a, double(x), acc);
  else
    return acc + a * x;
}

// out[j] = sum_c a[c] * x[j][c] for j < J: J keys' dot products side by side, each summed in
// coordinate order, so J independent chains are in flight instead of one.
template <int J, class T>
void dot_group(const T* a, const T* const* x, int64_t Dh, double* out) {
  double acc[J] = {};
  for (int64_t c = 0; c < Dh; ++c) {
    const double ac = double(a[c]);
    for (int j = 0; j < J; ++j) acc[j] = mul_add(ac, x[j][c], acc[j]);
  }
  for (int j = 0; j < J; ++j) out[j] = acc[j];
}

// acc[s] = sum_c a[c] * x_s[c] for s < smax, in double, coordinate c in order: over the transposed
// copy xt [Dh, Tk] (vectorized across keys) when xt is given, else over the key rows x[s], four
// keys at a time.
template <class T>
void dots(const T* a, const T* const* x, const T* xt, int64_t Dh, int64_t Tk, int64_t smax,
          double* acc) {
  if (!xt) {
    int64_t s = 0;
    for (; s + 4 <= smax; s += 4) dot_group<4>(a, x + s, Dh, acc + s);
    switch (smax - s) {
      case 3:
        dot_group<3>(a, x + s, Dh, acc + s);
        break;
      case 2:
        dot_group<2>(a, x + s, Dh, acc + s);
        break;
      case 1:
        dot_group<1>(a, x + s, Dh, acc + s);
        break;
      default:
        break;
    }
    return;
  }
  for (int64_t s = 0; s < smax; ++s) acc[s] = 0;
  for (int64_t c = 0; c < Dh; ++c) {
    const double ac = double(a[c]);
    const T* row = xt + c * Tk;
    for (int64_t s = 0; s < smax; ++s) acc[s] = mul_add(ac, row[s], acc[s]);
  }
}

struct AttnDims {
  int64_t B, Tq, Tk, H, Dh, E;  // E = H * Dh, the row stride of q, k, v and y
  const int32_t* rows;          // [B, Tk] table rows of the keys and values, or nullptr
  // Offset of head h of query position i (q, y) or key position s (k, v) in batch b.
  int64_t q_at(int64_t b, int64_t i, int64_t h) const { return (b * Tq + i) * E + h * Dh; }
  int64_t k_at(int64_t b, int64_t s, int64_t h) const {
    return (rows ? int64_t{rows[b * Tk + s]} : b * Tk + s) * E + h * Dh;
  }
  // Number of keys query i sees: queries are the last Tq positions of the Tk.
  int64_t keys(int64_t i, bool causal) const { return causal ? i + (Tk - Tq) + 1 : Tk; }
  // First query that sees key s.
  int64_t first_query(int64_t s, bool causal) const {
    return causal ? std::max<int64_t>(0, s - (Tk - Tq)) : 0;
  }
};

// The key rows of pair (b, h): ptr[s] = x + k_at(b, s, h), for the key-by-key dots (Tk below
// kTransposeKeys); or, from kTransposeKeys keys on, their transpose into xt [Dh, Tk].
template <class T>
void key_rows(const AttnDims& d, const T* x, int64_t b, int64_t h, const T** ptr, T* xt) {
  for (int64_t s = 0; s < d.Tk; ++s) {
    const T* row = x + d.k_at(b, s, h);
    if (xt)
      for (int64_t c = 0; c < d.Dh; ++c) xt[c * d.Tk + s] = row[c];
    else
      ptr[s] = row;
  }
}

// Table gradients of attention_rows: dk[rows[b, s]] += sum_i dS[b, h, i, s] q[b, i] and
// dv[rows[b, s]] += sum_i P[b, h, i, s] gy[b, i], examples in order, the per-example sum over
// queries formed first (as the gathered copy's gradient would hold it). Threads own ranges of table
// rows (each walks the row index and takes its own rows, whole), so no two write the same memory;
// scratch [R, 2E] holds each range's per-example sums.
template <class T>
void table_gradients(Arena& arena, const AttnDims& d, int64_t R, bool causal, const T* P,
                     const double* dS, const T* qv, const T* dy, T* dk, T* dv) {
  T* scratch = arena.alloc<T>(R * 2 * d.E);
  parallel_for(R, 1, [&](int64_t r0, int64_t r1) {
    T* __restrict k_sum = scratch + r0 * 2 * d.E;  // this range's own scratch
    T* __restrict v_sum = k_sum + d.E;
    for (int64_t b = 0; b < d.B; ++b)
      for (int64_t s = 0; s < d.Tk; ++s) {
        const int64_t row = d.rows[b * d.Tk + s];
        if (row < r0 || row >= r1) continue;
        for (int64_t c = 0; c < d.E; ++c) k_sum[c] = v_sum[c] = T(0);
        for (int64_t i = d.first_query(s, causal); i < d.Tq; ++i) {
          const T* __restrict qi = qv + (b * d.Tq + i) * d.E;
          const T* __restrict gy = dy + (b * d.Tq + i) * d.E;
          for (int64_t h = 0; h < d.H; ++h) {
            const int64_t at = ((b * d.H + h) * d.Tq + i) * d.Tk + s;
            const double a = dS[at];
            const T p = P[at];
            for (int64_t c = h * d.Dh; c < (h + 1) * d.Dh; ++c) {
              k_sum[c] += static_cast<T>(a * qi[c]);
              v_sum[c] += p * gy[c];
            }
          }
        }
        if (dk) {
          T* __restrict out = dk + row * d.E;
          for (int64_t c = 0; c < d.E; ++c) out[c] += k_sum[c];
        }
        if (dv) {
          T* __restrict out = dv + row * d.E;
          for (int64_t c = 0; c < d.E; ++c) out[c] += v_sum[c];
        }
      }
  });
}

// The shape a device kernel reads (cuda/kernels.h).
kernels::AttnShape device_shape(const AttnDims& d, bool causal) {
  return {d.B, d.Tq, d.Tk, d.H, d.Dh, d.E, causal, 1.0 / std::sqrt(static_cast<double>(d.Dh))};
}

// Node layout: in = {q, k, v}; saved[0] = P [B, H, Tq, Tk], saved[1] = rows (attention_rows) or
// nullptr; i = {B, Tq, Tk, H}; f[0] = causal.
template <class T>
AttnDims node_dims(const Tape<T>& t, const Node<T>& n) {
  const int64_t H = n.i[3], E = t.shape(Var{n.in[0]}).back();
  return {n.i[0], n.i[1], n.i[2], H, E / H, E, static_cast<const int32_t*>(n.saved[1])};
}

// The gradients a backward adds into (null where an input needs none). Gradients nothing has
// flowed into yet are taken uninitialized and zeroed pair by pair inside the loop (each (batch,
// head) pair owns its slices), not in a separate pass over megabytes. Inputs that share a Var,
// and tables, take the zeroed buffer.
template <class T>
struct AttnGrads {
  T *dq = nullptr, *dk = nullptr, *dv = nullptr;
  bool q_fresh = false, k_fresh = false, v_fresh = false;
  AttnGrads(Tape<T>& t, Var q, Var k, Var v, bool tables) {
    const bool q_alone = q.id != k.id && q.id != v.id;
    const bool kv_alone = q_alone && k.id != v.id && !tables;
    auto grad_of = [&](Var x, bool alone, bool& fresh) -> T* {
      if (!t.requires_grad(x)) return nullptr;
      return alone ? t.grad_fresh(x, fresh) : t.grad(x);
    };
    dq = grad_of(q, q_alone, q_fresh);
    dk = grad_of(k, kv_alone, k_fresh);
    dv = grad_of(v, kv_alone, v_fresh);
  }
  // Zeroes pair (b, h)'s slices (rows of one head's Dh columns) of the fresh gradients.
  void zero_pair(const AttnDims& d, int64_t b, int64_t h) const {
    auto zero_rows = [&](T* g, int64_t at, int64_t rows) {
      for (int64_t r = 0; r < rows; ++r)
        std::memset(g + at + r * d.E, 0, static_cast<size_t>(d.Dh) * sizeof(T));
    };
    if (q_fresh) zero_rows(dq, d.q_at(b, 0, h), d.Tq);
    if (k_fresh) zero_rows(dk, d.k_at(b, 0, h), d.Tk);
    if (v_fresh) zero_rows(dv, d.k_at(b, 0, h), d.Tk);
  }
};

// The kernels' backward: dS and dq per query, then dk and dv per key (each output written by one
// index).
template <class T>
void attention_backward_kernels(Tape<T>& t, const Node<T>& n) {
  const Var q{n.in[0]}, k{n.in[1]}, v{n.in[2]}, y{n.out};
  const AttnDims d = node_dims(t, n);
  const bool causal = n.f[0] != 0;
  const kernels::AttnShape s = device_shape(d, causal);
  const T* P = static_cast<const T*>(n.saved[0]);
  const T* dy = t.grad_if_any(y);
  double* ds = t.arena().template alloc<double>(d.B * d.H * d.Tq * d.Tk);
  T* dq = t.requires_grad(q) ? t.grad(q) : nullptr;
  T* dk = t.requires_grad(k) ? t.grad(k) : nullptr;
  T* dv = t.requires_grad(v) ? t.grad(v) : nullptr;
  DeviceContext& dev = t.backend();
  dev.launch(kernels::AttentionGradQ<T>{s, t.value(k).data, t.value(v).data, P, dy, ds, dq},
             d.B * d.H * d.Tq);
  if (dk || dv)
    dev.launch(kernels::AttentionGradKV<T>{s, t.value(q).data, P, dy, ds, dk, dv},
               d.B * d.H * d.Tk);
}

// The cpu's fused backward (the same gradients as the kernels', compared by the device tests).
template <class T>
void attention_backward_fused(Tape<T>& t, const Node<T>& n) {
  const Var q{n.in[0]}, k{n.in[1]}, v{n.in[2]}, y{n.out};
  const AttnDims d = node_dims(t, n);
  const int64_t H = d.H;
  const bool causal = n.f[0] != 0;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d.Dh));
  const T* P = static_cast<const T*>(n.saved[0]);
  const T* dy = t.grad_if_any(y);
  const T* qv = t.value(q).data;
  const T* kv = t.value(k).data;
  const T* vv = t.value(v).data;
  const AttnGrads<T> g(t, q, k, v, d.rows != nullptr);
  T *dq = g.dq, *dk = g.dk, *dv = g.dv;
  // dS per (b, h, i, s): a row per pair, or all of them when the table pass needs them after.
  double* dS_all = t.arena().template alloc<double>(d.B * H * (d.rows ? d.Tq : 1) * d.Tk);
  const bool transposed = d.Tk >= kTransposeKeys;
  T* vt_all = transposed ? t.arena().template alloc<T>(d.B * H * d.Dh * d.Tk) : nullptr;
  parallel_for(d.B * H, std::max<int64_t>(1, detail::kGrain / (d.Tq * d.Tk * d.Dh + 1)),
               [&](int64_t p0, int64_t p1) {
                 const T* kp[kTransposeKeys];
                 const T* vp[kTransposeKeys];
                 for (int64_t p = p0; p < p1; ++p) {
                   const int64_t b = p / H, h = p % H;
                   T* vt = transposed ? vt_all + p * d.Dh * d.Tk : nullptr;  // [Dh, Tk]
                   key_rows(d, vv, b, h, vp, vt);
                   if (!transposed) key_rows<T>(d, kv, b, h, kp, nullptr);
                   g.zero_pair(d, b, h);
                   auto key = [&](int64_t s) { return transposed ? kv + d.k_at(b, s, h) : kp[s]; };
                   for (int64_t i = 0; i < d.Tq; ++i) {
                     const int64_t smax = d.keys(i, causal);
                     const T* Pi = P + (p * d.Tq + i) * d.Tk;
                     const T* gy = dy + d.q_at(b, i, h);
                     double* dS = dS_all + (d.rows ? p * d.Tq + i : p) * d.Tk;
                     dots(gy, vp, vt, d.Dh, d.Tk, smax, dS);  // dP[s] = gy . v_s
                     double dot = 0;
                     for (int64_t s = 0; s < smax; ++s) {
                       dot += Pi[s] * dS[s];
                       if (dv && !d.rows) {
                         T* dvs = dv + d.k_at(b, s, h);
                         for (int64_t c = 0; c < d.Dh; ++c) dvs[c] += Pi[s] * gy[c];
                       }
                     }
                     for (int64_t s = 0; s < smax; ++s) dS[s] = Pi[s] * (dS[s] - dot) * scale;
                     if (dq) {
                       T* dqi = dq + d.q_at(b, i, h);
                       for (int64_t s = 0; s < smax; ++s) {
                         const T* ks = key(s);
                         for (int64_t c = 0; c < d.Dh; ++c) dqi[c] += static_cast<T>(dS[s] * ks[c]);
                       }
                     }
                     if (dk && !d.rows) {
                       const T* qi = qv + d.q_at(b, i, h);
                       for (int64_t s = 0; s < smax; ++s) {
                         T* dks = dk + d.k_at(b, s, h);
                         for (int64_t c = 0; c < d.Dh; ++c) dks[c] += static_cast<T>(dS[s] * qi[c]);
                       }
                     }
                   }
                 }
               });
  if (d.rows && (dk || dv))
    table_gradients(t.arena(), d, t.shape(k)[0], causal, P, dS_all, qv, dy, dk, dv);
}

// ------------------------------------------------------------------------ the blocked cpu form
// From kBlockedKeys keys on (tokens looked up through a table excepted) the cpu runs attention as
// single-threaded GEMMs per (batch, head) pair and block of kQueryBlock queries: the block's
// scores S = scale Q K^T [m, keys] against only the keys its last query sees, written straight
// into the pair's rows of P; each row's softmax in place (the sum in double, the masked tail
// zero); then Y = P V. Backward, per block: dP = dY V^T, dS = P (dP - rowsum(P dP)) scale,
// dQ += dS K, dK += dS^T Q, dV += P^T dY. The products sum in T (float: as PyTorch's do), so the
// last bits differ from the per-query fused form; P [B, H, Tq, Tk] is the only [T, T] buffer
// kept (backward reads it), and the dS of one block at a time is scratch.

// Softmax in place of the first n of a row's scores; the rest of its `width` entries zero. In
// float the numerators are exp_minus's (tensor/vector_exp.h: the C library's expf, four lanes).
template <class T>
void softmax_row(T* row, int64_t n, int64_t width) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t s = 0; s < n; ++s) m = std::max(m, row[s]);
  if constexpr (std::is_same_v<T, float>)
    exp_minus(row, m, row, n);
  else
    for (int64_t s = 0; s < n; ++s) row[s] = std::exp(row[s] - m);
  double total = 0;
  for (int64_t s = 0; s < n; ++s) total += double(row[s]);
  const double inv = 1.0 / total;
  for (int64_t s = 0; s < n; ++s) row[s] = static_cast<T>(double(row[s]) * inv);
  for (int64_t s = n; s < width; ++s) row[s] = T(0);
}

// One pair's forward: P [Tq, Tk] its probabilities (zero where masked), y its output rows.
template <class T>
void blocked_pair_forward(const AttnDims& d, bool causal, const T* q, const T* k, const T* v,
                          int64_t b, int64_t h, T* P, T* y) {
  const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(d.Dh)));
  const T* kb = k + d.k_at(b, 0, h);  // [Tk, Dh], row stride E
  const T* vb = v + d.k_at(b, 0, h);
  for (int64_t i0 = 0; i0 < d.Tq; i0 += kQueryBlock) {
    const int64_t m = std::min(kQueryBlock, d.Tq - i0), n = d.keys(i0 + m - 1, causal);
    T* S = P + i0 * d.Tk;  // [m, n] of the pair's [Tq, Tk] rows
    gemm_serial<T>(false, true, m, n, d.Dh, scale, q + d.q_at(b, i0, h), d.E, kb, d.E, T(0), S,
                   d.Tk);
    for (int64_t r = 0; r < m; ++r) softmax_row(S + r * d.Tk, d.keys(i0 + r, causal), d.Tk);
    gemm_serial<T>(false, false, m, d.Dh, n, T(1), S, d.Tk, vb, d.E, T(0), y + d.q_at(b, i0, h),
                   d.E);
  }
}

// The gradients one pair adds (dq, dk, dv may be null): dS [kQueryBlock, Tk] scratch.
template <class T>
void blocked_pair_backward(const AttnDims& d, bool causal, const T* q, const T* k, const T* v,
                           const T* P, const T* dy, int64_t b, int64_t h, T* dS, T* dq, T* dk,
                           T* dv) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(d.Dh));
  const int64_t kb = d.k_at(b, 0, h);
  for (int64_t i0 = 0; i0 < d.Tq; i0 += kQueryBlock) {
    const int64_t m = std::min(kQueryBlock, d.Tq - i0), n = d.keys(i0 + m - 1, causal);
    const int64_t qb = d.q_at(b, i0, h);
    const T* Pb = P + i0 * d.Tk;  // [m, n], row stride Tk
    gemm_serial<T>(false, true, m, n, d.Dh, T(1), dy + qb, d.E, v + kb, d.E, T(0), dS, n);
    for (int64_t r = 0; r < m; ++r) {  // dS = P (dP - rowsum(P dP)) scale, in place of dP
      const T* Pr = Pb + r * d.Tk;
      T* row = dS + r * n;
      double dot = 0;
      for (int64_t s = 0; s < n; ++s) dot += double(Pr[s]) * double(row[s]);
      for (int64_t s = 0; s < n; ++s)
        row[s] = static_cast<T>(double(Pr[s]) * (double(row[s]) - dot) * scale);
    }
    if (dq) gemm_serial<T>(false, false, m, d.Dh, n, T(1), dS, n, k + kb, d.E, T(1), dq + qb, d.E);
    if (dk) gemm_serial<T>(true, false, n, d.Dh, m, T(1), dS, n, q + qb, d.E, T(1), dk + kb, d.E);
    if (dv)
      gemm_serial<T>(true, false, n, d.Dh, m, T(1), Pb, d.Tk, dy + qb, d.E, T(1), dv + kb, d.E);
  }
}

template <class T>
void attention_backward_blocked(Tape<T>& t, const Node<T>& n) {
  const Var q{n.in[0]}, k{n.in[1]}, v{n.in[2]}, y{n.out};
  const AttnDims d = node_dims(t, n);
  const bool causal = n.f[0] != 0;
  const T* P = static_cast<const T*>(n.saved[0]);
  const T* dy = t.grad_if_any(y);
  const AttnGrads<T> g(t, q, k, v, false);
  const int64_t pairs = d.B * d.H;
  T* scratch = t.arena().template alloc<T>(pairs * kQueryBlock * d.Tk);  // dS per pair
  const T *qv = t.value(q).data, *kv = t.value(k).data, *vv = t.value(v).data;
  parallel_for(pairs, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t b = p / d.H, h = p % d.H;
      g.zero_pair(d, b, h);
      blocked_pair_backward(d, causal, qv, kv, vv, P + p * d.Tq * d.Tk, dy, b, h,
                            scratch + p * kQueryBlock * d.Tk, g.dq, g.dk, g.dv);
    }
  });
}

template <class T>
Var record_attention(Tape<T>& t, Var y, Var q, Var k, Var v, const AttnDims& d, bool causal, T* P,
                     Tensor<T>* probs, void (*backward)(Tape<T>&, const Node<T>&)) {
  if (probs) *probs = Tensor<T>(P, Shape{d.B, d.H, d.Tq, d.Tk});
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(backward, y, {q, k, v});
    n.saved[0] = P;
    n.saved[1] = d.rows;
    n.i = {d.B, d.Tq, d.Tk, d.H};
    n.f[0] = causal ? 1.0 : 0.0;
    t.record(n);
  }
  return y;
}

// The kernels' forward (every device): scores, probabilities and outputs per query.
template <class T>
Var attention_kernels(Tape<T>& t, Var q, Var k, Var v, const AttnDims& d, bool causal,
                      Tensor<T>* probs) {
  if (d.rows) throw std::logic_error("attention_rows: the token tables are the cpu's form only");
  Var y = t.make(t.shape(q), detail::any_grad(t, {q, k, v}));
  T* P = t.arena().template alloc<T>(d.B * d.H * d.Tq * d.Tk);
  double* sc = t.arena().template alloc<double>(d.B * d.H * d.Tq * d.Tk);
  t.backend().launch(
      kernels::AttentionForward<T>{device_shape(d, causal), t.value(q).data, t.value(k).data,
                                   t.value(v).data, t.value(y).data, P, sc},
      d.B * d.H * d.Tq);
  return record_attention(t, y, q, k, v, d, causal, P, probs, &attention_backward_kernels<T>);
}

// The cpu's fused forward: per (batch, head), the keys gathered once, each query's scores,
// softmax and output in one pass over the keys.
template <class T>
Var attention_fused(Tape<T>& t, Var q, Var k, Var v, const AttnDims& d, bool causal,
                    Tensor<T>* probs) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(d.Dh));
  Var y = t.make(t.shape(q), detail::any_grad(t, {q, k, v}));
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
                 const T* kp[kTransposeKeys];
                 for (int64_t p = p0; p < p1; ++p) {
                   const int64_t b = p / d.H, h = p % d.H;
                   double* sc = scratch + p * d.Tk;
                   T* kt = transposed ? kt_all + p * d.Dh * d.Tk : nullptr;  // [Dh, Tk]
                   key_rows(d, kv, b, h, kp, kt);
                   for (int64_t i = 0; i < d.Tq; ++i) {
                     const int64_t smax = d.keys(i, causal);
                     const T* qi = qv + d.q_at(b, i, h);
                     dots(qi, kp, kt, d.Dh, d.Tk, smax, sc);
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
  return record_attention(t, y, q, k, v, d, causal, P, probs, &attention_backward_fused<T>);
}

// The cpu's blocked forward (see the blocked form's comment above).
template <class T>
Var attention_blocked(Tape<T>& t, Var q, Var k, Var v, const AttnDims& d, bool causal,
                      Tensor<T>* probs) {
  Var y = t.make(t.shape(q), detail::any_grad(t, {q, k, v}));
  T* P = t.arena().template alloc<T>(d.B * d.H * d.Tq * d.Tk);  // every entry written
  const T *qv = t.value(q).data, *kv = t.value(k).data, *vv = t.value(v).data;
  T* out = t.value(y).data;
  parallel_for(d.B * d.H, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      blocked_pair_forward(d, causal, qv, kv, vv, p / d.H, p % d.H, P + p * d.Tq * d.Tk, out);
  });
  return record_attention(t, y, q, k, v, d, causal, P, probs, &attention_backward_blocked<T>);
}

// The one place the form is picked: on the cpu the fused or the blocked form, else the kernels.
template <class T>
Var attention_impl(Tape<T>& t, Var q, Var k, Var v, const AttnDims& d, bool causal,
                   Tensor<T>* probs) {
  if (t.backend().host_memory())
    return d.rows || d.Tk < kBlockedKeys ? attention_fused(t, q, k, v, d, causal, probs)
                                         : attention_blocked(t, q, k, v, d, causal, probs);
  return attention_kernels(t, q, k, v, d, causal, probs);
}

void check_heads(int64_t width, int64_t n_heads) {
  if (n_heads < 1 || width % n_heads != 0)
    detail::shape_error("attention", "width " + std::to_string(width) +
                                         " is not divisible by n_heads " + std::to_string(n_heads));
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
  check_heads(qs[2], n_heads);
  const AttnDims d{qs[0], qs[1], ks[1], n_heads, qs[2] / n_heads, qs[2], nullptr};
  return attention_impl(t, q, k, v, d, causal, probs);
}

template <class T>
Var attention_rows(Tape<T>& t, Var q, Var k_table, Var v_table, const int32_t* rows, int64_t n_keys,
                   int64_t n_heads, bool causal, Tensor<T>* probs) {
  const Shape& qs = t.shape(q);
  const Shape& ks = t.shape(k_table);
  if (qs.rank != 3 || ks.rank != 2 || t.shape(v_table) != ks || qs[2] != ks[1] || qs[1] > n_keys)
    detail::shape_error("attention_rows",
                        "q " + qs.str() + ", k_table " + ks.str() + ", v_table " +
                            t.shape(v_table).str() + ", " + std::to_string(n_keys) +
                            " keys (q [B, Tq, H*Dh], tables [R, H*Dh], Tq <= keys)");
  check_heads(qs[2], n_heads);
  for (int64_t r = 0; r < qs[0] * n_keys; ++r)
    if (rows[r] < 0 || rows[r] >= ks[0])
      detail::shape_error("attention_rows", "row " + std::to_string(rows[r]) + " at position " +
                                                std::to_string(r) + " is outside [0, " +
                                                std::to_string(ks[0]) + ")");
  const AttnDims d{qs[0], qs[1], n_keys, n_heads, qs[2] / n_heads, qs[2], rows};
  return attention_impl(t, q, k_table, v_table, d, causal, probs);
}

#define GRADSCOPE_INSTANTIATE(T)                                                                  \
  template Var attention<T>(Tape<T>&, Var, Var, Var, int64_t, bool, Tensor<T>*);                  \
  template Var attention_rows<T>(Tape<T>&, Var, Var, Var, const int32_t*, int64_t, int64_t, bool, \
                                 Tensor<T>*);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
