// Saxe's deep linear closed form: see saxe.h.
#include "gradscope/theory/saxe.h"

#include <algorithm>
#include <cmath>

namespace gradscope {
namespace {

double rate(double u, double s, int64_t depth) {
  return double(depth) * std::pow(std::max(u, 0.0), 2.0 - 2.0 / double(depth)) * (s - u);
}

// One RK4 step of du/dt = rate(u) of length h.
double rk4(double u, double s, int64_t depth, double h) {
  const double k1 = rate(u, s, depth), k2 = rate(u + h / 2 * k1, s, depth),
               k3 = rate(u + h / 2 * k2, s, depth), k4 = rate(u + h * k3, s, depth);
  return u + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
}

// Integrates from u over a time span, each step changing u by about 0.5% at most.
double advance(double u, double s, int64_t depth, double span) {
  while (span > 0) {
    const double r = std::abs(rate(u, s, depth));
    const double h = r > 0 ? std::min(span, 0.005 * std::max(std::abs(u), 1e-300) / r) : span;
    u = rk4(u, s, depth, h);
    span -= h;
  }
  return u;
}

}  // namespace

double saxe_mode_strength(double s, double u0, double t) {
  const double e = std::exp(-2.0 * s * t);  // divide through by e^{2st}: stable for large t
  return s / (1.0 - e + s / u0 * e);
}

std::vector<double> saxe_mode_curve(double s, double u0, int64_t depth,
                                    const std::vector<double>& t) {
  std::vector<double> out;
  out.reserve(t.size());
  double u = u0, now = 0;
  for (double ti : t) {
    if (depth == 2) {
      out.push_back(saxe_mode_strength(s, u0, ti));
      continue;
    }
    u = advance(u, s, depth, ti - now);
    now = ti;
    out.push_back(u);
  }
  return out;
}

double saxe_half_time(double s, double u0, int64_t depth) {
  if (depth == 2) return std::log(s / u0 - 1.0) / (2.0 * s);
  // Bisection on the monotone curve.
  double lo = 0, hi = 1.0 / s;
  while (advance(u0, s, depth, hi) < s / 2 && hi < 1e12) hi *= 2;
  for (int i = 0; i < 60; ++i) {
    const double mid = (lo + hi) / 2;
    (advance(u0, s, depth, mid) < s / 2 ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace gradscope
