// The models of the rank-dynamics experiments (REFERENCES 2). All take model.init_scale = alpha.
//
//   diagonal              y = <w, x>, w = u_0 (.) u_1 (.) ... (.) u_{depth-1} ("diag.u0", ...),
//                         every factor alpha * N(0, 1) (generic u_0 != +-u_1).
//   diag_attention        one attention head with diagonal W_Q, W_K, W_V, W_O (vectors "attn.w_Q",
//                         ...) on a sequence x [L, d]: the query reads the last position,
//                         y = (sum_j a_j (x_j (.) w_V)) (.) w_O, a = softmax_j(<x_L (.) w_Q,
//                         x_j (.) w_K> / sqrt(d)); every entry alpha * N(0, 1) (Boix-Adsera's toy).
//   deep_linear           y = x W_0 W_1 ... W_{depth-1} ("layers.0.W" [d_in, width], ...,
//                         [width, d_out]); init normal: alpha * N(0, 1/fan_in); identity: alpha * I
//                         (balanced, and decoupled along the standard basis: Saxe's setting).
//   matrix_factorization  P = W_0 W_1 ... W_{depth-1}, each [n, n] ("factors.0.W", ...); the output
//                         for entry id i*n + j is P[i, j]; init alpha * N(0, 1/n) or alpha * I.
//
// Each is a family of the model registry (nn/model_registry.def). Products for the spectral
// probe: "end_to_end" (diag(w), the product of the layers, or P) and,
// for diag_attention, "attn.QK" = diag(w_Q (.) w_K) and "attn.VO" = diag(w_V (.) w_O).
#pragma once

#include <cstdint>
#include <memory>

#include <span>
#include <string>
#include <vector>

#include "gradscope/nn/models.h"

namespace gradscope {

// Diagonal networks f(x; u (.) v) (diagonal with depth 2, diag_attention) implement this beside
// Model<T>, for the stage prediction (run/prediction.h): it evaluates the loss as a function of
// the product coordinates w by setting u = w and v = 1 in a parameter buffer, where the gradient
// in u equals the gradient in w.
template <class T>
class DiagonalNetwork {
 public:
  virtual ~DiagonalNetwork() = default;
  // The number of product coordinates w (0: not a network of this form, e.g. depth 3).
  virtual int64_t diagonal_coordinates() const = 0;
  virtual void set_diagonal_point(std::span<T> buffer, const std::vector<double>& w) const = 0;
  virtual void diagonal_gradient(std::span<const T> grads, std::vector<double>& g) const = 0;
  // How the prediction names coordinate c: "w[c]" by default.
  virtual std::string coordinate_name(int64_t c) const { return "w[" + std::to_string(c) + "]"; }
};

// A deep linear network y = x W_0 W_1 ... W_{depth-1} (deep_linear) implements this beside
// Model<T>, for Saxe's closed form (run/prediction.h): its layers are parameters 0..depth-1.
class LinearNetwork {
 public:
  virtual ~LinearNetwork() = default;
  // The number of layers (0: not a network of this form, e.g. a matrix factorization).
  virtual int64_t linear_depth() const = 0;
};

}  // namespace gradscope
