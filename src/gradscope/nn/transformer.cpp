// The transformer (model.type = "transformer"): see models.h. Shape legend: N = examples,
// L = ids (or positions) per example, D = d_model, H = heads, Dh = d_head, F = d_mlp,
// V = vocabulary, Din = real features per position, K = real predictions per example.
#include <cstdio>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "gradscope/nn/layers.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

// o[j] += a * b[j] for j < n, each product rounded before its sum (no fused multiply-add, under
// GCC and Clang alike): the bits of the element-by-element sums the head products were first
// computed with.
#if defined(__clang__)
void add_products(double* o, double a, const double* b, int64_t n) {
#pragma clang fp contract(off)
  for (int64_t j = 0; j < n; ++j) o[j] += a * b[j];
}
#else
__attribute__((optimize("fp-contract=off"))) void add_products(double* o, double a, const double* b,
                                                               int64_t n) {
  for (int64_t j = 0; j < n; ++j) o[j] += a * b[j];
}
#endif

template <class T>
class Transformer final : public Model<T> {
 public:
  Transformer(const ModelConfig& c, const ModelShape& s, uint64_t seed)
      : c_(c), s_(s), real_(s.features > 0) {
    ParamStore<T>& ps = this->params_;
    const int64_t D = c.d_model, E = c.n_heads * dh(), V = s.vocab;
    // Real inputs: a linear read-in [Din, D] in place of the token embedding [V, D].
    W_E_ = ps.add("embed.W_E", {real_ ? din() : V, D});
    if (c.positions == Positions::learned)
      W_pos_ = ps.add("pos_embed.W_pos", {s.length, D});  // [L, D]
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string b = fmt::format("blocks.{}.", l);
      Block k;
      if (c.norm != NormPlacement::none) {
        k.ln1_w = ps.add(b + "ln1.w", {D});
        k.ln1_b = ps.add(b + "ln1.b", {D});
      }
      k.W_Q = ps.add(b + "attn.W_Q", {D, E});  // [D, H*Dh]
      k.W_K = ps.add(b + "attn.W_K", {D, E});
      k.W_V = ps.add(b + "attn.W_V", {D, E});
      k.W_O = ps.add(b + "attn.W_O", {E, D});  // [H*Dh, D]
      if (c.attn_bias) {
        k.b_Q = ps.add(b + "attn.b_Q", {E});
        k.b_K = ps.add(b + "attn.b_K", {E});
        k.b_V = ps.add(b + "attn.b_V", {E});
        k.b_O = ps.add(b + "attn.b_O", {D});
      }
      if (c.norm != NormPlacement::none && c.d_mlp > 0) {
        k.ln2_w = ps.add(b + "ln2.w", {D});
        k.ln2_b = ps.add(b + "ln2.b", {D});
      }
      if (c.d_mlp > 0) {
        k.W_in = ps.add(b + "mlp.W_in", {D, c.d_mlp});  // [D, F]
        if (c.mlp_bias) k.b_in = ps.add(b + "mlp.b_in", {c.d_mlp});
        k.W_out = ps.add(b + "mlp.W_out", {c.d_mlp, D});  // [F, D]
        if (c.mlp_bias) k.b_out = ps.add(b + "mlp.b_out", {D});
      }
      blocks_.push_back(k);
    }
    if (c.norm == NormPlacement::pre) {
      lnf_w_ = ps.add("ln_final.w", {D});
      lnf_b_ = ps.add("ln_final.b", {D});
    }
    if (!c.tied_unembed) W_U_ = ps.add("unembed.W_U", {D, real_ ? 1 : V});  // [D, V] or [D, 1]
    ps.finalize();

    // Nanda et al.: every matrix ~ N(0, 1/d_model), W_U ~ N(0, 1/d_vocab); biases 0; LN weights 1.
    // Real inputs: the read-in ~ N(0, 1/Din) and the read-out [D, 1] ~ N(0, 1/d_model).
    Rng rng(seed, "init");
    for (int i = 0; i < ps.count(); ++i) {
      const ParamInfo& p = ps.info(i);
      Tensor<T> w = ps.value(i);
      const std::string leaf = p.name.substr(p.name.rfind('.') + 1);
      if (leaf == "w") {
        std::fill(w.begin(), w.end(), T(1));
      } else if (leaf.rfind("W_", 0) == 0) {
        const double fan = i == W_E_ && real_    ? double(din())
                           : i == W_U_ && !real_ ? double(V)
                                                 : double(D);
        rng.fill_normal(w.data, w.numel(), 0.0, c.init_scale / std::sqrt(fan));
      }
    }
    ps.save_initial();

    if (c.positions == Positions::sinusoidal) {  // fixed table [L, D], Vaswani et al.
      sinusoid_.resize(s.length * D);
      for (int64_t pos = 0; pos < s.length; ++pos)
        for (int64_t j = 0; j < D; ++j) {
          const double angle = pos / std::pow(10000.0, double(j - j % 2) / double(D));
          sinusoid_[pos * D + j] = static_cast<T>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
        }
    }
  }

  int64_t outputs() const override { return real_ ? s_.out_dim : s_.vocab; }

  Var forward(Tape<T>& t, const Batch& b) override {
    const int32_t* tokens = b.ids;
    const int64_t N = b.n;
    ParamStore<T>& ps = this->params_;
    auto P = [&](int i) { return i >= 0 ? ps.on(t, i) : Var{}; };
    const int64_t L = s_.length, D = c_.d_model, V = s_.vocab;
    // A named activation, through the hook where one is set (forward_with_hooks).
    auto H = [&](int64_t layer, const char* name, Var v) { return this->named(v, name, layer); };
    // Before the first attention, a position's vector depends only on its token: with fewer
    // tokens than examples, the first block's per-position work runs once per (token, position)
    // on a table [V, L, ...], and rows are gathered per example (an exact shortcut).
    const bool tables =
        c_.token_tables && !real_ && V < N && t.backend().host_memory();  // the cpu's form
    int32_t* gather = nullptr;  // [N, L]: row token * L + position of the table
    Var x;                      // [N, L, D], or the table [V, L, D]
    if (tables) {
      int32_t* tab_ids = t.arena().template alloc<int32_t>(V * L);  // [V, L]: entry (v, l) = v
      gather = t.arena().template alloc<int32_t>(N * L);
      for (int64_t v = 0; v < V; ++v)
        for (int64_t l = 0; l < L; ++l) tab_ids[v * L + l] = static_cast<int32_t>(v);
      for (int64_t i = 0; i < N * L; ++i)
        gather[i] = tokens[i] * static_cast<int32_t>(L) + static_cast<int32_t>(i % L);
      x = embedding(t, tab_ids, Shape{V, L}, P(W_E_));
    } else if (real_) {
      if (!b.x.valid())
        throw std::invalid_argument(
            "this transformer reads real inputs (a linear read-in), not token ids");
      x = H(-1, "hook_embed", linear(t, reshape(t, b.x, Shape{N, L, din()}), P(W_E_)));
    } else {
      x = H(-1, "hook_embed", embedding(t, tokens, Shape{N, L}, P(W_E_)));  // [N, L, D]
    }
    if (W_pos_ >= 0) {
      x = add_positional(t, x, H(-1, "hook_pos_embed", P(W_pos_)));  // [L, D]
    } else {
      x = add(t, x, H(-1, "hook_pos_embed", t.constant_table(sinusoid_.data(), Shape{L, D})));
    }
    for (int64_t l = 0; l < c_.n_layers; ++l) {
      const Block& k = blocks_[l];
      // Only the last position reaches the loss: the last block needs queries, the residual and
      // the MLP there alone (keys and values still come from every position).
      const bool last_only = reads_last() && l == c_.n_layers - 1;
      const bool from_table = tables && l == 0;
      // Rows of a table [V, L, W] gathered per example: [N, L, W], or [N, 1, W] for the last
      // position alone.
      const int32_t* gather_last =
          from_table && last_only ? last_position_rows(t, gather, N) : nullptr;
      auto rows_of = [&](Var table, bool last) {
        const int64_t W = t.shape(table).back();
        Var flat = reshape(t, table, Shape{V * L, W});
        return last ? embedding(t, gather_last, Shape{N, 1}, flat)
                    : embedding(t, gather, Shape{N, L}, flat);
      };
      x = H(l, "hook_resid_pre", x);
      Var h = c_.norm == NormPlacement::pre
                  ? H(l, "ln1.hook_normalized", layer_norm(t, x, P(k.ln1_w), P(k.ln1_b)))
                  : x;                                                   // [N or V, L, D]
      Var keys = H(l, "attn.hook_k", linear(t, h, P(k.W_K), P(k.b_K)));  // [., L, H*Dh]
      Var values = H(l, "attn.hook_v", linear(t, h, P(k.W_V), P(k.b_V)));
      Var queries;
      Tensor<T>* probs = patterns_ ? &(*patterns_)[l] : nullptr;  // [N, H, Tq, L]
      Var a;                                                      // [N, Tq, H*Dh]
      if (from_table) {
        // Keys and values are read from the tables [V * L, H*Dh] through the gather index.
        queries = rows_of(linear(t, h, P(k.W_Q), P(k.b_Q)), last_only);
        x = rows_of(x, last_only);
        const int64_t E = t.shape(keys).back();
        a = attention_rows(t, queries, reshape(t, keys, Shape{V * L, E}),
                           reshape(t, values, Shape{V * L, E}), gather, L, c_.n_heads, c_.causal,
                           probs);
      } else {
        queries = H(l, "attn.hook_q",
                    linear(t, last_only ? slice(t, h, 1, L - 1, 1) : h, P(k.W_Q), P(k.b_Q)));
        if (last_only) x = slice(t, x, 1, L - 1, 1);
        a = attention(t, queries, keys, values, c_.n_heads, c_.causal, probs);
      }
      if (patterns_only_ && l == c_.n_layers - 1) return a;  // attention_patterns(): done
      a = H(l, "attn.hook_z", a);
      x = add(t, x, H(l, "hook_attn_out", linear(t, a, P(k.W_O), P(k.b_O))));  // [N, Tq, D]
      if (c_.norm == NormPlacement::post) x = layer_norm(t, x, P(k.ln1_w), P(k.ln1_b));
      if (c_.d_mlp == 0) {  // attention-only
        x = H(l, "hook_resid_post", x);
        continue;
      }
      x = H(l, "hook_resid_mid", x);
      h = c_.norm == NormPlacement::pre
              ? H(l, "ln2.hook_normalized", layer_norm(t, x, P(k.ln2_w), P(k.ln2_b)))
              : x;
      Var pre = H(l, "mlp.hook_pre", linear(t, h, P(k.W_in), P(k.b_in)));  // [N, Tq, F]
      Var m = H(l, "mlp.hook_post", activate(t, pre, c_.activation));
      x = add(t, x, H(l, "hook_mlp_out", linear(t, m, P(k.W_out), P(k.b_out))));  // [N, Tq, D]
      if (c_.norm == NormPlacement::post) x = layer_norm(t, x, P(k.ln2_w), P(k.ln2_b));
      x = H(l, "hook_resid_post", x);
    }
    if (c_.norm == NormPlacement::pre)
      x = H(-1, "ln_final.hook_normalized", layer_norm(t, x, P(lnf_w_), P(lnf_b_)));
    if (real_) return read_out(t, x, N);
    Var last;  // [N, D], or [N * L, D] when every position is read
    if (s_.predictions > 1 || this->hook_)
      last = reshape(t, x, Shape{N * L, D});
    else
      last = reads_last() ? reshape(t, x, Shape{N, D}) : select_last(t, x);
    return c_.tied_unembed ? matmul(t, last, P(W_E_), true) : linear(t, last, P(W_U_));
  }

  Var forward_with_hooks(Tape<T>& t, const Batch& b, const ActivationHook& hook) override {
    // The plain path: every position, no token tables; the patterns come out as each layer's
    // "attn.hook_pattern" [N, H, L, L] after the pass (seen, not replaceable: the attention op
    // computes them inside).
    std::vector<Tensor<T>> patterns(static_cast<size_t>(c_.n_layers));
    const ModelConfig saved = c_;
    c_.last_position_only = false;
    c_.token_tables = false;
    patterns_ = &patterns;
    Var logits;
    try {
      logits = Model<T>::forward_with_hooks(t, b, hook);
    } catch (...) {
      c_ = saved, patterns_ = nullptr;
      throw;
    }
    c_ = saved, patterns_ = nullptr;
    for (int64_t l = 0; l < c_.n_layers; ++l) {
      const Var p = t.constant(patterns[l]);
      if (hook(fmt::format("blocks.{}.attn.hook_pattern", l), p).id != p.id)
        throw std::invalid_argument(fmt::format(
            "blocks.{}.attn.hook_pattern cannot be replaced (the attention op computes it "
            "inside; replace attn.hook_q, attn.hook_k or attn.hook_z)",
            l));
    }
    return logits;
  }

  std::vector<Tensor<T>> attention_patterns(Tape<T>& t, const int32_t* ids, int64_t n) override {
    // The plain path gives every query position's probabilities; the forward pass stops at the
    // last block's attention (what comes after it changes no pattern).
    std::vector<Tensor<T>> out(static_cast<size_t>(c_.n_layers));
    const ModelConfig saved = c_;
    c_.last_position_only = false;
    patterns_ = &out;
    patterns_only_ = true;
    try {
      forward(t, {ids, {}, n});
    } catch (...) {
      c_ = saved, patterns_ = nullptr, patterns_only_ = false;
      throw;
    }
    c_ = saved, patterns_ = nullptr, patterns_only_ = false;
    return out;
  }

 protected:
  // Per head h of each block: W_Q^h W_K^h^T and W_V^h W_O^h, both [D, D].
  std::vector<ProbedMatrix> products() const override {
    std::vector<ProbedMatrix> out;
    for (int64_t l = 0; l < c_.n_layers; ++l)
      for (int64_t h = 0; h < c_.n_heads; ++h)
        for (const char* kind : {"QK", "VO"})
          out.push_back(
              {fmt::format("blocks.{}.attn.head{}.{}", l, h, kind), c_.d_model, c_.d_model, -1});
    return out;
  }
  void product(const ProbedMatrix& m, std::span<const T> buf, double* out) const override {
    int64_t l = 0, h = 0;
    char kind[3] = {};
    std::sscanf(m.name.c_str(), "blocks.%ld.attn.head%ld.%2s", &l, &h, kind);
    const Block& k = blocks_[l];
    const ParamStore<T>& ps = this->params_;
    const int64_t D = c_.d_model, E = c_.n_heads * dh(), Dh = dh();
    const bool qk = kind[0] == 'Q';
    // QK: sum_e Q[i, h*Dh + e] K[j, h*Dh + e]; VO: sum_e V[i, h*Dh + e] O[h*Dh + e, j].
    const T* A = buf.data() + ps.info(qk ? k.W_Q : k.W_V).offset;  // [D, E]
    const T* B = buf.data() + ps.info(qk ? k.W_K : k.W_O).offset;  // [D, E] or [E, D]
    std::vector<double> b(static_cast<size_t>(Dh * D));            // [Dh, D]: the head's B^T or B
    for (int64_t e = 0; e < Dh; ++e)
      for (int64_t j = 0; j < D; ++j)
        b[e * D + j] = double(qk ? B[j * E + h * Dh + e] : B[(h * Dh + e) * D + j]);
    // Row i accumulates over e in order for every j at once (the loop over j vectorizes).
    for (int64_t i = 0; i < D; ++i) {
      double* o = out + i * D;
      std::fill(o, o + D, 0.0);
      for (int64_t e = 0; e < Dh; ++e)
        add_products(o, double(A[i * E + h * Dh + e]), b.data() + e * D, D);
    }
  }

 private:
  struct Block {
    int ln1_w = -1, ln1_b = -1, ln2_w = -1, ln2_b = -1;
    int W_Q = -1, W_K = -1, W_V = -1, W_O = -1, b_Q = -1, b_K = -1, b_V = -1, b_O = -1;
    int W_in = -1, b_in = -1, W_out = -1, b_out = -1;
  };
  int64_t dh() const { return c_.d_head > 0 ? c_.d_head : c_.d_model / c_.n_heads; }
  int64_t din() const { return s_.features / s_.length; }
  // Real outputs [N, K]: the read-out [D, 1] at positions 0, S, 2S, ... (S = L / K; in-context
  // regression: the x positions) of the residual x [N, L, D].
  Var read_out(Tape<T>& t, Var x, int64_t N) {
    const int64_t L = s_.length, K = s_.out_dim;
    Var y = reshape(t, linear(t, x, this->params_.on(t, W_U_)), Shape{N, K, L / K});
    return reshape(t, slice(t, y, 2, 0, 1), Shape{N, K});
  }
  // The loss reads the last position only, and the shortcut is on.
  bool reads_last() const { return c_.last_position_only && s_.predictions == 1; }
  // The table rows of the last position of each example: [N] entries of gather [N, L].
  int32_t* last_position_rows(Tape<T>& t, const int32_t* gather, int64_t N) const {
    const int64_t L = s_.length;
    int32_t* rows = t.arena().template alloc<int32_t>(N);
    for (int64_t n = 0; n < N; ++n) rows[n] = gather[n * L + L - 1];
    return rows;
  }

  ModelConfig c_;
  ModelShape s_;
  bool real_ = false;  // real inputs x [N, L * Din] and outputs [N, K] (in-context regression)
  int W_E_ = -1, W_pos_ = -1, lnf_w_ = -1, lnf_b_ = -1, W_U_ = -1;
  std::vector<Block> blocks_;
  std::vector<T> sinusoid_;                     // [L, D] when positions = sinusoidal
  std::vector<Tensor<T>>* patterns_ = nullptr;  // attention_patterns() collects here
  bool patterns_only_ = false;  // attention_patterns(): forward() ends at the last attention
};

void validate_transformer(const ModelConfig& c) {
  auto bad = bad_model_option;
  if (c.n_layers < 1) bad("n_layers", std::to_string(c.n_layers), "an integer >= 1");
  if (c.d_model < 1) bad("d_model", std::to_string(c.d_model), "an integer >= 1");
  if (c.n_heads < 1) bad("n_heads", std::to_string(c.n_heads), "an integer >= 1");
  if (c.d_model % c.n_heads != 0)
    throw std::invalid_argument(fmt::format(
        "model.d_model = {} is not divisible by model.n_heads = {}", c.d_model, c.n_heads));
  if (c.d_head < 0)
    bad("d_head", std::to_string(c.d_head), "an integer >= 1, or 0 for d_model / n_heads");
  if (c.d_mlp < 0) bad("d_mlp", std::to_string(c.d_mlp), "an integer >= 0 (0: attention-only)");
  if (c.activation == Activation::square)
    bad("activation", quoted("model.activation", c.activation),
        "relu, gelu, gelu_tanh (transformer)");
  if (c.init != InitScheme::normal)
    bad("init", quoted("model.init", c.init), "normal (transformer)");
}

// Real inputs need whole tokens (features = L * Din) and read-out positions (L = K * S), and a
// read-out matrix of their own.
void check_transformer(const ModelConfig& c, const ModelShape& s) {
  if (s.features == 0) return;
  if (s.length < 1 || s.features % s.length != 0 || s.out_dim < 1 || s.length % s.out_dim != 0)
    throw std::invalid_argument(fmt::format(
        "model.type = \"transformer\" reads real inputs as {} positions of equal width and "
        "predicts at every {}-th; the task gives {} features and {} outputs",
        s.length, s.out_dim > 0 ? s.length / s.out_dim : 0, s.features, s.out_dim));
  if (c.tied_unembed)
    throw std::invalid_argument(
        "model.tied_unembed = true needs token inputs; this task gives real inputs (valid: "
        "false)");
}

}  // namespace

ModelFamily transformer_model() {
  return model_entry<Transformer>("transformer", &validate_transformer, &check_transformer);
}

}  // namespace gradscope
