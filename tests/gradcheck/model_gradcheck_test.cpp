// Finite-difference checks of whole rank-dynamics models: the gradient of the training objective
// (1/2 mean squared error on a small regression task) with respect to every parameter, and the
// diagonal-network interface the theory uses (the gradient in w = u (.) v at u = w, v = 1).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "gradscope/nn/linear_models.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/probes/objective.h"
#include "gradscope/tasks/regression.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

struct Case {
  RegressionTaskConfig task;
  ModelConfig model;
  int64_t seq_len = 0;
};

double loss_of(Model<double>& m, const TaskData& d, Tape<double>& t, bool backward) {
  t.reset();
  m.params().zero_grad();
  const Examples e = all_examples(d.train);
  Var l = objective(t, model_outputs(t, m, d.train, e), d.train, e);
  const double v = t.value(l)[0];
  if (backward) t.backward(l);
  return v;
}

void check_model(const Case& c) {
  const TaskData d = make_regression_task(c.task);
  const ModelShape s{d.vocab, 0, d.train.length, d.train.features, d.train.outputs, c.seq_len};
  auto m = make_model<double>(c.model, s, 3);
  ParamStore<double>& ps = m->params();
  // Move away from the small initialization so every path carries gradient.
  Rng rng(7, "point");
  for (int i = 0; i < ps.count(); ++i) {
    Tensor<double> w = ps.value(i);
    rng.fill_normal(w.data, w.numel(), 0.0, 0.7);
  }
  Arena arena;
  Tape<double> t(arena);
  loss_of(*m, d, t, true);
  const std::vector<double> analytic(ps.grads().begin(), ps.grads().end());
  for (int i = 0; i < ps.count(); ++i) {
    const ParamInfo& p = ps.info(i);
    for (int64_t j = 0; j < p.shape.numel(); ++j) {
      double& w = ps.values()[p.offset + j];
      const double keep = w, h = 1e-6;
      w = keep + h;
      const double up = loss_of(*m, d, t, false);
      w = keep - h;
      const double down = loss_of(*m, d, t, false);
      w = keep;
      const double numeric = (up - down) / (2 * h);
      EXPECT_NEAR(analytic[p.offset + j], numeric, 1e-6 * std::max(1.0, std::abs(numeric)))
          << c.model.type << " " << p.name << "[" << j << "]";
    }
  }
}

RegressionTaskConfig teacher(const std::string& name, std::vector<double> target) {
  RegressionTaskConfig t;
  t.name = name;
  t.target = std::move(target);
  t.inputs = TeacherInputs::gaussian;
  t.n_samples = 7;
  t.n_test = 3;
  return t;
}

ModelConfig model(const std::string& type, int64_t depth) {
  ModelConfig m;
  m.type = type;
  m.depth = depth;
  return m;
}

TEST(ModelGradcheck, DiagonalDepthThree) {
  check_model({teacher("diagonal_teacher", {1.5, -0.5, 2.0}), model("diagonal", 3)});
}

TEST(ModelGradcheck, DiagAttention) {
  RegressionTaskConfig t = teacher("lowrank_teacher", {1.0, 0.0, 2.0});
  t.teacher = TeacherKind::attention;
  t.target_vo = {0.5, 1.5, 0.0};
  t.seq_len = 4;
  check_model({t, model("diag_attention", 2), 4});
}

TEST(ModelGradcheck, DeepLinearDepthThree) {
  ModelConfig m = model("deep_linear", 3);
  m.width = 5;
  check_model({teacher("lowrank_teacher", {2.0, 1.0}), m});
}

TEST(ModelGradcheck, MatrixFactorizationDepthThree) {
  RegressionTaskConfig t;
  t.name = "matrix_completion";
  t.size = 4;
  t.rank = 2;
  t.observed = 9;
  check_model({t, model("matrix_factorization", 3)});
}

// The theory's view of a diagonal network: with u = w and v = 1 in the buffer, the gradient the
// model reports is dL/dw (checked against differences of L in w).
TEST(ModelGradcheck, DiagonalPointGradientIsTheGradientInW) {
  RegressionTaskConfig t = teacher("lowrank_teacher", {1.0, 0.0, 2.0});
  t.teacher = TeacherKind::attention;
  t.seq_len = 3;
  const TaskData d = make_regression_task(t);
  auto m = make_model<double>(model("diag_attention", 2),
                              {0, 0, 0, d.train.features, d.train.outputs, 3}, 1);
  const auto* diag = dynamic_cast<const DiagonalNetwork<double>*>(m.get());
  ASSERT_NE(diag, nullptr);
  ASSERT_EQ(diag->diagonal_coordinates(), 6);
  Arena arena;
  Tape<double> tape(arena);
  auto L = [&](const std::vector<double>& w, std::vector<double>* g) {
    diag->set_diagonal_point(m->params().values(), w);
    const double v = loss_of(*m, d, tape, g != nullptr);
    if (g) diag->diagonal_gradient(m->params().grads(), *g);
    return v;
  };
  const std::vector<double> w = {0.3, -0.2, 0.8, 0.5, 0.1, -0.4};
  std::vector<double> g;
  L(w, &g);
  for (size_t i = 0; i < w.size(); ++i) {
    auto up = w, down = w;
    up[i] += 1e-6;
    down[i] -= 1e-6;
    EXPECT_NEAR(g[i], (L(up, nullptr) - L(down, nullptr)) / 2e-6, 1e-6) << i;
  }
}

}  // namespace
}  // namespace gradscope
