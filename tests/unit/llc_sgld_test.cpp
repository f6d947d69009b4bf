// One SGLD step of the LLC's chains (run/llc.h sgld_update) against the update written out:
// w - (eps / 2) (n beta g + gamma (w - w*)) + sqrt(eps) z, z each tensor's normals in the run's
// precision (float noise for float parameters, double for double), the padding untouched.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "gradscope/run/llc.h"
#include "gradscope/tensor/rng.h"
#include "gradscope/tensor/threads.h"

namespace gradscope {
namespace {

template <class T>
void check_step() {
  ParamStore<T> ps;
  ps.add("a", {3, 5});
  ps.add("b", {7});
  ps.add("c", {9001});  // past the update's 4096-element noise chunks: drawn as one tensor's
  ps.finalize();
  Rng fill(1, "values");
  for (int i = 0; i < ps.count(); ++i) {
    fill.fill_normal(ps.value(i).data, ps.info(i).shape.numel(), 0.0, 1.0);
    fill.fill_normal(ps.grad(i).data, ps.info(i).shape.numel(), 0.0, 1.0);
  }
  std::vector<T> before(ps.values().begin(), ps.values().end()), w_star(before.size());
  for (size_t k = 0; k < before.size(); ++k) w_star[k] = static_cast<T>(0.9) * before[k];
  const double eps = 1e-3, nbeta = 50, gamma = 100;
  Rng noise = Rng(0, "llc").substream(2), again = noise;
  std::vector<T> z;
  sgld_update(ps, w_star, eps, nbeta, gamma, noise, z);
  for (const ParamInfo& p : ps.params()) {
    const int64_t n = p.shape.numel();
    std::vector<T> want_z(static_cast<size_t>(n));
    again.fill_normal_pairs(want_z.data(), n, static_cast<T>(std::sqrt(eps)));
    for (int64_t j = 0; j < n; ++j) {
      const int64_t k = p.offset + j;
      const double g = double(ps.grads()[k]), w = double(before[k]);
      const T want = static_cast<T>(w - 0.5 * eps * (nbeta * g + gamma * (w - double(w_star[k]))) +
                                    double(want_z[j]));
      // Within one ulp of T (the double sum's last bit may round either way); the other
      // precision's noise would differ in every leading digit.
      EXPECT_NEAR(double(ps.values()[k]), double(want),
                  std::abs(double(want)) * double(std::numeric_limits<T>::epsilon()))
          << p.name << " " << j;
    }
  }
  EXPECT_EQ(noise.cursor(), again.cursor());  // the same draws, in the same order
  const std::vector<std::pair<int64_t, int64_t>> spans = ps.spans();
  for (size_t k = 0; k < before.size(); ++k) {
    bool inside = false;
    for (const auto& [at, n] : spans) inside = inside || (int64_t(k) >= at && int64_t(k) < at + n);
    if (!inside) {
      EXPECT_EQ(ps.values()[k], before[k]) << "padding " << k;
    }
  }
}

// With w = w* = 0 and no drift the step is its noise exactly: each tensor's, bit for bit one draw
// over the tensor (the update draws it in chunks), in one thread and in two.
template <class T>
void check_noise_is_one_draw() {
  for (int threads : {1, 2}) {
    const ThreadsHere scope(threads);
    ParamStore<T> ps;
    ps.add("a", {7});
    ps.add("big", {9001});
    ps.finalize();
    const std::vector<T> w_star(ps.values().size(), T(0));
    Rng noise = Rng(3, "llc").substream(1), again = noise;
    std::vector<T> z;
    sgld_update(ps, w_star, 1e-4, 0.0, 0.0, noise, z);
    for (const ParamInfo& p : ps.params()) {
      const int64_t n = p.shape.numel();
      std::vector<T> want(static_cast<size_t>(n));
      again.fill_normal_pairs(want.data(), n, static_cast<T>(std::sqrt(1e-4)));
      for (int64_t j = 0; j < n; ++j)
        ASSERT_EQ(ps.values()[p.offset + j], want[j]) << p.name << " " << j << ", " << threads;
    }
  }
}

TEST(LlcSgld, TheNoiseIsOneDrawPerTensorBitForBit) {
  check_noise_is_one_draw<float>();
  check_noise_is_one_draw<double>();
}

TEST(LlcSgld, FloatRunsStepWithFloatNoise) {
  check_step<float>();
}
TEST(LlcSgld, DoubleRunsStepWithDoubleNoise) {
  check_step<double>();
}

}  // namespace
}  // namespace gradscope
