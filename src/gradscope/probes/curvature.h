// Curvature of a training loss from its gradients alone (the engine has no second-order
// differentiation): Hessian-vector products by central differences of float64 gradients,
//   H v = (g(w + h u) - g(w - h u)) |v| / (2 h),  u = v / |v|,
// whose error is O(h^2) times the loss's third derivatives plus the gradients' rounding over h
// (h = 1e-5 gives about 1e-9 relative on the smooth models of tests/oracle; run/hessian.h holds
// a model's kinks, relus and hinge terms, on the point's side); the top eigenvalues
// by Lanczos with full reorthogonalization (exact once the Krylov space spans the operator: on
// small models take iterations >= the parameter count); the trace by Hutchinson's estimator with
// Rademacher probes, with its standard error. Every random draw is Rng(seed, name).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace gradscope {

// out [n] = A v [n] for a symmetric A.
using LinearOperator = std::function<void(const double* v, double* out)>;
// g [n] = the gradient of the loss at w [n].
using GradientFunction = std::function<void(const double* w, double* g)>;

// The Hessian at w as an operator, by central differences with step h along each unit direction.
LinearOperator finite_difference_hessian(GradientFunction gradient, std::vector<double> w,
                                         double h);

// The k largest eigenvalues of A [n, n], descending, from `iterations` Lanczos steps (at most n)
// started at a gaussian vector of Rng(seed, "lanczos").
std::vector<double> top_eigenvalues(const LinearOperator& A, int64_t n, int64_t k,
                                    int64_t iterations, uint64_t seed);

struct TraceEstimate {
  double trace = 0;  // the mean of z^T A z over the probes
  double error = 0;  // its standard error (sample standard deviation / sqrt(probes))
};
// Hutchinson's estimate of tr A from `probes` Rademacher vectors z of Rng(seed, "hutchinson").
TraceEstimate hutchinson_trace(const LinearOperator& A, int64_t n, int64_t probes, uint64_t seed);

// A restricted to the coordinates [offset, offset + size) of an n-dimensional space: the
// diagonal block of one parameter tensor.
LinearOperator diagonal_block(const LinearOperator& A, int64_t n, int64_t offset, int64_t size);

}  // namespace gradscope
