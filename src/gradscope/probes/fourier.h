// The Fourier basis of Z_p and the measures Nanda et al. (2023; REFERENCES.md 1a) read from it:
// how much of a matrix whose rows are indexed by residues (the embedding W_E restricted to the p
// number tokens, or a neuron-logit map's columns) lies at each frequency, how concentrated that is
// (Gini coefficient), and which frequencies are key.
//
// Basis (odd p): the constant 1/sqrt(p) and, for k = 1..(p-1)/2, cos_k(x) = sqrt(2/p)
// cos(2 pi k x / p) and sin_k(x) = sqrt(2/p) sin(2 pi k x / p): orthonormal, so the squared norms
// of the components add up to ||W||_F^2 (Parseval).
// The Fourier probe (probes/fourier_probe.h) measures runs with it; restricted and excluded loss
// (issue 16) will build on the same basis.
#pragma once

#include <cstdint>
#include <vector>

namespace gradscope {

// Orthonormal basis of R^p ordered [constant, cos_1, sin_1, ..., cos_K, sin_K], K = (p-1)/2:
// row-major [p, p]. Throws std::invalid_argument unless p is odd and >= 3.
std::vector<double> fourier_basis(int64_t p);

// Norm per frequency of W [p, d] (rows indexed by residue x = 0..p-1):
// out[k - 1] = sqrt(||cos_k^T W||^2 + ||sin_k^T W||^2) for k = 1..K. The constant component's
// norm goes to *constant when given.
std::vector<double> fourier_norms(const double* W, int64_t p, int64_t d,
                                  double* constant = nullptr);

// Gini coefficient of non-negative values: sum_i sum_j |x_i - x_j| / (2 n sum_i x_i); 0 when all
// are equal (or all zero), (n - 1) / n when one holds everything.
double gini(const std::vector<double>& x);

// Key frequencies: every k (1-based) whose share of the squared norms, norms[k-1]^2 /
// sum_j norms[j]^2, is at least `threshold` (probe.key_freq_threshold), in increasing order.
std::vector<int64_t> key_frequencies(const std::vector<double>& norms, double threshold);

}  // namespace gradscope
