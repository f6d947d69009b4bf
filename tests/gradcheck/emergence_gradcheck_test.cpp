// Finite-difference checks of the emergence models on their own tasks: the dense MLP under the
// hinge loss and cross-entropy on sparse parity, and the attention-only transformer with
// next-token loss at every position on induction sequences, and the GPT-style transformer with a
// linear read-in and read-out under the squared error on in-context regression sequences. Also:
// the every-position logits agree with the last-position path at the last position.
#include <gtest/gtest.h>

#include <cmath>

#include "gradscope/nn/model_registry.h"
#include "gradscope/nn/models.h"
#include "gradscope/probes/objective.h"
#include "gradscope/tasks/emergence.h"
#include "gradscope/tasks/incontext.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

double loss_of(Model<double>& m, const Dataset& d, Tape<double>& t, Loss loss, bool backward) {
  t.reset();
  m.params().zero_grad();
  const Examples e = all_examples(d);
  Var l = objective(t, model_outputs(t, m, d, e), d, e, loss);
  const double v = t.value(l)[0];
  if (backward) t.backward(l);
  return v;
}

void check(Model<double>& m, const Dataset& d, Loss loss) {
  ParamStore<double>& ps = m.params();
  Arena arena;
  Tape<double> t(arena);
  loss_of(m, d, t, loss, true);
  const std::vector<double> analytic(ps.grads().begin(), ps.grads().end());
  int checked = 0;
  for (int i = 0; i < ps.count(); ++i) {
    const ParamInfo& p = ps.info(i);
    for (int64_t j = 0; j < p.shape.numel(); j += 1 + p.shape.numel() / 40) {  // <= 40 per param
      double& w = ps.values()[p.offset + j];
      const double keep = w, h = 1e-6;
      w = keep + h;
      const double up = loss_of(m, d, t, loss, false);
      w = keep - h;
      const double down = loss_of(m, d, t, loss, false);
      w = keep;
      const double numeric = (up - down) / (2 * h);
      EXPECT_NEAR(analytic[p.offset + j], numeric, 1e-6 * std::max(1.0, std::abs(numeric)))
          << p.name << "[" << j << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
}

TaskData parity(const char* name) {
  EmergenceTaskConfig c;
  c.name = name;
  c.n_bits = 6, c.k = 3, c.n_tasks = 3, c.n_train = 24, c.n_test = 8;
  return make_emergence_task(c);
}

TEST(EmergenceGradcheck, DenseMlpHingeAndCrossEntropy) {
  for (const char* task : {"sparse_parity", "multitask_sparse_parity"}) {
    const TaskData d = parity(task);
    ModelConfig c;
    c.type = "mlp", c.mlp_form = MlpForm::dense, c.depth = 2, c.d_hidden = 5;
    c.init = InitScheme::uniform;
    c.activation = Activation::gelu;  // smooth: central differences never straddle a kink
    for (const Loss loss : {Loss::hinge, Loss::cross_entropy}) {
      ModelShape s{0, loss == Loss::hinge ? 1 : 2, 0, d.train.features, 0, 0};
      auto m = make_model<double>(c, s, 1);
      // Scores well inside the hinge's margin: small readout.
      Tensor<double> w = m->params().value(m->params().index("readout.W"));
      for (int64_t i = 0; i < w.numel(); ++i) w.data[i] *= 0.1;
      check(*m, d.train, loss);
    }
  }
}

// Prieto et al.'s model: operand ids as concatenated one-hot vectors into bias-free dense layers,
// under StableMax's cross-entropy and gradscope's cross-entropy (PyTorch's arithmetic is checked
// op by op in ops_gradcheck_test.cpp and through training in tests/oracle).
TEST(EmergenceGradcheck, OneHotMlpWithoutBiases) {
  Dataset d;
  d.length = 2;
  d.inputs = {0, 1, 2, 2, 1, 0, 3, 1, 2, 3, 0, 0};  // [6, 2] ids in [0, 4)
  d.targets = {1, 0, 3, 2, 1, 0};
  ModelConfig c;
  c.type = "mlp", c.mlp_form = MlpForm::onehot, c.depth = 2, c.d_hidden = 5, c.mlp_bias = false;
  c.init = InitScheme::uniform;
  c.activation = Activation::gelu;
  ModelShape s{4, 4, 2, 0, 0, 0};
  auto m = make_model<double>(c, s, 3);
  EXPECT_EQ(m->params().count(), 3);           // no biases
  EXPECT_EQ(m->params().info(0).shape[0], 8);  // [2 V, Dhid]
  check(*m, d, Loss::stablemax);
  check(*m, d, Loss::cross_entropy);
}

TaskData sequences() {
  EmergenceTaskConfig c;
  c.name = "induction";
  c.vocab = 7, c.seq_len = 9, c.segment_len = 3, c.n_train = 4, c.n_test = 2;
  return make_emergence_task(c);
}

ModelConfig attention_only(int64_t layers) {
  ModelConfig c;
  c.type = "transformer", c.n_layers = layers, c.d_model = 8, c.n_heads = 2, c.d_mlp = 0;
  return c;
}

TEST(EmergenceGradcheck, AttentionOnlyTransformerEveryPosition) {
  const TaskData d = sequences();
  for (const int64_t layers : {1, 2}) {
    ModelConfig c = attention_only(layers);
    for (const bool tables : {false, true}) {
      c.token_tables = tables;
      ModelShape s{d.vocab, d.num_classes, d.train.length, 0, 0, 0};
      s.predictions = d.train.length;
      auto m = make_model<double>(c, s, 2);
      for (int i = 0; i < m->params().count(); ++i)
        EXPECT_EQ(m->params().info(i).name.find("mlp"), std::string::npos);
      check(*m, d.train, Loss::cross_entropy);
    }
  }
}

TEST(EmergenceGradcheck, EveryPositionLogitsMatchTheLastPositionPath) {
  const TaskData d = sequences();
  const int64_t N = d.train.size(), L = d.train.length, V = d.vocab;
  ModelShape last{V, V, L, 0, 0, 0}, every = last;
  every.predictions = L;
  auto a = make_model<double>(attention_only(2), last, 5);
  auto b = make_model<double>(attention_only(2), every, 5);
  Arena arena;
  Tape<double> t(arena);
  const Tensor<double> la = t.value(a->logits(t, d.train.inputs.data(), N));  // [N, V]
  const Tensor<double> lb = t.value(b->logits(t, d.train.inputs.data(), N));  // [N * L, V]
  ASSERT_EQ(lb.shape[0], N * L);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t v = 0; v < V; ++v)
      EXPECT_NEAR(la.data[n * V + v], lb.data[(n * L + L - 1) * V + v], 1e-12);
  // Attention patterns: one [N, H, L, L] tensor per layer, rows summing to 1, causal.
  const auto patterns = b->attention_patterns(t, d.train.inputs.data(), N);
  ASSERT_EQ(patterns.size(), 2u);
  const Tensor<double>& P = patterns[1];
  ASSERT_EQ(P.shape[3], L);
  for (int64_t q = 0; q < L; ++q) {
    double row = 0;
    for (int64_t k = 0; k < L; ++k) {
      row += P.data[q * L + k];
      if (k > q) {
        EXPECT_EQ(P.data[q * L + k], 0.0);
      }
    }
    EXPECT_NEAR(row, 1.0, 1e-12);
  }
}

TEST(EmergenceGradcheck, InContextTransformerRealReadInAndReadOut) {
  InContextTaskConfig t;
  t.dim = 3, t.n_context = 4, t.noise = 0.1, t.n_pool = 0, t.n_test = 6;
  const TaskData d = make_incontext_task(t);
  ModelConfig c;
  c.type = "transformer", c.n_layers = 2, c.d_model = 8, c.n_heads = 2, c.d_mlp = 12;
  c.norm = NormPlacement::pre, c.activation = Activation::gelu, c.attn_bias = true;
  const Dataset& s = d.train;
  auto m = make_model<double>(c, {0, 0, s.length, s.features, s.outputs, 0, s.outputs}, 3);
  check(*m, s, Loss::cross_entropy);  // regression data: the loss is the squared error
}

}  // namespace
}  // namespace gradscope
