// The MLPs (model.type = "mlp"): forms pair and concat (operand ids), dense (real features) and
// onehot (the ids' one-hot vectors side by side, read by dense layers: Prieto et al.'s model);
// see models.h. Shape legend: N = examples, V = vocabulary, C = classes, De = d_embed,
// Dhid = d_hidden, F = input features.
#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

#include "gradscope/nn/layers.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

template <class T>
class Mlp final : public Model<T> {
 public:
  Mlp(const ModelConfig& c, const ModelShape& s, uint64_t seed) : c_(c), s_(s) {
    ParamStore<T>& ps = this->params_;
    const bool pair = c.mlp_form == MlpForm::pair;
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
      if (c.init == InitScheme::haiku) {
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
    if (c_.mlp_form == MlpForm::pair && c_.token_tables && s_.num_classes < N) {
      // Factored (exact): E[a] W_in = (E W_in)[a], so the table T = E W_in [C, Dhid] is computed
      // once and its rows gathered; the readout (h W_out) E^T = h (W_out E^T) uses the [Dhid, C]
      // product once. The per-example work shrinks from De-wide to Dhid-wide.
      Var table = linear(t, E, ps.on(t, W_in_));                       // [C, Dhid]
      Var h = activate(t, pair_sum(t, ids, N, table), c_.activation);  // [N, Dhid]
      Var U = matmul(t, ps.on(t, W_out_), E, true);                    // [Dhid, C]
      return matmul(t, h, U);                                          // [N, C]
    }
    Var x = this->named(embedding(t, ids, Shape{N, 2}, E), "hook_embed");  // [N, 2, De]
    if (c_.mlp_form == MlpForm::pair) {
      Var z = linear(t, x, ps.on(t, W_in_));                         // [N, 2, Dhid]
      Var sum = add(t, slice(t, z, 1, 0, 1), slice(t, z, 1, 1, 1));  // [N, 1, Dhid]
      Var pre = this->named(reshape(t, sum, Shape{N, c_.d_hidden}), "mlp.hook_pre");  // [N, Dhid]
      Var h = this->named(activate(t, pre, c_.activation), "mlp.hook_post");
      return matmul(t, linear(t, h, ps.on(t, W_out_)), E, true);  // [N, C]
    }
    x = reshape(t, x, Shape{N, 2 * c_.d_embed});  // [N, 2De]
    Var pre = this->named(linear(t, x, ps.on(t, W_in_), ps.on(t, b_in_)), "mlp.hook_pre");
    Var h = this->named(activate(t, pre, c_.activation), "mlp.hook_post");  // [N, Dhid]
    return linear(t, h, ps.on(t, W_out_), ps.on(t, b_out_));                // [N, C]
  }

  // Named activations: hook_embed [N, 2, De], mlp.hook_pre and mlp.hook_post [N, Dhid].
  Var forward_with_hooks(Tape<T>& t, const Batch& b, const ActivationHook& hook) override {
    const bool tables = c_.token_tables;
    c_.token_tables = false;  // the plain path
    struct Restore {
      ModelConfig& c;
      bool tables;
      ~Restore() { c.token_tables = tables; }
    } restore{c_, tables};
    return Model<T>::forward_with_hooks(t, b, hook);
  }

 private:
  ModelConfig c_;
  ModelShape s_;
  int W_E_ = -1, W_in_ = -1, b_in_ = -1, W_out_ = -1, b_out_ = -1;
};

template <class T>
class DenseMlp final : public Model<T> {
 public:
  // Layers of model.depth hidden units, biases unless model.mlp_bias = false; the input is F real
  // features (dense) or L one-hot vectors of V entries (onehot).
  DenseMlp(const ModelConfig& c, const ModelShape& s, uint64_t seed) : c_(c), s_(s) {
    ParamStore<T>& ps = this->params_;
    int64_t in = c.mlp_form == MlpForm::onehot ? s.length * s.vocab : s.features;
    auto bias = [&](std::string name, int64_t n) { return c.mlp_bias ? ps.add(name, {n}) : -1; };
    for (int64_t l = 0; l < c.depth; ++l) {
      W_.push_back(ps.add(fmt::format("layers.{}.W", l), {in, c.d_hidden}));  // [in, Dhid]
      b_.push_back(bias(fmt::format("layers.{}.b", l), c.d_hidden));
      in = c.d_hidden;
    }
    W_.push_back(ps.add("readout.W", {in, outputs()}));  // [Dhid, C] (or [Dhid, Y])
    b_.push_back(bias("readout.b", outputs()));
    ps.finalize();
    Rng rng(seed, "init");
    for (size_t l = 0; l < W_.size(); ++l) {
      Tensor<T> w = ps.value(W_[l]);
      const double bound = c.init_scale / std::sqrt(double(w.shape[0]));  // 1/sqrt(fan_in)
      if (c.init == InitScheme::uniform) {
        rng.fill_uniform(w.data, w.numel(), -bound, bound);
        if (b_[l] < 0) continue;
        Tensor<T> b = ps.value(b_[l]);
        rng.fill_uniform(b.data, b.numel(), -bound, bound);
      } else {
        rng.fill_normal(w.data, w.numel(), 0.0, bound);
      }
    }
    ps.save_initial();
  }

  // One logit per class, or one output per real target (regression data).
  int64_t outputs() const override { return s_.out_dim > 0 ? s_.out_dim : s_.num_classes; }

  Var forward(Tape<T>& t, const Batch& b) override {
    ParamStore<T>& ps = this->params_;
    auto P = [&](int i) { return i >= 0 ? ps.on(t, i) : Var{}; };
    Var h = c_.mlp_form == MlpForm::onehot ? one_hot(t, b.ids, b.n, s_.length, s_.vocab)  // [N, LV]
                                           : b.x;                                         // [N, F]
    for (size_t l = 0; l + 1 < W_.size(); ++l) {  // named layers.{l}.hook_pre / hook_post
      const auto L = static_cast<int64_t>(l);
      Var pre = this->named(linear(t, h, P(W_[l]), P(b_[l])), "hook_pre", L, "layers");
      h = this->named(activate(t, pre, c_.activation), "hook_post", L, "layers");  // [N, Dhid]
    }
    return linear(t, h, P(W_.back()), P(b_.back()));  // [N, C]
  }

 private:
  ModelConfig c_;
  ModelShape s_;
  std::vector<int> W_, b_;  // hidden layers, then the readout (b_: -1 without biases)
};

void validate_mlp(const ModelConfig& c) {
  auto bad = bad_model_option;
  if (c.init == InitScheme::identity)
    bad("init", quoted("model.init", c.init), "normal, haiku, uniform (mlp)");
  const bool layered = c.mlp_form == MlpForm::dense || c.mlp_form == MlpForm::onehot;
  const std::string form = option_name("model.mlp_form", c.mlp_form);
  if (layered && c.depth < 1) bad("depth", std::to_string(c.depth), "an integer >= 1");
  if (!layered && c.init == InitScheme::uniform)
    bad("init", "\"uniform\"", "normal, haiku (mlp_form " + form + ")");
  if (layered && c.init == InitScheme::haiku)
    bad("init", "\"haiku\"", "uniform, normal (mlp_form " + form + ")");
  if (c.d_embed < 1) bad("d_embed", std::to_string(c.d_embed), "an integer >= 1");
  if (c.d_hidden < 1) bad("d_hidden", std::to_string(c.d_hidden), "an integer >= 1");
}

// What each form reads: dense real features; pair and concat two operand ids (pair: as many
// operands as classes, its embedding being tied).
void check_mlp(const ModelConfig& c, const ModelShape& s) {
  if (c.mlp_form == MlpForm::dense) {
    if (s.features < 1)
      throw std::invalid_argument(
          "model.mlp_form = \"dense\" reads real feature vectors; this task gives token ids "
          "(valid: pair, concat)");
    return;
  }
  if (c.mlp_form == MlpForm::onehot) {
    if (s.length < 1 || s.vocab < 1)
      throw std::invalid_argument(
          "model.mlp_form = \"onehot\" reads token ids; this task gives real features (valid: "
          "dense)");
    return;
  }
  if (s.length != 2)
    throw std::invalid_argument("model.type = \"mlp\" reads operand pairs; this task gives " +
                                std::to_string(s.length) + " ids per example");
  if (c.mlp_form == MlpForm::pair && s.vocab != s.num_classes)
    throw std::invalid_argument(
        "model.mlp_form = \"pair\" ties input and output embeddings, so it needs as many "
        "operands as classes");
}

template <class T>
std::unique_ptr<Model<T>> make_mlp(const ModelConfig& c, const ModelShape& s, uint64_t seed) {
  if (c.mlp_form == MlpForm::dense || c.mlp_form == MlpForm::onehot)
    return std::make_unique<DenseMlp<T>>(c, s, seed);
  return std::make_unique<Mlp<T>>(c, s, seed);
}

}  // namespace

ModelFamily mlp_model() {
  return {"mlp", &validate_mlp, &check_mlp, &make_mlp<float>, &make_mlp<double>};
}

}  // namespace gradscope
