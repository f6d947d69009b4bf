// The reference estimators of in-context linear regression: see incontext_estimators.h.
// Shape legend: N = sequences, K = queries per sequence, d = dimension, M = pool tasks,
// m = examples seen before a query.
#include "gradscope/tasks/incontext_estimators.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "gradscope/tensor/lapack.h"

namespace gradscope {
namespace {

double dot(const double* a, const double* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// x . w_hat for the m pairs X [m, d], y [m] seen before a query x, given their running
// gram = X^T X + lambda I and xty = X^T y: the d x d solve when lambda > 0 or m >= d; below d
// pairs with lambda = 0, the minimum-norm solution X^T (X X^T)^-1 y through the m x m kernel.
// NaN where the system is singular (probability zero for Gaussian inputs). A, b: scratch.
double estimate_at(const double* X, const double* y, int64_t m, int64_t d, const double* x,
                   const std::vector<double>& gram, const std::vector<double>& xty, double lambda,
                   std::vector<double>& A, std::vector<double>& b) {
  if (m == 0) return 0;
  if (lambda > 0 || m >= d) {
    A = gram, b = xty;
    return solve_positive_definite(A.data(), b.data(), d) ? dot(b.data(), x, d) : NAN;
  }
  A.resize(static_cast<size_t>(m * m));
  b.assign(y, y + m);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < m; ++c) A[r * m + c] = dot(X + r * d, X + c * d, d);
  if (!solve_positive_definite(A.data(), b.data(), m)) return NAN;
  double p = 0;
  for (int64_t j = 0; j < m; ++j) p += b[j] * dot(X + j * d, x, d);
  return p;
}

}  // namespace

std::vector<double> ridge_predictions(const RegressionSequences& s, double lambda) {
  const int64_t K = s.k, d = s.d;
  std::vector<double> out(static_cast<size_t>(s.n * K));
  std::vector<double> gram(static_cast<size_t>(d * d)), xty(static_cast<size_t>(d));  // running
  std::vector<double> A, b;
  for (int64_t e = 0; e < s.n; ++e) {
    const double* X = s.x + e * K * d;  // [K, d]
    const double* y = s.y + e * K;      // [K]
    std::fill(gram.begin(), gram.end(), 0.0);
    std::fill(xty.begin(), xty.end(), 0.0);
    for (int64_t r = 0; r < d; ++r) gram[r * d + r] = std::max(lambda, 0.0);
    for (int64_t i = 0; i < K; ++i) {
      const double* xi = X + i * d;
      out[e * K + i] = estimate_at(X, y, i, d, xi, gram, xty, lambda, A, b);
      for (int64_t r = 0; r < d; ++r) {
        xty[r] += xi[r] * y[i];
        for (int64_t c = 0; c < d; ++c) gram[r * d + c] += xi[r] * xi[c];
      }
    }
  }
  return out;
}

std::vector<double> least_squares_predictions(const RegressionSequences& s) {
  return ridge_predictions(s, 0.0);
}

std::vector<double> dmmse_predictions(const RegressionSequences& s, const std::vector<double>& pool,
                                      double noise) {
  const int64_t K = s.k, d = s.d, M = static_cast<int64_t>(pool.size()) / d;
  const double inv = 1.0 / (2.0 * std::max(noise, 1e-12));
  std::vector<double> out(static_cast<size_t>(s.n * K));
  std::vector<double> resid(static_cast<size_t>(M)), z(static_cast<size_t>(M));  // [M]
  for (int64_t e = 0; e < s.n; ++e) {
    std::fill(resid.begin(), resid.end(), 0.0);  // sum over seen pairs of (y_j - w_m . x_j)^2
    for (int64_t i = 0; i < K; ++i) {
      const double* xi = s.x + (e * K + i) * d;
      double least = std::numeric_limits<double>::infinity();
      for (int64_t m = 0; m < M; ++m) {
        z[m] = dot(pool.data() + m * d, xi, d);  // w_m . x_i
        least = std::min(least, resid[m]);
      }
      // Posterior weights exp(-resid / (2 sigma^2)), shifted by the largest for stability.
      double total = 0, pred = 0;
      for (int64_t m = 0; m < M; ++m) {
        const double p = std::exp(-(resid[m] - least) * inv);
        total += p, pred += p * z[m];
      }
      out[e * K + i] = pred / total;
      const double yi = s.y[e * K + i];
      for (int64_t m = 0; m < M; ++m) resid[m] += (yi - z[m]) * (yi - z[m]);
    }
  }
  return out;
}

}  // namespace gradscope
