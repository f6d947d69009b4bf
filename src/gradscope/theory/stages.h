// Stage prediction for diagonal networks f(x; u (.) v) trained by gradient flow from a small
// initialization alpha (Boix-Adsera et al. 2023, in the style of Pesme & Flammarion's
// saddle-to-saddle algorithm; REFERENCES 2). Time is rescaled: tau = t / log(1/alpha).
//
// With w = u (.) v, g = -dL/dw and c(tau) = the integral of g over rescaled time: start with the
// active set S empty, w = 0, c = 0. Each stage: w^k = the minimizer of L restricted to S (reached
// by gradient descent from w^{k-1}); g^k = g(w^k); for each inactive i with g_i^k != 0,
// Delta_i = (sign(g_i^k) - c_i) / g_i^k; the smallest Delta is the stage's length: tau advances
// by it, c <- c + Delta g^k, and that coordinate activates. Stop when g^k = 0 off S. The loss is
// predicted piecewise constant: L(w^{k}) between the k-th and (k+1)-th jumps.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace gradscope {

// L(w), writing dL/dw into grad (same size as w).
using LossAndGradient =
    std::function<double(const std::vector<double>& w, std::vector<double>& grad)>;

struct StagePrediction {
  std::vector<double> jump_times;      // rescaled times tau_1 < tau_2 < ...
  std::vector<int64_t> coordinates;    // the coordinate activated at each jump
  std::vector<double> plateau_losses;  // L(0), then the loss after each jump (size jumps + 1)
  std::vector<std::vector<double>> w;  // w^k after each jump's stage converges
};

// `dim` coordinates; gradients below `zero_tol` (relative to the first stage's largest) count as 0.
StagePrediction predict_stages(int64_t dim, const LossAndGradient& loss, int64_t max_stages = 64,
                               double zero_tol = 1e-6);

}  // namespace gradscope
