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

// The minimum-norm least-squares prediction at query x from the m pairs X [m, d], y [m]:
// m >= d: w = (X^T X)^-1 X^T y; m < d: w = X^T (X X^T)^-1 y, so x . w = sum_j a_j (x_j . x).
// NaN where the Gram matrix is singular (probability zero for Gaussian inputs).
double least_squares_at(const double* X, const double* y, int64_t m, int64_t d, const double* x,
                        std::vector<double>& A, std::vector<double>& b) {
  if (m == 0) return 0;
  const int64_t n = std::min(m, d);
  A.assign(static_cast<size_t>(n * n), 0.0);
  b.assign(static_cast<size_t>(n), 0.0);
  if (m >= d) {
    for (int64_t j = 0; j < m; ++j)
      for (int64_t r = 0; r < d; ++r) {
        b[r] += X[j * d + r] * y[j];
        for (int64_t c = 0; c < d; ++c) A[r * d + c] += X[j * d + r] * X[j * d + c];
      }
    if (!solve_positive_definite(A.data(), b.data(), d)) return NAN;
    return dot(b.data(), x, d);
  }
  for (int64_t r = 0; r < m; ++r) {
    b[r] = y[r];
    for (int64_t c = 0; c < m; ++c) A[r * m + c] = dot(X + r * d, X + c * d, d);
  }
  if (!solve_positive_definite(A.data(), b.data(), m)) return NAN;
  double p = 0;
  for (int64_t j = 0; j < m; ++j) p += b[j] * dot(X + j * d, x, d);
  return p;
}

}  // namespace

std::vector<double> ridge_predictions(const RegressionSequences& s, double lambda) {
  if (lambda <= 0) return least_squares_predictions(s);
  const int64_t K = s.k, d = s.d;
  std::vector<double> out(static_cast<size_t>(s.n * K), 0.0);
  std::vector<double> gram(static_cast<size_t>(d * d)), xty(static_cast<size_t>(d));  // running
  std::vector<double> A, b;
  for (int64_t e = 0; e < s.n; ++e) {
    const double* X = s.x + e * K * d;  // [K, d]
    const double* y = s.y + e * K;      // [K]
    std::fill(gram.begin(), gram.end(), 0.0);
    std::fill(xty.begin(), xty.end(), 0.0);
    for (int64_t r = 0; r < d; ++r) gram[r * d + r] = lambda;
    for (int64_t i = 0; i < K; ++i) {
      const double* xi = X + i * d;
      if (i > 0) {
        A = gram, b = xty;
        out[e * K + i] =
            solve_positive_definite(A.data(), b.data(), d) ? dot(b.data(), xi, d) : NAN;
      }
      for (int64_t r = 0; r < d; ++r) {
        xty[r] += xi[r] * y[i];
        for (int64_t c = 0; c < d; ++c) gram[r * d + c] += xi[r] * xi[c];
      }
    }
  }
  return out;
}

std::vector<double> least_squares_predictions(const RegressionSequences& s) {
  const int64_t K = s.k, d = s.d;
  std::vector<double> out(static_cast<size_t>(s.n * K)), A, b;
  for (int64_t e = 0; e < s.n; ++e)
    for (int64_t i = 0; i < K; ++i)
      out[e * K + i] =
          least_squares_at(s.x + e * K * d, s.y + e * K, i, d, s.x + (e * K + i) * d, A, b);
  return out;
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
