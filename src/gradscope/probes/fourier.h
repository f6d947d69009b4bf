// The Fourier basis of Z_p and the measures Nanda et al. (2023; REFERENCES.md 1a) read from it:
// how much of a matrix whose rows are indexed by residues (the embedding W_E restricted to the p
// number tokens, or a neuron-logit map's columns) lies at each frequency, how concentrated that is
// (Gini coefficient), and which frequencies are key.
//
// Basis (odd p): the constant 1/sqrt(p) and, for k = 1..(p-1)/2, cos_k(x) = sqrt(2/p)
// cos(2 pi k x / p) and sin_k(x) = sqrt(2/p) sin(2 pi k x / p): orthonormal, so the squared norms
// of the components add up to ||W||_F^2 (Parseval).
// The Fourier probe (probes/fourier_probe.h) measures runs with it, and with fourier_losses() the
// restricted and excluded loss of a+b and a-b.
#pragma once

#include <cstdint>
#include <vector>

namespace gradscope {

// Throws std::invalid_argument unless p is odd and >= 3 (the measures' moduli).
void check_modulus(int64_t p);

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

// Nanda et al.'s restricted and excluded loss of logits L [p*p, p] over every pair (row a * p + b,
// the '=' and op logits dropped) of c = a + sign * b mod p (sign +1: a+b, -1: a-b). For each key
// frequency k the two directions in R^{p*p} over (a, b) are cos(w_k s) and sin(w_k s) with
// s = a + sign * b and w_k = 2 pi k / p, each scaled to unit norm (sqrt(2) / p: the products of
// the basis rows, (cos_k (x) cos_k -+ sin_k (x) sin_k) / sqrt 2 and (sin_k (x) cos_k +- cos_k (x)
// sin_k) / sqrt 2). P = each class's logits projected onto the directions of every key.
//   restricted logits  P + each class's mean logit  (cross-entropy on all pairs, and on train)
//   excluded logits    L - P                        (cross-entropy on train)
// Cross-entropy in double through a stable log-softmax; `train` [p*p] marks the train pairs.
struct FourierLosses {
  double restricted = 0, restricted_train = 0, excluded_train = 0;
};
FourierLosses fourier_losses(const std::vector<double>& logits, int64_t p, int sign,
                             const std::vector<int64_t>& keys, const std::vector<char>& train);

}  // namespace gradscope
