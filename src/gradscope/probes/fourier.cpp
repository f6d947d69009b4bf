// Fourier basis, per-frequency norms, Gini coefficient, key frequencies, and restricted and
// excluded loss: see fourier.h. Shape legend: p = the modulus, G = p * p pairs (a, b).
#include "gradscope/probes/fourier.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace gradscope {

void check_modulus(int64_t p) {
  if (p < 3 || p % 2 == 0)
    throw std::invalid_argument(
        fmt::format("Fourier measures need an odd modulus p >= 3 (got task.p = {})", p));
}

std::vector<double> fourier_basis(int64_t p) {
  check_modulus(p);
  std::vector<double> B(p * p);  // [p, p]: row r is basis vector r
  const double c0 = 1.0 / std::sqrt(double(p)), ck = std::sqrt(2.0 / double(p));
  for (int64_t x = 0; x < p; ++x) B[x] = c0;
  for (int64_t k = 1; 2 * k < p; ++k)
    for (int64_t x = 0; x < p; ++x) {
      // k x mod p keeps the angle small, so cos and sin are accurate for large p too.
      const double angle = 2.0 * std::numbers::pi * double(k * x % p) / double(p);
      B[(2 * k - 1) * p + x] = ck * std::cos(angle);
      B[(2 * k) * p + x] = ck * std::sin(angle);
    }
  return B;
}

std::vector<double> fourier_norms(const double* W, int64_t p, int64_t d, double* constant) {
  const std::vector<double> B = fourier_basis(p);
  std::vector<double> sq(p, 0.0);  // squared norm of each component, [p]
  std::vector<double> row(d);      // [d]
  for (int64_t r = 0; r < p; ++r) {
    std::fill(row.begin(), row.end(), 0.0);
    for (int64_t x = 0; x < p; ++x)
      for (int64_t j = 0; j < d; ++j) row[j] += B[r * p + x] * W[x * d + j];
    for (double v : row) sq[r] += v * v;
  }
  if (constant) *constant = std::sqrt(sq[0]);
  std::vector<double> out((p - 1) / 2);
  for (size_t k = 1; k <= out.size(); ++k) out[k - 1] = std::sqrt(sq[2 * k - 1] + sq[2 * k]);
  return out;
}

double gini(const std::vector<double>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  double total = 0;
  for (double v : x) total += v;
  if (n == 0 || total <= 0) return 0.0;
  std::vector<double> s(x);
  std::sort(s.begin(), s.end());
  // sum_i sum_j |x_i - x_j| = 2 sum_i (2 i - n + 1) s_i over the sorted values (i from 0).
  double pairs = 0;
  for (int64_t i = 0; i < n; ++i) pairs += double(2 * i - n + 1) * s[i];
  return pairs / (double(n) * total);
}

std::vector<int64_t> key_frequencies(const std::vector<double>& norms, double threshold) {
  double total = 0;
  for (double v : norms) total += v * v;
  std::vector<int64_t> keys;
  if (total <= 0) return keys;
  for (size_t k = 0; k < norms.size(); ++k)
    if (norms[k] * norms[k] / total >= threshold) keys.push_back(static_cast<int64_t>(k) + 1);
  return keys;
}

namespace {

// Cross-entropy of row i of logits [G, p] (stable log-softmax, double) with label
// (a + sign * b) mod p.
double row_cross_entropy(const double* l, int64_t p, int64_t label) {
  const double top = *std::max_element(l, l + p);
  double z = 0;
  for (int64_t c = 0; c < p; ++c) z += std::exp(l[c] - top);
  return top + std::log(z) - l[label];
}

}  // namespace

FourierLosses fourier_losses(const std::vector<double>& logits, int64_t p, int sign,
                             const std::vector<int64_t>& keys, const std::vector<char>& train) {
  check_modulus(p);
  const int64_t G = p * p;
  if (static_cast<int64_t>(logits.size()) != G * p || static_cast<int64_t>(train.size()) != G)
    throw std::invalid_argument("fourier_losses: logits must be [p*p, p] and train [p*p]");
  // S[s, c]: the sum of class c's logits over the pairs with a + sign * b = s (mod p).  [p, p]
  std::vector<double> S(p * p, 0.0), mean(p, 0.0);
  for (int64_t a = 0; a < p; ++a)
    for (int64_t b = 0; b < p; ++b) {
      const int64_t s = ((a + sign * b) % p + p) % p;
      for (int64_t c = 0; c < p; ++c) S[s * p + c] += logits[(a * p + b) * p + c];
    }
  for (int64_t s = 0; s < p; ++s)
    for (int64_t c = 0; c < p; ++c) mean[c] += S[s * p + c] / double(G);
  // proj[s, c]: the projection's value at any pair with sum s.  [p, p]
  std::vector<double> proj(p * p, 0.0), dc(p), ds(p);
  const double unit = std::sqrt(2.0) / double(p);  // a direction's entries: unit * cos(w_k s)
  for (int64_t k : keys) {
    if (k < 1 || 2 * k >= p)
      throw std::invalid_argument(fmt::format("key frequency {} (valid: 1..{})", k, (p - 1) / 2));
    for (int64_t s = 0; s < p; ++s) {
      const double angle = 2.0 * std::numbers::pi * double(k * s % p) / double(p);
      dc[s] = unit * std::cos(angle), ds[s] = unit * std::sin(angle);
    }
    for (int64_t c = 0; c < p; ++c) {
      double cc = 0, cs = 0;  // the coefficients <L[:, c], direction>
      for (int64_t s = 0; s < p; ++s) cc += dc[s] * S[s * p + c], cs += ds[s] * S[s * p + c];
      for (int64_t s = 0; s < p; ++s) proj[s * p + c] += cc * dc[s] + cs * ds[s];
    }
  }
  // Restricted logits depend on the pair only through s: one cross-entropy per s.  [p]
  std::vector<double> r_of(p), row(p);
  for (int64_t v = 0; v < p; ++v) {
    for (int64_t c = 0; c < p; ++c) row[c] = proj[v * p + c] + mean[c];
    r_of[v] = row_cross_entropy(row.data(), p, v);
  }
  double r_all = 0, r_train = 0, e_train = 0;
  int64_t n_train = 0;
  for (int64_t a = 0; a < p; ++a)
    for (int64_t b = 0; b < p; ++b) {
      const int64_t i = a * p + b, v = ((a + sign * b) % p + p) % p;
      r_all += r_of[v];
      if (!train[i]) continue;
      for (int64_t c = 0; c < p; ++c) row[c] = logits[i * p + c] - proj[v * p + c];
      r_train += r_of[v];
      e_train += row_cross_entropy(row.data(), p, v);
      ++n_train;
    }
  const double none = NAN;
  return {r_all / double(G), n_train ? r_train / double(n_train) : none,
          n_train ? e_train / double(n_train) : none};
}

}  // namespace gradscope
