// The Fourier measures' building blocks (probes/fourier.h): an orthonormal basis, Parseval,
// norms that find the frequencies a matrix was built from, the Gini coefficient's fixed points,
// the key-frequency rule, and restricted and excluded loss against the projections written out in
// R^{p*p} as REFERENCES.md 1a defines them.
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

// Mean cross-entropy of logits [p*p, p] over the marked rows, labels (a + sign b) mod p.
double brute_cross_entropy(const std::vector<double>& L, int64_t p, int sign,
                           const std::vector<char>& rows) {
  double total = 0, n = 0;
  for (int64_t i = 0; i < p * p; ++i) {
    if (!rows[i]) continue;
    double z = 0;
    for (int64_t c = 0; c < p; ++c) z += std::exp(L[i * p + c]);
    total += std::log(z) - L[i * p + ((i / p + sign * (i % p)) % p + p) % p];
    ++n;
  }
  return total / n;
}

TEST(Fourier, RestrictedAndExcludedLossMatchTheProjectionsOnTheBasisProducts) {
  const int64_t p = 11;
  const std::vector<double> B = fourier_basis(p);  // row 2k-1: cos_k, row 2k: sin_k
  std::vector<double> L(p * p * p);                // [p*p, p] random logits
  Rng(3, "test").fill_normal(L.data(), int64_t(L.size()), 0.5, 2.0);
  std::vector<char> train(p * p), all(p * p, 1);
  for (int64_t i = 0; i < p * p; ++i) train[i] = (i * 7) % 3 == 0;
  const std::vector<int64_t> keys = {2, 5};
  for (int sign : {1, -1}) {
    std::vector<double> P(L.size(), 0.0);  // the projections, [p*p, p]
    for (int64_t k : keys) {
      const double* C = &B[(2 * k - 1) * p];
      const double* S = &B[(2 * k) * p];
      std::vector<double> u1(p * p), u2(p * p);  // cos and sin of w_k (a + sign b)
      for (int64_t a = 0; a < p; ++a)
        for (int64_t b = 0; b < p; ++b) {
          u1[a * p + b] = (C[a] * C[b] - sign * S[a] * S[b]) / std::sqrt(2.0);
          u2[a * p + b] = (S[a] * C[b] + sign * C[a] * S[b]) / std::sqrt(2.0);
        }
      for (int64_t c = 0; c < p; ++c)
        for (const auto* u : {&u1, &u2}) {
          double dot = 0;
          for (int64_t i = 0; i < p * p; ++i) dot += (*u)[i] * L[i * p + c];
          for (int64_t i = 0; i < p * p; ++i) P[i * p + c] += dot * (*u)[i];
        }
    }
    std::vector<double> R(L.size()), E(L.size());
    for (int64_t c = 0; c < p; ++c) {
      double mean = 0;
      for (int64_t i = 0; i < p * p; ++i) mean += L[i * p + c] / double(p * p);
      for (int64_t i = 0; i < p * p; ++i) {
        R[i * p + c] = P[i * p + c] + mean;
        E[i * p + c] = L[i * p + c] - P[i * p + c];
      }
    }
    const FourierLosses got = fourier_losses(L, p, sign, keys, train);
    EXPECT_NEAR(got.restricted, brute_cross_entropy(R, p, sign, all), 1e-10) << sign;
    EXPECT_NEAR(got.restricted_train, brute_cross_entropy(R, p, sign, train), 1e-10) << sign;
    EXPECT_NEAR(got.excluded_train, brute_cross_entropy(E, p, sign, train), 1e-10) << sign;
  }
  EXPECT_THROW(fourier_losses(L, p, 1, {6}, train), std::invalid_argument);  // k <= (p-1)/2
}

TEST(Fourier, LogitsOfTheFourierAlgorithmLoseNothingWhenRestrictedAndAllWhenExcluded) {
  // L[(a, b), c] = 6 cos(w_k (a - b - c)) summed over k in {1, 4}: the algorithm itself.
  const int64_t p = 13;
  std::vector<double> L(p * p * p);
  for (int64_t a = 0; a < p; ++a)
    for (int64_t b = 0; b < p; ++b)
      for (int64_t c = 0; c < p; ++c)
        for (int64_t k : {1, 4})
          L[(a * p + b) * p + c] +=
              6 * std::cos(2 * std::numbers::pi * double(k) * double(a - b - c) / double(p));
  const std::vector<char> all(p * p, 1);
  const FourierLosses l = fourier_losses(L, p, -1, {1, 4}, all);
  EXPECT_NEAR(l.restricted, brute_cross_entropy(L, p, -1, all), 1e-10);
  EXPECT_LT(l.restricted, 0.01);
  EXPECT_NEAR(l.excluded_train, std::log(double(p)), 1e-10);  // nothing left: uniform logits
  // Without the keys the restricted logits are the class means (all zero here): chance.
  EXPECT_NEAR(fourier_losses(L, p, -1, {}, all).restricted, std::log(double(p)), 1e-10);
}

}  // namespace
}  // namespace gradscope
