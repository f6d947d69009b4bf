// Curvature from gradients: see curvature.h.
#include "gradscope/probes/curvature.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "gradscope/tensor/lapack.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}

}  // namespace

LinearOperator finite_difference_hessian(GradientFunction gradient, std::vector<double> w,
                                         double h) {
  if (!(h > 0)) throw std::invalid_argument("finite difference step must be > 0");
  return [gradient = std::move(gradient), w = std::move(w), h](const double* v, double* out) {
    const size_t n = w.size();
    double norm = 0;
    for (size_t i = 0; i < n; ++i) norm += v[i] * v[i];
    norm = std::sqrt(norm);
    if (norm == 0) {
      std::fill(out, out + n, 0.0);
      return;
    }
    std::vector<double> x(n), plus(n), minus(n);
    for (size_t i = 0; i < n; ++i) x[i] = w[i] + h * v[i] / norm;
    gradient(x.data(), plus.data());
    for (size_t i = 0; i < n; ++i) x[i] = w[i] - h * v[i] / norm;
    gradient(x.data(), minus.data());
    for (size_t i = 0; i < n; ++i) out[i] = (plus[i] - minus[i]) * norm / (2 * h);
  };
}

std::vector<double> top_eigenvalues(const LinearOperator& A, int64_t n, int64_t k,
                                    int64_t iterations, uint64_t seed) {
  const int64_t m = std::min(n, std::max<int64_t>(iterations, 1));
  const Rng rng(seed, "lanczos");
  std::vector<std::vector<double>> Q;  // the Lanczos vectors, orthonormal
  std::vector<double> alpha, beta;     // the tridiagonal matrix Q^T A Q
  std::vector<double> q(static_cast<size_t>(n)), w(static_cast<size_t>(n));
  // w minus its components along every Lanczos vector (twice, for rounding); returns |w|.
  auto orthogonalize = [&](std::vector<double>& v) {
    for (int pass = 0; pass < 2; ++pass)
      for (const std::vector<double>& p : Q) {
        const double c = dot(p, v);
        for (int64_t i = 0; i < n; ++i) v[i] -= c * p[i];
      }
    return std::sqrt(dot(v, v));
  };
  // A fresh start: a gaussian vector of the j-th substream, orthogonal to Q.
  auto restart = [&](int64_t j, std::vector<double>& v) {
    rng.substream(static_cast<uint64_t>(j)).fill_normal(v.data(), n, 0.0, 1.0);
    return orthogonalize(v);
  };
  double scale = 0, norm = restart(0, q);
  for (double& x : q) x /= norm;
  for (int64_t j = 0; j < m; ++j) {
    Q.push_back(q);
    A(q.data(), w.data());
    alpha.push_back(dot(q, w));
    scale = std::max(scale, std::abs(alpha.back()));
    if (j + 1 == m) break;
    norm = orthogonalize(w);
    if (norm <= 1e-10 * std::max(scale, 1e-300)) {
      // An invariant subspace: its eigenvalues are exact; go on in the rest of the space (this
      // finds repeated eigenvalues, which one Krylov space cannot).
      norm = restart(j + 1, w);
      beta.push_back(0);
    } else {
      beta.push_back(norm);
    }
    for (int64_t i = 0; i < n; ++i) q[i] = w[i] / norm;
  }
  std::vector<double> eig = tridiagonal_eigenvalues(alpha, beta);
  std::reverse(eig.begin(), eig.end());
  eig.resize(static_cast<size_t>(std::min<int64_t>(k, static_cast<int64_t>(eig.size()))));
  return eig;
}

TraceEstimate hutchinson_trace(const LinearOperator& A, int64_t n, int64_t probes, uint64_t seed) {
  const Rng rng(seed, "hutchinson");
  std::vector<double> z(static_cast<size_t>(n)), az(static_cast<size_t>(n)), values;
  for (int64_t s = 0; s < probes; ++s) {
    const Rng probe = rng.substream(static_cast<uint64_t>(s));
    for (int64_t i = 0; i < n; ++i) z[i] = probe.below(static_cast<uint64_t>(i), 2) ? 1.0 : -1.0;
    A(z.data(), az.data());
    values.push_back(dot(z, az));
  }
  TraceEstimate t;
  t.trace = std::accumulate(values.begin(), values.end(), 0.0) / double(probes);
  double var = 0;
  for (double v : values) var += (v - t.trace) * (v - t.trace);
  t.error = probes > 1 ? std::sqrt(var / double(probes - 1) / double(probes)) : NAN;
  return t;
}

LinearOperator diagonal_block(const LinearOperator& A, int64_t n, int64_t offset, int64_t size) {
  return [A, n, offset, size](const double* v, double* out) {
    std::vector<double> x(static_cast<size_t>(n), 0.0), y(static_cast<size_t>(n));
    std::copy(v, v + size, x.begin() + offset);
    A(x.data(), y.data());
    std::copy(y.begin() + offset, y.begin() + offset + size, out);
  };
}

}  // namespace gradscope
