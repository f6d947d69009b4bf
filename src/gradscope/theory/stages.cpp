// Stage prediction: see stages.h. The restricted minimization is gradient descent with
// backtracking (Armijo) line search on the active coordinates, to a gradient norm of 1e-10.
#include "gradscope/theory/stages.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradscope {
namespace {

double norm_on(const std::vector<double>& g, const std::vector<bool>& active) {
  double s = 0;
  for (size_t i = 0; i < g.size(); ++i)
    if (active[i]) s += g[i] * g[i];
  return std::sqrt(s);
}

// Minimizes the loss over the active coordinates from w (in place); returns L(w).
double minimize_on(const LossAndGradient& loss, std::vector<double>& w,
                   const std::vector<bool>& active) {
  std::vector<double> g(w.size()), trial(w.size()), gt(w.size());
  double L = loss(w, g), step = 1.0;
  for (int it = 0; it < 200000 && norm_on(g, active) > 1e-10; ++it) {
    const double gg = norm_on(g, active) * norm_on(g, active);
    for (;;) {
      for (size_t i = 0; i < w.size(); ++i) trial[i] = active[i] ? w[i] - step * g[i] : w[i];
      const double Lt = loss(trial, gt);
      if (Lt <= L - 0.5 * step * gg || step < 1e-12) {
        w.swap(trial);
        g.swap(gt);
        const bool stalled = L - Lt <= 1e-16 * std::max(1.0, std::abs(L));
        L = Lt;
        step = std::min(step * 2.0, 1e6);
        if (stalled) return L;
        break;
      }
      step *= 0.5;
    }
  }
  return L;
}

}  // namespace

StagePrediction predict_stages(int64_t dim, const LossAndGradient& loss, int64_t max_stages,
                               double zero_tol) {
  StagePrediction p;
  std::vector<double> w(static_cast<size_t>(dim), 0.0), c(w.size(), 0.0), grad(w.size());
  std::vector<bool> active(w.size(), false);
  double tau = 0;
  p.plateau_losses.push_back(loss(w, grad));
  double scale = 0;
  for (double v : grad) scale = std::max(scale, std::abs(v));
  if (scale == 0) return p;
  for (int64_t stage = 0; stage < max_stages; ++stage) {
    loss(w, grad);  // g = -grad
    double best = std::numeric_limits<double>::infinity();
    int64_t pick = -1;
    for (int64_t i = 0; i < dim; ++i) {
      const double g = -grad[i];
      if (active[i] || std::abs(g) <= zero_tol * scale) continue;
      const double delta = ((g > 0 ? 1.0 : -1.0) - c[i]) / g;
      if (delta < best) best = delta, pick = i;
    }
    if (pick < 0) break;
    tau += best;
    for (int64_t i = 0; i < dim; ++i)
      if (!active[i]) c[i] += best * -grad[i];
    active[pick] = true;
    p.jump_times.push_back(tau);
    p.coordinates.push_back(pick);
    p.plateau_losses.push_back(minimize_on(loss, w, active));
    p.w.push_back(w);
  }
  return p;
}

}  // namespace gradscope
