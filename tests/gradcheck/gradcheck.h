// Finite-difference gradient checking for ops and compositions of ops.
//
// check_gradients(shapes, build, options) makes random inputs of the given shapes, builds
// y = build(tape, inputs) and, for a random cotangent R, compares the tape's gradient of <R, y>
// for every input element against central differences (float64, step 1e-6). It then rebuilds
// the same graph in float32 and checks that values and gradients agree with float64 to 1e-4
// relative: every op is one template for both precisions, so this checks the float32 path too.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "gradscope/autograd/ops.h"
#include "gradscope/tensor/rng.h"

namespace gradscope::testing {

struct GradcheckOptions {
  // Inputs whose absolute value is below this are moved away from 0 (kinks of relu at 0).
  double away_from_zero = 0.0;
  // Inputs listed here are constants: no gradient is checked (e.g. a regression target).
  std::vector<int> constant_inputs;
  double step = 1e-6;
  double tolerance = 1e-6;          // float64 analytic vs numeric: |a - n| <= tol * max(1, |n|)
  double float32_tolerance = 1e-4;  // float32 vs float64 values and gradients, relative to scale
  uint64_t seed = 1;
};

// Builds the op graph on a tape from input Vars; generic over the precision.
template <class F>
void check_gradients(const std::vector<Shape>& shapes, F build, GradcheckOptions opt = {}) {
  // Random inputs, kept in double.
  std::vector<std::vector<double>> x(shapes.size());
  Rng rng(opt.seed, "gradcheck");
  for (size_t j = 0; j < shapes.size(); ++j) {
    x[j].resize(shapes[j].numel());
    rng.fill_normal(x[j].data(), shapes[j].numel(), 0.0, 1.0);
    for (double& v : x[j])
      if (std::abs(v) < opt.away_from_zero)
        v = v < 0 ? v - opt.away_from_zero : v + opt.away_from_zero;
  }
  auto is_constant = [&](size_t j) {
    for (int c : opt.constant_inputs)
      if (static_cast<size_t>(c) == j) return true;
    return false;
  };

  // Runs the graph in precision T on inputs xs; returns y, fills grads (if cotangent given).
  auto run = [&]<class T>(std::vector<std::vector<T>>& xs, const std::vector<double>* cot,
                          std::vector<std::vector<T>>* grads) {
    Arena arena;
    Tape<T> tape(arena);
    tape.set_grad_enabled(cot != nullptr);
    std::vector<Var> in;
    if (grads) grads->assign(xs.size(), {});
    for (size_t j = 0; j < xs.size(); ++j) {
      Tensor<T> v(xs[j].data(), shapes[j]);
      if (grads && !is_constant(j)) {
        (*grads)[j].assign(xs[j].size(), T(0));
        in.push_back(tape.param(v, (*grads)[j].data()));
      } else {
        in.push_back(tape.constant(v));
      }
    }
    Var y = build(tape, in);
    Tensor<T> yv = tape.value(y);
    std::vector<double> out(yv.begin(), yv.end());
    if (cot) {
      std::vector<T> seed(cot->begin(), cot->end());
      tape.backward(y, seed.data());
    }
    return out;
  };

  // Cotangent R from the output's size.
  std::vector<std::vector<double>>* no_grads = nullptr;
  std::vector<double> y0 = run(x, nullptr, no_grads);
  std::vector<double> cot(y0.size());
  rng.fill_normal(cot.data(), static_cast<int64_t>(cot.size()), 0.0, 1.0);
  auto project = [&](const std::vector<double>& y) {
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i) s += cot[i] * y[i];
    return s;
  };

  std::vector<std::vector<double>> grads;
  run(x, &cot, &grads);
  for (size_t j = 0; j < x.size(); ++j) {
    if (is_constant(j)) continue;
    for (size_t i = 0; i < x[j].size(); ++i) {
      const double saved = x[j][i];
      x[j][i] = saved + opt.step;
      const double fp = project(run(x, nullptr, no_grads));
      x[j][i] = saved - opt.step;
      const double fm = project(run(x, nullptr, no_grads));
      x[j][i] = saved;
      const double numeric = (fp - fm) / (2 * opt.step);
      EXPECT_NEAR(grads[j][i], numeric, opt.tolerance * std::max(1.0, std::abs(numeric)))
          << "input " << j << " " << shapes[j].str() << ", element " << i;
    }
  }

  // float32 agrees with float64.
  std::vector<std::vector<float>> xf(x.size());
  for (size_t j = 0; j < x.size(); ++j) xf[j].assign(x[j].begin(), x[j].end());
  std::vector<std::vector<float>> gf;
  std::vector<double> yf = run(xf, &cot, &gf);
  double yscale = 1e-3;
  for (double v : y0) yscale = std::max(yscale, std::abs(v));
  for (size_t i = 0; i < y0.size(); ++i)
    EXPECT_NEAR(yf[i], y0[i], opt.float32_tolerance * yscale) << "float32 output " << i;
  for (size_t j = 0; j < x.size(); ++j) {
    if (is_constant(j)) continue;
    double gscale = 1e-3;
    for (double v : grads[j]) gscale = std::max(gscale, std::abs(v));
    for (size_t i = 0; i < x[j].size(); ++i)
      EXPECT_NEAR(gf[j][i], grads[j][i], opt.float32_tolerance * gscale)
          << "float32 gradient of input " << j << ", element " << i;
  }
}

}  // namespace gradscope::testing
