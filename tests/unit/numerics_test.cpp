// The numerics.* measures (probes/numerics.h) on hand-made logits, moments and gradients: the
// Softmax Collapse test, absorbed gradients under each loss arithmetic, margin quantiles, Adam's
// eps share, the NLM cosine and the summary's half steps.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradscope/autograd/tape.h"
#include "gradscope/probes/numerics.h"

namespace gradscope {
namespace {

// Three rows of four classes: an ordinary row, a row past float32's collapse (margin 20) and a
// row past every arithmetic's target-class absorption but not the others' (margin 60).
Tensor<float> logits(std::vector<float>& x) {
  x = {0.5f, 1.0f,  -0.5f, 0.2f,  //
       0.0f, 20.0f, 0.0f,  0.0f,  //
       0.0f, 0.0f,  60.0f, 0.0f};
  return Tensor<float>(x.data(), Shape{3, 4});
}

Dataset targets() {
  Dataset d;
  d.targets = {0, 1, 2};
  return d;
}

TEST(Numerics, CollapseAbsorptionAndMarginsUnderEachArithmetic) {
  std::vector<float> x;
  const Tensor<float> l = logits(x);
  const Dataset d = targets();
  MetricValues gs, torch32, torch64;
  logit_numerics(l, d, Loss::cross_entropy, SoftmaxNumerics::gradscope, gs);
  logit_numerics(l, d, Loss::cross_entropy, SoftmaxNumerics::torch_float32, torch32);
  logit_numerics(l, d, Loss::cross_entropy, SoftmaxNumerics::torch_float64, torch64);
  // The float32 test is the same whatever the run's arithmetic: rows 2 and 3.
  for (const MetricValues* v : {&gs, &torch32, &torch64})
    EXPECT_DOUBLE_EQ(metric_value(*v, "numerics.sc_torch_float32"), 2.0 / 3);
  // PyTorch float32: both collapsed rows lose the target's gradient; the others' survive.
  EXPECT_DOUBLE_EQ(metric_value(torch32, "numerics.absorbed_target"), 2.0 / 3);
  EXPECT_DOUBLE_EQ(metric_value(torch32, "numerics.absorbed_row"), 0.0);
  // gradscope and float64: only the margin-60 row (exp(-60) below double's 2^-53 of 1).
  EXPECT_DOUBLE_EQ(metric_value(gs, "numerics.absorbed_target"), 1.0 / 3);
  EXPECT_DOUBLE_EQ(metric_value(torch64, "numerics.absorbed_target"), 1.0 / 3);
  EXPECT_DOUBLE_EQ(metric_value(gs, "numerics.absorbed_row"), 0.0);
  // Margins -0.5, 20, 60: quantiles linear between them.
  EXPECT_DOUBLE_EQ(metric_value(gs, "numerics.margin_q50"), 20.0);
  EXPECT_DOUBLE_EQ(metric_value(gs, "numerics.margin_q10"), -0.5 + 0.2 * 20.5);
  EXPECT_DOUBLE_EQ(metric_value(gs, "numerics.margin_q90"), 20.0 + 0.8 * 40.0);
}

// Each train.softmax_numerics value reaches the loss (C = 4, the target the largest logit):
// PyTorch's float32 loses the loss at margin 20 (its float sum of exps rounds to 1); float64 keeps
// it to the float result's rounding; gradscope's max + log1p(rest) - x_t keeps it only to the
// double ulp of the margin (its loss value, not its gradient, loses digits there).
TEST(Numerics, EachArithmeticReachesTheObjective) {
  auto loss = [](float margin, SoftmaxNumerics numerics) {
    Dataset d;
    d.targets = {0};
    std::vector<float> x = {margin, 0, 0, 0};
    Arena arena;
    Tape<float> t(arena);
    Examples e;
    e.targets = d.targets.data();
    e.n = 1;
    Var out = t.constant(Tensor<float>(x.data(), Shape{1, 4}));
    return double(t.value(objective(t, out, d, e, Loss::cross_entropy, numerics)).data[0]);
  };
  const double exact = std::log1p(3 * std::exp(-20.0));
  EXPECT_EQ(loss(20, SoftmaxNumerics::torch_float32), 0.0);
  EXPECT_NEAR(loss(20, SoftmaxNumerics::torch_float64), exact, 3e-16);
  EXPECT_GT(std::abs(loss(20, SoftmaxNumerics::gradscope) - exact), 1e-15);
  EXPECT_NEAR(loss(20, SoftmaxNumerics::gradscope), exact, 4e-15);
  EXPECT_GT(loss(8, SoftmaxNumerics::torch_float32), 0.0);
}

TEST(Numerics, StableMaxNeverAbsorbsAndHingeHasNoLogitColumns) {
  std::vector<float> x;
  const Tensor<float> l = logits(x);
  MetricValues v, hinge;
  logit_numerics(l, targets(), Loss::stablemax, SoftmaxNumerics::gradscope, v);
  EXPECT_DOUBLE_EQ(metric_value(v, "numerics.absorbed_target"), 0.0);
  EXPECT_DOUBLE_EQ(metric_value(v, "numerics.sc_torch_float32"), 2.0 / 3);
  logit_numerics(l, targets(), Loss::hinge, SoftmaxNumerics::gradscope, hinge);
  EXPECT_TRUE(hinge.empty());
}

TEST(Numerics, AdamEpsShareAndNlmCosine) {
  // v_hat = v / (1 - 0.99^1) = 100 v: sqrt below 1e-3 for v below 1e-8.
  const std::vector<double> v = {1e-9, 1e-7, 0.0, 4e-8};
  EXPECT_DOUBLE_EQ(adam_eps_share<double>(v, {{0, 4}}, 1, 0.99, 1e-3), 0.5);
  // Padding between tensors (v stays 0 there) is no parameter: [0, 2) and [3, 4) only.
  EXPECT_DOUBLE_EQ(adam_eps_share<double>(v, {{0, 2}, {3, 1}}, 1, 0.99, 1e-3), 1.0 / 3);
  const std::vector<float> w = {1, 2, 2}, along = {-2, -4, -4}, across = {2, -1, 0};
  EXPECT_NEAR(nlm_cosine<float>(w, along), 1.0, 1e-12);
  EXPECT_NEAR(nlm_cosine<float>(w, across), 0.0, 1e-12);
  EXPECT_TRUE(std::isnan(nlm_cosine<float>(w, std::vector<float>(3, 0.0f))));
}

TEST(Numerics, SummaryGivesTheFirstStepAtOrAboveOneHalf) {
  std::vector<MetricValues> rows(3);
  const double sc[] = {0.1, 0.5, 0.9}, cos[] = {0.1, 0.2, 0.3};
  for (int i = 0; i < 3; ++i)
    rows[i] = {{"step", 100.0 * i},
               {"numerics.sc_torch_float32", sc[i]},
               {"numerics.margin_q50", 40.0},
               {"numerics.nlm_cosine", cos[i]}};
  const auto s = numerics_summary(rows);
  EXPECT_EQ(s.at("sc_torch_float32_half_step"), 100);
  EXPECT_TRUE(s.at("nlm_cosine_half_step").is_null());
  EXPECT_FALSE(s.contains("margin_q50_half_step"));
}

}  // namespace
}  // namespace gradscope
