// Numerical-stability oracle: Prieto et al.'s model (mlp_form onehot, no biases) trained for a few
// full-batch AdamW steps under train.loss = stablemax, train.softmax_numerics = torch_float32 and
// torch_float64, and optim.orthogonal, against PyTorch running their code's formulas
// (tests/oracle/gen_numerics_fixture.py, fixtures/numerics.json). Each setting must also move
// the trajectory away from plain training's (a setting accepted but ignored fails), and the
// Softmax Collapse share (numerics.sc_torch_float32) must equal their logger's at the start.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gradscope/nn/model_registry.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/probes/numerics.h"
#include "gradscope/probes/objective.h"

namespace gradscope {
namespace {

using nlohmann::json;

json load_fixture() {
  std::ifstream in(std::string(GRADSCOPE_SOURCE_DIR) + "/tests/oracle/fixtures/numerics.json");
  EXPECT_TRUE(in.good()) << "missing fixture: run `make oracle-fixtures`";
  return json::parse(in);
}

struct Setting {
  Loss loss = Loss::cross_entropy;
  SoftmaxNumerics numerics = SoftmaxNumerics::gradscope;
  bool orthogonal = false;
};

Setting case_setting(const json& c) {
  Setting s;
  const std::string loss = c.at("loss");
  if (loss == "stablemax")
    s.loss = Loss::stablemax;
  else
    s.numerics = option_named<SoftmaxNumerics>("train.softmax_numerics", loss);
  s.orthogonal = c.value("orthogonal", false);
  return s;
}

Dataset train_split(const json& fx) {
  const int p = fx.at("p");
  Dataset d;
  d.length = 2;
  for (const json& ab : fx.at("train")) {
    const int a = ab[0], b = ab[1];
    d.inputs.insert(d.inputs.end(), {a, b});
    d.targets.push_back((a + b) % p);
  }
  return d;
}

// The model with the case's initial weights (PyTorch's [out, in] as gradscope's [in, out]).
std::unique_ptr<Model<double>> prieto_model(const json& fx, const json& c) {
  ModelConfig mc;
  mc.type = "mlp", mc.mlp_form = MlpForm::onehot, mc.depth = 2;
  mc.d_hidden = fx.at("hidden"), mc.mlp_bias = false, mc.init = InitScheme::uniform;
  mc.activation = Activation::relu;
  const int64_t p = fx.at("p");
  auto m = make_model<double>(mc, ModelShape{p, p, 2, 0, 0, 0}, 0);
  ParamStore<double>& ps = m->params();
  EXPECT_EQ(ps.count(), 3);
  for (int i = 0; i < ps.count(); ++i) {
    const json& w = c.at("initial")[i];  // [out][in]
    Tensor<double> v = ps.value(i);      // [in, out]
    for (int64_t r = 0; r < v.shape[0]; ++r)
      for (int64_t k = 0; k < v.shape[1]; ++k) v.data[r * v.shape[1] + k] = w[k][r].get<double>();
  }
  return m;
}

// The parameters after each step, flattened in PyTorch's layout.
std::vector<std::vector<double>> train(const json& fx, const json& c, const Setting& s,
                                       double* sc_share) {
  auto m = prieto_model(fx, c);
  ParamStore<double>& ps = m->params();
  const Dataset d = train_split(fx);
  OptimizerConfig oc;
  oc.name = OptimRule::adamw, oc.lr = fx.at("lr"), oc.weight_decay = 0;
  oc.beta1 = 0.9, oc.beta2 = 0.99, oc.eps = c.value("eps", 1e-25), oc.orthogonal = s.orthogonal;
  auto opt = make_optimizer<double>(oc, ps.size(), cpu_context(), ps.spans());
  Arena arena;
  Tape<double> t(arena);
  const Examples e = all_examples(d);
  if (sc_share) {
    MetricValues v;
    logit_numerics(t.value(model_outputs(t, *m, d, e)), d, s.loss, s.numerics, v);
    *sc_share = metric_value(v, "numerics.sc_torch_float32");
  }
  std::vector<std::vector<double>> out;
  for (int step = 0; step < fx.at("steps").get<int>(); ++step) {
    t.reset();
    ps.zero_grad();
    t.backward(objective(t, model_outputs(t, *m, d, e), d, e, s.loss, s.numerics));
    opt->update(ps.values(), ps.grads(), oc.lr);
    std::vector<double>& flat = out.emplace_back();
    for (int i = 0; i < ps.count(); ++i) {
      const Tensor<double> v = ps.value(i);
      for (int64_t k = 0; k < v.shape[1]; ++k)
        for (int64_t r = 0; r < v.shape[0]; ++r) flat.push_back(v.data[r * v.shape[1] + k]);
    }
  }
  return out;
}

// The largest error over the trajectory, relative to max(|torch value|, rms of that step).
double worst_error(const std::vector<std::vector<double>>& got, const json& want) {
  double worst = 0;
  EXPECT_EQ(got.size(), want.size()) << "as many steps as PyTorch's";
  for (size_t step = 0; step < got.size(); ++step) {
    EXPECT_EQ(got[step].size(), want[step].size()) << "step " << step;
    if (got[step].size() != want[step].size()) return INFINITY;
    double rms = 0;
    for (const json& w : want[step]) rms += w.get<double>() * w.get<double>();
    rms = std::sqrt(rms / double(got[step].size()));
    for (size_t i = 0; i < got[step].size(); ++i) {
      const double w = want[step][i].get<double>();
      worst = std::max(worst, std::abs(got[step][i] - w) / std::max(std::abs(w), rms));
    }
  }
  return worst;
}

TEST(NumericsOracle, EachSettingMatchesPyTorch) {
  const json fx = load_fixture();
  ASSERT_EQ(fx.at("cases").size(), 5u);
  for (const json& c : fx.at("cases")) {
    const std::string name = c.at("name");
    double share = NAN;
    const double err = worst_error(train(fx, c, case_setting(c), &share), c.at("params"));
    // float32 log-softmax: both sum 7 float exps, in orders that may differ in the last bit,
    // and the backward's go - exp(logp) sum(go) is one FMA where the compiler contracts it (GCC
    // with -march=native here, as PyTorch's AVX2 kernels): 9e-10 then, 4e-6 without (clang's
    // sanitizer build).
    const double tolerance = name.rfind("torch_float32", 0) == 0 ? 1e-5 : 1e-10;
    EXPECT_LE(err, tolerance) << name;
    std::printf("%s: largest error %.2e\n", name.c_str(), err);
    EXPECT_NEAR(share, c.at("sc_share").get<double>(), 1e-7) << name;
    ::testing::Test::RecordProperty(name + "_max_rel_error", fmt::format("{:.2e}", err));
  }
}

TEST(NumericsOracle, EachSettingChangesTraining) {
  const json fx = load_fixture();
  for (const json& c : fx.at("cases")) {
    const std::string name = c.at("name");
    // In float64 gradscope's arithmetic is the same; partly collapsed rows (torch_float32) change
    // the gradient only where other rows' terms outweigh them: the fully collapsed case shows it.
    if (name == "torch_float64" || name == "torch_float32") continue;
    const double err = worst_error(train(fx, c, Setting{}, nullptr), c.at("params"));
    EXPECT_GT(err, 1e-3) << name << ": plain training reproduces the setting's trajectory";
  }
}

// The fixture exercises the collapse (a guard on the fixture itself, like the optimizer oracle's
// FixtureStepsActuallyMoveParameters).
TEST(NumericsOracle, SoftmaxCollapseIsInTheFixture) {
  const json fx = load_fixture();
  for (const json& c : fx.at("cases")) {
    if (c.at("name") == "torch_float32") {
      EXPECT_GT(c.at("sc_share").get<double>(), 0.2);
    }
    if (c.at("name") == "torch_float32_collapsed") {
      EXPECT_EQ(c.at("sc_share").get<double>(), 1.0);
    }
  }
}

}  // namespace
}  // namespace gradscope
