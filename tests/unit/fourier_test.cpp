// The Fourier measures' building blocks (probes/fourier.h): an orthonormal basis, Parseval,
// norms that find the frequencies a matrix was built from, the Gini coefficient's fixed points,
// and the key-frequency rule.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "gradscope/probes/fourier.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

TEST(Fourier, BasisIsOrthonormal) {
  const int64_t p = 13;
  const std::vector<double> B = fourier_basis(p);
  for (int64_t a = 0; a < p; ++a)
    for (int64_t b = 0; b < p; ++b) {
      double dot = 0;
      for (int64_t x = 0; x < p; ++x) dot += B[a * p + x] * B[b * p + x];
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-12) << a << " " << b;
    }
  EXPECT_THROW(fourier_basis(12), std::invalid_argument);
}

TEST(Fourier, NormsFindTheBuiltFrequenciesAndSatisfyParseval) {
  const int64_t p = 113, d = 6;
  std::vector<double> W(p * d);  // columns: cos and sin at k = 14 and 41, with phases
  for (int64_t x = 0; x < p; ++x) {
    const double w = 2 * std::numbers::pi * double(x) / double(p);
    W[x * d + 0] = 3 * std::cos(14 * w + 0.3);
    W[x * d + 1] = std::sin(14 * w);
    W[x * d + 2] = 2 * std::cos(41 * w);
    W[x * d + 3] = 0.5 * std::sin(41 * w - 1.0);
    W[x * d + 4] = 1.5;  // constant
    W[x * d + 5] = 0;
  }
  double constant = 0;
  const std::vector<double> n = fourier_norms(W.data(), p, d, &constant);
  ASSERT_EQ(n.size(), 56u);
  double frob = 0, parts = constant * constant;
  for (double v : W) frob += v * v;
  for (double v : n) parts += v * v;
  EXPECT_NEAR(parts, frob, 1e-9 * frob);
  // A unit-amplitude cosine has norm sqrt(p / 2) at its frequency.
  const double unit = std::sqrt(double(p) / 2);
  EXPECT_NEAR(n[14 - 1], unit * std::sqrt(9.0 + 1.0), 1e-9);
  EXPECT_NEAR(n[41 - 1], unit * std::sqrt(4.0 + 0.25), 1e-9);
  EXPECT_NEAR(constant, 1.5 * std::sqrt(double(p)), 1e-9);
  for (size_t k = 1; k <= n.size(); ++k)
    if (k != 14 && k != 41) {
      EXPECT_LT(n[k - 1], 1e-9) << k;
    }
  EXPECT_EQ(key_frequencies(n, 0.05), (std::vector<int64_t>{14, 41}));
  EXPECT_EQ(key_frequencies(n, 0.5), (std::vector<int64_t>{14}));  // 10 / 14.25 of the squares
}

TEST(Fourier, GiniIsZeroWhenSpreadAndHighWhenConcentrated) {
  EXPECT_DOUBLE_EQ(gini({2, 2, 2, 2}), 0.0);
  EXPECT_DOUBLE_EQ(gini({0, 0, 0, 5}), 0.75);  // (n - 1) / n
  EXPECT_DOUBLE_EQ(gini({0, 0, 0, 0}), 0.0);
  EXPECT_NEAR(gini({1, 2, 3}), (1.0 + 2.0 + 1.0) * 2 / (2 * 3 * 6.0), 1e-15);
  // A random embedding spreads over every frequency: low Gini; a built one is concentrated.
  const int64_t p = 59, d = 32;
  std::vector<double> W(p * d);
  Rng(1, "test").fill_normal(W.data(), p * d, 0.0, 1.0);
  EXPECT_LT(gini(fourier_norms(W.data(), p, d)), 0.3);
}

}  // namespace
}  // namespace gradscope
