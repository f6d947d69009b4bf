// The theory: the stage-prediction algorithm on instances with known answers, and Saxe's closed
// form against its differential equation.
#include <gtest/gtest.h>

#include <cmath>

#include "gradscope/theory/saxe.h"
#include "gradscope/theory/stages.h"

namespace gradscope {
namespace {

LossAndGradient distance_to(std::vector<double> target) {
  return [target](const std::vector<double>& w, std::vector<double>& g) {
    double l = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      g[i] = w[i] - target[i];
      l += 0.5 * g[i] * g[i];
    }
    return l;
  };
}

TEST(Stages, SeparableQuadraticSwitchesOnAtOneOverTarget) {
  const StagePrediction p = predict_stages(4, distance_to({3, 2, 1, 0.5}));
  ASSERT_EQ(p.jump_times.size(), 4u);
  const double want[] = {1.0 / 3, 0.5, 1.0, 2.0};
  for (int k = 0; k < 4; ++k) {
    EXPECT_NEAR(p.jump_times[k], want[k], 1e-9);
    EXPECT_EQ(p.coordinates[k], k);
  }
  const double plateaus[] = {7.125, 2.625, 0.625, 0.125, 0};
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(p.plateau_losses[k], plateaus[k], 1e-9);
}

TEST(Stages, SignsAndZeros) {
  // A negative target switches on by its magnitude; a zero target never does.
  const StagePrediction p = predict_stages(3, distance_to({0, -4, 1}));
  ASSERT_EQ(p.jump_times.size(), 2u);
  EXPECT_EQ(p.coordinates[0], 1);
  EXPECT_NEAR(p.jump_times[0], 0.25, 1e-9);
  EXPECT_EQ(p.coordinates[1], 2);
  EXPECT_NEAR(p.jump_times[1], 1.0, 1e-9);
}

TEST(Stages, CoupledCoordinatesUseTheIntegratedGradient) {
  // L = 1/2 (w0 + w1 - 2)^2 + 1/2 (w1 - 1)^2: g(0) = (2, 3), so w1 switches on first, at
  // tau = 1/3, with c = (2/3, 1); the minimum over w1 alone is w1 = 1.5 (L = 0.25), where
  // g0 = 0.5: c0 reaches 1 after Delta = (1 - 2/3) / 0.5 = 2/3, at tau = 1.
  const LossAndGradient f = [](const std::vector<double>& w, std::vector<double>& g) {
    const double a = w[0] + w[1] - 2, b = w[1] - 1;
    g[0] = a;
    g[1] = a + b;
    return 0.5 * a * a + 0.5 * b * b;
  };
  const StagePrediction p = predict_stages(2, f);
  ASSERT_EQ(p.jump_times.size(), 2u);
  EXPECT_EQ(p.coordinates[0], 1);
  EXPECT_NEAR(p.jump_times[0], 1.0 / 3, 1e-9);
  EXPECT_EQ(p.coordinates[1], 0);
  EXPECT_NEAR(p.jump_times[1], 1.0 / 3 + 2.0 / 3, 1e-6);
  EXPECT_NEAR(p.plateau_losses[1], 0.25, 1e-9);
  EXPECT_NEAR(p.plateau_losses[2], 0, 1e-12);
}

TEST(Saxe, ClosedFormSolvesTheModeEquation) {
  const double s = 2.0, u0 = 1e-4;
  EXPECT_NEAR(saxe_mode_strength(s, u0, 0), u0, 1e-15);
  EXPECT_NEAR(saxe_mode_strength(s, u0, 50), s, 1e-9);
  for (double t : {0.5, 2.0, 2.3, 3.0}) {
    const double h = 1e-6, u = saxe_mode_strength(s, u0, t);
    const double du =
        (saxe_mode_strength(s, u0, t + h) - saxe_mode_strength(s, u0, t - h)) / (2 * h);
    EXPECT_NEAR(du, 2 * u * (s - u), 1e-6 * std::max(1.0, du));
  }
  EXPECT_NEAR(saxe_mode_strength(s, u0, saxe_half_time(s, u0, 2)), s / 2, 1e-9);
}

TEST(Saxe, DeeperNetworksIntegrateTheBalancedEquation) {
  const double s = 1.5, u0 = 1e-3;
  std::vector<double> t;
  for (int i = 0; i <= 4000; ++i) t.push_back(i * 0.01);
  const auto u = saxe_mode_curve(s, u0, 3, t);
  EXPECT_NEAR(u.front(), u0, 1e-15);
  EXPECT_NEAR(u.back(), s, 1e-6);
  for (size_t i = 1; i + 1 < t.size(); ++i) {  // du/dt = 3 u^{4/3} (s - u), central differences
    const double du = (u[i + 1] - u[i - 1]) / 0.02, want = 3 * std::pow(u[i], 4.0 / 3) * (s - u[i]);
    EXPECT_NEAR(du, want, 0.02 * std::abs(want) + 1e-12) << t[i];
  }
  const double half = saxe_half_time(s, u0, 3);
  EXPECT_NEAR(saxe_mode_curve(s, u0, 3, {half})[0], s / 2, 1e-6);
  // The half time against an integral the integrator does not compute: t = int_{u0}^{s/2}
  // du / (3 u^{4/3} (s - u)), over v = ln u (a smooth integrand), by Simpson's rule.
  const int n = 20000;
  const double a = std::log(u0), b = std::log(s / 2), h = (b - a) / n;
  double simpson = 0;
  for (int i = 0; i <= n; ++i) {
    const double u = std::exp(a + i * h), f = 1 / (3 * std::cbrt(u) * (s - u));
    simpson += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
  }
  simpson *= h / 3;
  EXPECT_NEAR(half, simpson, 1e-6 * simpson);
  // Depth 2 through the same interface is the closed form.
  EXPECT_NEAR(saxe_mode_curve(s, u0, 2, {3.0})[0], saxe_mode_strength(s, u0, 3.0), 1e-15);
}

}  // namespace
}  // namespace gradscope
