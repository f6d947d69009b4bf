// The LLC's settling check (run/llc.h chain_settled) on synthetic chains: stationary AR(1) noise
// passes, a trend that stands out of it is named, a relaxation that has finished passes, and a
// chain too short to judge passes.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradscope/run/llc.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

// n draws of trend(t) + AR(1) noise (coefficient 0.9, unit stationary variance), from `seed`.
template <class F>
std::vector<double> chain(int64_t n, uint64_t seed, F trend) {
  Rng rng(seed, "chain");
  std::vector<double> x(static_cast<size_t>(n));
  double e = rng.next_normal();
  for (int64_t t = 0; t < n; ++t) {
    e = 0.9 * e + std::sqrt(1 - 0.81) * rng.next_normal();
    x[t] = trend(double(t)) + e;
  }
  return x;
}

TEST(LlcSettling, StationaryNoisePassesAndATrendIsNamed) {
  int flagged_flat = 0, flagged_relaxed = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    flagged_flat += !chain_settled(chain(2000, seed, [](double) { return 3.0; }));
    flagged_relaxed +=
        !chain_settled(chain(2000, seed, [](double t) { return 5 * (1 - std::exp(-t / 50)); }));
    // A climb of 0.01 per draw: 10 over the last half, against noise of 1 (tau about 19 draws).
    EXPECT_FALSE(chain_settled(chain(2000, seed, [](double t) { return 0.01 * t; }))) << seed;
  }
  EXPECT_LE(flagged_flat, 1);  // a 4-standard-error rule: false alarms are rare
  EXPECT_LE(flagged_relaxed, 1);
  EXPECT_TRUE(chain_settled(chain(79, 0, [](double t) { return t; })));  // too short to judge
}

}  // namespace
}  // namespace gradscope
