// The transformer and MLP models: see models.h.
#include "gradscope/nn/models.h"

#include <cstdio>

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

#include "gradscope/nn/linear_models.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& valid) {
  throw std::invalid_argument("model." + key + " = " + value + " (valid: " + valid + ")");
}

template <class T>
Var activate(Tape<T>& t, Var x, const std::string& activation) {
  if (activation == "relu") return relu(t, x);
  if (activation == "gelu") return gelu(t, x);
  return square(t, x);
}

// ---------------------------------------------------------------------------------------------
template <class T>
class Transformer final : public Model<T> {
 public:
  Transformer(const ModelConfig& c, const ModelShape& s, uint64_t seed) : c_(c), s_(s) {
    ParamStore<T>& ps = this->params_;
    const int64_t D = c.d_model, E = c.n_heads * dh(), V = s.vocab;
    W_E_ = ps.add("embed.W_E", {V, D});                                               // [V, D]
    if (c.positions == "learned") W_pos_ = ps.add("pos_embed.W_pos", {s.length, D});  // [L, D]
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string b = fmt::format("blocks.{}.", l);
      Block k;
      if (c.norm != "none") {
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
      if (c.norm != "none" && c.d_mlp > 0) {
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
    if (c.norm == "pre") {
      lnf_w_ = ps.add("ln_final.w", {D});
      lnf_b_ = ps.add("ln_final.b", {D});
    }
    if (!c.tied_unembed) W_U_ = ps.add("unembed.W_U", {D, V});  // [D, V]
    ps.finalize();

    // Nanda et al.: every matrix ~ N(0, 1/d_model), W_U ~ N(0, 1/d_vocab); biases 0; LN weights 1.
    Rng rng(seed, "init");
    for (int i = 0; i < ps.count(); ++i) {
      const ParamInfo& p = ps.info(i);
      Tensor<T> w = ps.value(i);
      const std::string leaf = p.name.substr(p.name.rfind('.') + 1);
      if (leaf == "w") {
        std::fill(w.begin(), w.end(), T(1));
      } else if (leaf.rfind("W_", 0) == 0) {
        const double fan = i == W_U_ ? double(V) : double(D);
        rng.fill_normal(w.data, w.numel(), 0.0, c.init_scale / std::sqrt(fan));
      }
    }
    ps.save_initial();

    if (c.positions == "sinusoidal") {  // fixed table [L, D], Vaswani et al.
      sinusoid_.resize(s.length * D);
      for (int64_t pos = 0; pos < s.length; ++pos)
        for (int64_t j = 0; j < D; ++j) {
          const double angle = pos / std::pow(10000.0, double(j - j % 2) / double(D));
          sinusoid_[pos * D + j] = static_cast<T>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
        }
    }
  }

  int64_t outputs() const override { return s_.vocab; }

  Var forward(Tape<T>& t, const Batch& b) override {
    const int32_t* tokens = b.ids;
    const int64_t N = b.n;
    ParamStore<T>& ps = this->params_;
    auto P = [&](int i) { return i >= 0 ? ps.on(t, i) : Var{}; };
    const int64_t L = s_.length, D = c_.d_model, V = s_.vocab;
    // Before the first attention, a position's vector depends only on its token: with fewer
    // tokens than examples, the first block's per-position work runs once per (token, position)
    // on a table [V, L, ...], and rows are gathered per example (an exact shortcut).
    const bool tables = c_.token_tables && V < N;
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
    } else {
      x = embedding(t, tokens, Shape{N, L}, P(W_E_));
    }
    if (W_pos_ >= 0) {
      x = add_positional(t, x, P(W_pos_));
    } else {
      x = add(t, x, t.constant(Tensor<T>(sinusoid_.data(), Shape{L, D})));
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
      Var h = c_.norm == "pre" ? layer_norm(t, x, P(k.ln1_w), P(k.ln1_b)) : x;  // [N or V, L, D]
      Var keys = linear(t, h, P(k.W_K), P(k.b_K));                              // [., L, H*Dh]
      Var values = linear(t, h, P(k.W_V), P(k.b_V));
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
        queries = linear(t, last_only ? slice(t, h, 1, L - 1, 1) : h, P(k.W_Q), P(k.b_Q));
        if (last_only) x = slice(t, x, 1, L - 1, 1);
        a = attention(t, queries, keys, values, c_.n_heads, c_.causal, probs);
      }
      x = add(t, x, linear(t, a, P(k.W_O), P(k.b_O)));  // [N, Tq, D]
      if (c_.norm == "post") x = layer_norm(t, x, P(k.ln1_w), P(k.ln1_b));
      if (c_.d_mlp == 0) continue;  // attention-only
      h = c_.norm == "pre" ? layer_norm(t, x, P(k.ln2_w), P(k.ln2_b)) : x;
      Var m = activate(t, linear(t, h, P(k.W_in), P(k.b_in)), c_.activation);  // [N, Tq, F]
      x = add(t, x, linear(t, m, P(k.W_out), P(k.b_out)));                     // [N, Tq, D]
      if (c_.norm == "post") x = layer_norm(t, x, P(k.ln2_w), P(k.ln2_b));
    }
    if (c_.norm == "pre") x = layer_norm(t, x, P(lnf_w_), P(lnf_b_));
    Var last;  // [N, D], or [N * L, D] when every position is read
    if (s_.predictions > 1)
      last = reshape(t, x, Shape{N * L, D});
    else
      last = reads_last() ? reshape(t, x, Shape{N, D}) : select_last(t, x);
    return c_.tied_unembed ? matmul(t, last, P(W_E_), true) : linear(t, last, P(W_U_));
  }

  std::vector<Tensor<T>> attention_patterns(Tape<T>& t, const int32_t* ids, int64_t n) override {
    // The plain path gives every query position's probabilities.
    std::vector<Tensor<T>> out(static_cast<size_t>(c_.n_layers));
    const ModelConfig saved = c_;
    c_.last_position_only = false;
    patterns_ = &out;
    forward(t, {ids, {}, n});
    patterns_ = nullptr;
    c_ = saved;
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
    for (int64_t i = 0; i < D; ++i)
      for (int64_t j = 0; j < D; ++j) {
        double acc = 0;
        for (int64_t e = 0; e < Dh; ++e)
          acc += double(A[i * E + h * Dh + e]) *
                 double(qk ? B[j * E + h * Dh + e] : B[(h * Dh + e) * D + j]);
        out[i * D + j] = acc;
      }
  }

 private:
  struct Block {
    int ln1_w = -1, ln1_b = -1, ln2_w = -1, ln2_b = -1;
    int W_Q = -1, W_K = -1, W_V = -1, W_O = -1, b_Q = -1, b_K = -1, b_V = -1, b_O = -1;
    int W_in = -1, b_in = -1, W_out = -1, b_out = -1;
  };
  int64_t dh() const { return c_.d_head > 0 ? c_.d_head : c_.d_model / c_.n_heads; }
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
  int W_E_ = -1, W_pos_ = -1, lnf_w_ = -1, lnf_b_ = -1, W_U_ = -1;
  std::vector<Block> blocks_;
  std::vector<T> sinusoid_;                     // [L, D] when positions = sinusoidal
  std::vector<Tensor<T>>* patterns_ = nullptr;  // attention_patterns() collects here
};

// ---------------------------------------------------------------------------------------------
template <class T>
class Mlp final : public Model<T> {
 public:
  Mlp(const ModelConfig& c, const ModelShape& s, uint64_t seed) : c_(c), s_(s) {
    ParamStore<T>& ps = this->params_;
    const bool pair = c.mlp_form == "pair";
    const int64_t De = c.d_embed, Dh = c.d_hidden;
    W_E_ = ps.add("embed.W_E", {pair ? s.num_classes : s.vocab, De});  // [C or V, De]
    W_in_ = ps.add("mlp.W_in", {pair ? De : 2 * De, Dh});              // [De or 2De, Dhid]
    if (!pair) b_in_ = ps.add("mlp.b_in", {Dh});
    W_out_ = ps.add("mlp.W_out", {Dh, pair ? De : s.num_classes});  // [Dhid, De or C]
    if (!pair) b_out_ = ps.add("mlp.b_out", {s.num_classes});
    ps.finalize();

    Rng rng(seed, "init");
    for (int i : {W_E_, W_in_, W_out_}) {
      Tensor<T> w = ps.value(i);
      const double rows = double(w.shape[0]);
      if (c.init == "haiku") {
        // PAIR (Haiku defaults): embedding sd sqrt(2/C)/0.87962566, linears sd 1/sqrt(fan_in),
        // both truncated at 2 sd.
        const double sd =
            i == W_E_ ? std::sqrt(2.0 / rows) / 0.87962566103423978 : 1.0 / std::sqrt(rows);
        rng.fill_truncated_normal(w.data, w.numel(), c.init_scale * sd);
      } else {  // N(0, 1/fan_in); the embedding's fan-in is taken as its width
        const double fan = i == W_E_ ? double(De) : rows;
        rng.fill_normal(w.data, w.numel(), 0.0, c.init_scale / std::sqrt(fan));
      }
    }
    ps.save_initial();
  }

  int64_t outputs() const override { return s_.num_classes; }

  Var forward(Tape<T>& t, const Batch& b) override {
    const int32_t* ids = b.ids;
    const int64_t N = b.n;
    ParamStore<T>& ps = this->params_;
    Var E = ps.on(t, W_E_);
    if (c_.mlp_form == "pair" && c_.token_tables && s_.num_classes < N) {
      // Factored (exact): E[a] W_in = (E W_in)[a], so the table T = E W_in [C, Dhid] is computed
      // once and its rows gathered; the readout (h W_out) E^T = h (W_out E^T) uses the [Dhid, C]
      // product once. The per-example work shrinks from De-wide to Dhid-wide.
      Var table = linear(t, E, ps.on(t, W_in_));                                   // [C, Dhid]
      Var z = embedding(t, ids, Shape{N, 2}, table);                               // [N, 2, Dhid]
      Var sum = add(t, slice(t, z, 1, 0, 1), slice(t, z, 1, 1, 1));                // [N, 1, Dhid]
      Var h = activate(t, reshape(t, sum, Shape{N, c_.d_hidden}), c_.activation);  // [N, Dhid]
      Var U = matmul(t, ps.on(t, W_out_), E, true);                                // [Dhid, C]
      return matmul(t, h, U);                                                      // [N, C]
    }
    Var x = embedding(t, ids, Shape{N, 2}, E);  // [N, 2, De]
    if (c_.mlp_form == "pair") {
      Var z = linear(t, x, ps.on(t, W_in_));                                       // [N, 2, Dhid]
      Var sum = add(t, slice(t, z, 1, 0, 1), slice(t, z, 1, 1, 1));                // [N, 1, Dhid]
      Var h = activate(t, reshape(t, sum, Shape{N, c_.d_hidden}), c_.activation);  // [N, Dhid]
      return matmul(t, linear(t, h, ps.on(t, W_out_)), E, true);                   // [N, C]
    }
    x = reshape(t, x, Shape{N, 2 * c_.d_embed});  // [N, 2De]
    Var h =
        activate(t, linear(t, x, ps.on(t, W_in_), ps.on(t, b_in_)), c_.activation);  // [N, Dhid]
    return linear(t, h, ps.on(t, W_out_), ps.on(t, b_out_));                         // [N, C]
  }

 private:
  ModelConfig c_;
  ModelShape s_;
  int W_E_ = -1, W_in_ = -1, b_in_ = -1, W_out_ = -1, b_out_ = -1;
};

// ---------------------------------------------------------------------------------------------
template <class T>
class DenseMlp final : public Model<T> {
 public:
  DenseMlp(const ModelConfig& c, const ModelShape& s, uint64_t seed) : c_(c), s_(s) {
    ParamStore<T>& ps = this->params_;
    int64_t in = s.features;
    for (int64_t l = 0; l < c.depth; ++l) {
      W_.push_back(ps.add(fmt::format("layers.{}.W", l), {in, c.d_hidden}));  // [in, Dhid]
      b_.push_back(ps.add(fmt::format("layers.{}.b", l), {c.d_hidden}));
      in = c.d_hidden;
    }
    W_.push_back(ps.add("readout.W", {in, s.num_classes}));  // [Dhid, C]
    b_.push_back(ps.add("readout.b", {s.num_classes}));
    ps.finalize();
    Rng rng(seed, "init");
    for (size_t l = 0; l < W_.size(); ++l) {
      Tensor<T> w = ps.value(W_[l]), b = ps.value(b_[l]);
      const double bound = c.init_scale / std::sqrt(double(w.shape[0]));  // 1/sqrt(fan_in)
      if (c.init == "uniform") {
        rng.fill_uniform(w.data, w.numel(), -bound, bound);
        rng.fill_uniform(b.data, b.numel(), -bound, bound);
      } else {
        rng.fill_normal(w.data, w.numel(), 0.0, bound);
      }
    }
    ps.save_initial();
  }

  int64_t outputs() const override { return s_.num_classes; }

  Var forward(Tape<T>& t, const Batch& b) override {
    ParamStore<T>& ps = this->params_;
    Var h = b.x;  // [N, F]
    for (size_t l = 0; l + 1 < W_.size(); ++l)
      h = activate(t, linear(t, h, ps.on(t, W_[l]), ps.on(t, b_[l])), c_.activation);  // [N, Dhid]
    return linear(t, h, ps.on(t, W_.back()), ps.on(t, b_.back()));                     // [N, C]
  }

 private:
  ModelConfig c_;
  ModelShape s_;
  std::vector<int> W_, b_;  // hidden layers, then the readout
};

}  // namespace

template <class T>
std::vector<Tensor<T>> Model<T>::attention_patterns(Tape<T>&, const int32_t*, int64_t) {
  return {};
}

template <class T>
std::vector<ProbedMatrix> Model<T>::probed_matrices() const {
  std::vector<ProbedMatrix> out;
  for (int i = 0; i < params_.count(); ++i) {
    const ParamInfo& p = params_.info(i);
    if (p.shape.rank == 2) out.push_back({p.name, p.shape[0], p.shape[1], i});
  }
  for (ProbedMatrix& m : products()) out.push_back(std::move(m));
  return out;
}

template <class T>
void Model<T>::probed_matrix(const ProbedMatrix& m, std::span<const T> buf, double* out) const {
  if (m.param < 0) return product(m, buf, out);
  const T* p = buf.data() + params_.info(m.param).offset;
  for (int64_t i = 0; i < m.rows * m.cols; ++i) out[i] = double(p[i]);
}

template <class T>
void Model<T>::product(const ProbedMatrix& m, std::span<const T>, double*) const {
  throw std::logic_error("model defines no product " + m.name);
}
template <class T>
void Model<T>::set_diagonal_point(std::span<T>, const std::vector<double>&) const {
  throw std::logic_error("not a diagonal network");
}
template <class T>
void Model<T>::diagonal_gradient(std::span<const T>, std::vector<double>&) const {
  throw std::logic_error("not a diagonal network");
}

template class Model<float>;
template class Model<double>;

void ModelConfig::validate() const {
  if (!(init_scale > 0) || !std::isfinite(init_scale))
    bad("init_scale", fmt::format("{}", init_scale), "a finite number > 0");
  if (type != "transformer" && type != "mlp") return validate_linear_model(*this);
  if (init != "normal" && init != "haiku" && init != "uniform")
    bad("init", "\"" + init + "\"", "normal, haiku, uniform");
  if (type == "transformer") {
    if (n_layers < 1) bad("n_layers", std::to_string(n_layers), "an integer >= 1");
    if (d_model < 1) bad("d_model", std::to_string(d_model), "an integer >= 1");
    if (n_heads < 1) bad("n_heads", std::to_string(n_heads), "an integer >= 1");
    if (d_model % n_heads != 0)
      throw std::invalid_argument(fmt::format(
          "model.d_model = {} is not divisible by model.n_heads = {}", d_model, n_heads));
    if (d_head < 0)
      bad("d_head", std::to_string(d_head), "an integer >= 1, or 0 for d_model / n_heads");
    if (d_mlp < 0) bad("d_mlp", std::to_string(d_mlp), "an integer >= 0 (0: attention-only)");
    if (activation != "relu" && activation != "gelu")
      bad("activation", "\"" + activation + "\"", "relu, gelu (transformer)");
    if (norm != "none" && norm != "pre" && norm != "post")
      bad("norm", "\"" + norm + "\"", "none, pre, post");
    if (positions != "learned" && positions != "sinusoidal")
      bad("positions", "\"" + positions + "\"", "learned, sinusoidal");
    if (init != "normal") bad("init", "\"" + init + "\"", "normal (transformer)");
  } else {
    if (mlp_form != "pair" && mlp_form != "concat" && mlp_form != "dense")
      bad("mlp_form", "\"" + mlp_form + "\"", "pair, concat, dense");
    if (mlp_form == "dense" && depth < 1) bad("depth", std::to_string(depth), "an integer >= 1");
    if (mlp_form != "dense" && init == "uniform")
      bad("init", "\"uniform\"", "normal, haiku (mlp_form " + mlp_form + ")");
    if (mlp_form == "dense" && init == "haiku")
      bad("init", "\"haiku\"", "uniform, normal (mlp_form dense)");
    if (d_embed < 1) bad("d_embed", std::to_string(d_embed), "an integer >= 1");
    if (d_hidden < 1) bad("d_hidden", std::to_string(d_hidden), "an integer >= 1");
    if (activation != "relu" && activation != "gelu" && activation != "square")
      bad("activation", "\"" + activation + "\"", "relu, gelu, square (mlp)");
  }
}

template <class T>
std::unique_ptr<Model<T>> make_model(const ModelConfig& c, const ModelShape& s, uint64_t seed) {
  c.validate();
  if (c.type == "transformer") return std::make_unique<Transformer<T>>(c, s, seed);
  if (c.type != "mlp") return make_linear_model<T>(c, s, seed);
  if (c.mlp_form == "dense") {
    if (s.features < 1)
      throw std::invalid_argument(
          "model.mlp_form = \"dense\" reads real feature vectors; this task gives token ids "
          "(valid: pair, concat)");
    return std::make_unique<DenseMlp<T>>(c, s, seed);
  }
  if (s.length != 2)
    throw std::invalid_argument("model.type = \"mlp\" reads operand pairs; this task gives " +
                                std::to_string(s.length) + " ids per example");
  if (c.mlp_form == "pair" && s.vocab != s.num_classes)
    throw std::invalid_argument(
        "model.mlp_form = \"pair\" ties input and output embeddings, so it needs as many "
        "operands as classes");
  return std::make_unique<Mlp<T>>(c, s, seed);
}

template std::unique_ptr<Model<float>> make_model<float>(const ModelConfig&, const ModelShape&,
                                                         uint64_t);
template std::unique_ptr<Model<double>> make_model<double>(const ModelConfig&, const ModelShape&,
                                                           uint64_t);

}  // namespace gradscope
