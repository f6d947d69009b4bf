// Saxe, McClelland & Ganguli (2014): deep linear networks on whitened inputs from a small,
// balanced, decoupled initialization. Each input-output mode of strength s (a singular value of
// the teacher) is learned independently; with time t = step * lr (tau = 1/lr) its strength
// u = v_i^T W_end-to-end u_i follows, for depth 2,
//     u(t) = s e^{2st} / (e^{2st} - 1 + s/u0),
// and for depth D the balanced mode equation du/dt = D u^{2 - 2/D} (s - u), integrated here
// numerically (RK4). A mode is learned at about t = ln(s/u0) / (2s) (depth 2).
#pragma once

#include <cstdint>
#include <vector>

namespace gradscope {

// u(t) for depth 2 (closed form).
double saxe_mode_strength(double s, double u0, double t);
// u at each of the increasing times `t` (depth >= 2; depth 2 uses the closed form).
std::vector<double> saxe_mode_curve(double s, double u0, int64_t depth,
                                    const std::vector<double>& t);
// The time at which u(t) first reaches s / 2 (depth 2: ln(s/u0 - 1) / (2s)); numerically for
// deeper networks.
double saxe_half_time(double s, double u0, int64_t depth);

}  // namespace gradscope
