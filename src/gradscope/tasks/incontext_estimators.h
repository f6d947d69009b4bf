// The reference estimators of in-context linear regression (Garg et al. 2022, Raventós et al.
// 2023; REFERENCES 3), computed exactly for every query of a set of sequences. Query k (1-based)
// of a sequence sees its k - 1 earlier pairs, X [k-1, d] and y [k-1], and each estimator predicts
// y_k = w_hat . x_k with
//
//   ridge          w_hat = (X^T X + lambda I)^-1 X^T y; with lambda = sigma^2 the posterior mean
//                  for w ~ N(0, I_d): Bayes-optimal on new tasks (lambda = 0: least squares)
//   dmmse          w_hat = sum_m softmax_m(-||y - X w_m||^2 / (2 sigma^2)) w_m, the posterior mean
//                  over a pool of M tasks w_m: Bayes-optimal on the pool (sigma^2 = 0 is taken as
//                  1e-12: in the limit all weight goes to the pool tasks that fit best)
//   least_squares  the minimum-norm least-squares solution X^+ y
//
// With no examples (k = 1) ridge and least squares predict 0 and dmmse x_1 . mean(w_m).
// Shape legend: N = sequences, K = queries per sequence, d = dimension, M = pool tasks.
#pragma once

#include <cstdint>
#include <vector>

namespace gradscope {

// Inputs of every estimator: x [N, K, d] and y [N, K]; each returns predictions [N, K].
struct RegressionSequences {
  const double* x = nullptr;  // [N, K, d]
  const double* y = nullptr;  // [N, K]
  int64_t n = 0, k = 0, d = 0;
};

std::vector<double> ridge_predictions(const RegressionSequences& s, double lambda);
std::vector<double> least_squares_predictions(const RegressionSequences& s);
// pool [M, d] (M >= 1).
std::vector<double> dmmse_predictions(const RegressionSequences& s, const std::vector<double>& pool,
                                      double noise);

}  // namespace gradscope
