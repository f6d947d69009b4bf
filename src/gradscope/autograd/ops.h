// The op set. Each op checks its input shapes (a ShapeError names the op and the shapes), computes
// its output into a NEW arena buffer (inputs are never modified), and records its backward, which
// ACCUMULATES (+=) into the gradients of every input that requires one. Forward and backward of
// each op sit side by side in the ops_*.cpp files; tests/gradcheck checks every one of them
// against central finite differences in float64.
//
// Shape legend: N = rows (all leading dimensions flattened), B = batch, T = sequence length,
// D = model width, H = heads, Dh = head width, K/M = inner/outer matmul sizes, C = classes,
// V = vocabulary.
#pragma once

#include <cstdint>

#include "gradscope/autograd/tape.h"

namespace gradscope {

// ---- linear algebra (ops_linear.cpp) ----

// y [..., N] = x [..., K] @ W [K, N] (+ b [N]). One GEMM forward, two backward.
template <class T>
Var linear(Tape<T>& t, Var x, Var W, Var b = {});
// y [..., N] = a [..., K] @ b [K, N], or @ b[N, K]^T when transpose_b (tied unembedding).
template <class T>
Var matmul(Tape<T>& t, Var a, Var b, bool transpose_b = false);

// ---- elementwise (ops_elementwise.cpp) ----
// Binary ops broadcast b over a's leading dimensions: b's shape must equal the trailing
// dimensions of a's (a [B, T, D] + b [T, D] is the positional add; + b [D] a bias).

template <class T>
Var add(Tape<T>& t, Var a, Var b);  // y = a + b
template <class T>
Var mul(Tape<T>& t, Var a, Var b);  // y = a * b (elementwise)
template <class T>
Var scale(Tape<T>& t, Var a, double s);  // y = s * a
template <class T>
Var relu(Tape<T>& t, Var a);  // y = max(a, 0); derivative taken as 0 at 0
template <class T>
Var gelu(Tape<T>& t, Var a);  // y = a * Phi(a), the exact (erf) GELU, PyTorch's default
// y = a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3))) / 2: GPT-2's GELU, PyTorch's
// gelu(approximate="tanh").
template <class T>
Var gelu_tanh(Tape<T>& t, Var a);
template <class T>
Var tanh(Tape<T>& t, Var a);  // y = tanh(a)
template <class T>
Var square(Tape<T>& t, Var a);  // y = a * a

// ---- normalization (ops_norm.cpp) ----

// y [..., D] = softmax over the last dimension of x [..., D].
template <class T>
Var softmax(Tape<T>& t, Var x);
// y [..., D] = (x - mean) / sqrt(var + eps) * gamma [D] + beta [D] over the last dimension
// (biased variance, as PyTorch). gamma and beta may each be absent (invalid Var).
template <class T>
Var layer_norm(Tape<T>& t, Var x, Var gamma, Var beta, double eps = 1e-5);

// ---- attention (ops_attention.cpp) ----

// Fused multi-head scaled dot-product attention on projected inputs.
// q [B, Tq, H*Dh], k and v [B, Tk, H*Dh] with Tq <= Tk (head h in columns h*Dh .. (h+1)*Dh)
// -> y [B, Tq, H*Dh], y_i = sum_s P[i, s] v_s, P = softmax_s(q_i . k_s / sqrt(Dh)). The queries are
// the LAST Tq positions: when causal, query i sees keys s <= i + Tk - Tq (Tq = 1 reads only the
// last position, an exact shortcut when nothing else is needed). If probs is given it receives a
// view of P [B, H, Tq, Tk] (valid until the tape's reset).
template <class T>
Var attention(Tape<T>& t, Var q, Var k, Var v, int64_t n_heads, bool causal,
              Tensor<T>* probs = nullptr);
// The same with keys and values read as rows of tables: k_table and v_table [R, H*Dh], key position
// s of example b is row rows[b * n_keys + s] (rows [B, n_keys], values in [0, R), kept alive by
// the caller until backward). Equal bit for bit to attention(q, embedding(rows, k_table),
// embedding(rows, v_table)) without the gathered copies [B, n_keys, H*Dh].
template <class T>
Var attention_rows(Tape<T>& t, Var q, Var k_table, Var v_table, const int32_t* rows, int64_t n_keys,
                   int64_t n_heads, bool causal, Tensor<T>* probs = nullptr);

// ---- indexing and shapes (ops_shape.cpp) ----

// y [..., D] = W [V, D] rows picked by ids (shape `ids_shape`, values in [0, V)). The ids are the
// caller's and must stay alive until backward. Backward scatter-adds into W's gradient.
template <class T>
Var embedding(Tape<T>& t, const int32_t* ids, Shape ids_shape, Var W);
// y [N, D] = W[ids[2n]] + W[ids[2n + 1]] for the id pairs ids [N, 2] (values in [0, V)): the
// numbers of embedding(ids [N, 2], W)'s two rows added, without the gathered copy; backward adds
// dy[n] into both rows, in the ids' order (as embedding's gradient does).
template <class T>
Var pair_sum(Tape<T>& t, const int32_t* ids, int64_t N, Var W);
// y [R, L V] = the one-hot vectors of ids [R, L] (values in [0, V)) side by side: a constant (no
// gradient). The ids must stay alive until the tape is reset.
template <class T>
Var one_hot(Tape<T>& t, const int32_t* ids, int64_t R, int64_t L, int64_t V);
// Same storage, new shape (a view: no copy, gradient shared).
template <class T>
Var reshape(Tape<T>& t, Var x, Shape shape);
// Rows [start, start + len) of x along its first dimension (a view).
template <class T>
Var rows(Tape<T>& t, Var x, int64_t start, int64_t len);
// x [B, T, D] + W_pos[0:T] for a positional table W_pos [T_max, D] (T <= T_max).
template <class T>
Var add_positional(Tape<T>& t, Var x, Var W_pos);
// Swaps the last two dimensions: x [..., M, N] -> y [..., N, M] (a copy).
template <class T>
Var transpose(Tape<T>& t, Var x);
// Entries [start, start + len) along dimension `dim` (a copy; the other dimensions are kept).
template <class T>
Var slice(Tape<T>& t, Var x, int dim, int64_t start, int64_t len);
// The last position of a sequence: x [B, T, D] -> y [B, D].
template <class T>
Var select_last(Tape<T>& t, Var x);

// ---- reductions and losses (ops_loss.cpp); all return a scalar (rank 0) ----

// Mean over rows of -log softmax(logits)[target]: logits [N, C], targets [N] in [0, C).
// Stable log-sum-exp, accumulated in double; backward: (softmax - onehot) / N.
template <class T>
Var cross_entropy(Tape<T>& t, Var logits, const int32_t* targets);
// Mean over rows of -log(s(x_t) / sum_j s(x_j)), s(x) = x + 1 (x >= 0), 1 / (1 - x) (x < 0):
// StableMax's cross-entropy (Prieto et al. 2025), in double. logits [N, C], targets [N].
template <class T>
Var stablemax_cross_entropy(Tape<T>& t, Var logits, const int32_t* targets);
// Cross-entropy computed as PyTorch computes it with the logits cast to float (float64 = false:
// the softmax collapses where that float sum of exp(x - max) rounds to 1) or to double: the
// log-softmax and its backward in that precision (kernels::TorchCrossEntropyRows).
template <class T>
Var torch_cross_entropy(Tape<T>& t, Var logits, const int32_t* targets, bool float64);
// Mean over rows of max(0, 1 - y f) (Barak et al.'s hinge loss): scores f [N, 1], targets [N]
// in {0, 1} with y = 2 * target - 1. Backward: -y / N where the margin is below 1 (0 at the kink).
template <class T>
Var hinge(Tape<T>& t, Var scores, const int32_t* targets);
// Mean over all elements of (a - b)^2; a and b have the same shape.
template <class T>
Var mse(Tape<T>& t, Var a, Var b);
template <class T>
Var sum(Tape<T>& t, Var x);  // sum of all elements (double accumulation)
template <class T>
Var mean(Tape<T>& t, Var x);  // mean of all elements (double accumulation)

}  // namespace gradscope
