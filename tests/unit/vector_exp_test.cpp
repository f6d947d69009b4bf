// exp_minus gives std::exp's bits: over a dense sweep of the float range softmax feeds it
// (x - max in [-110, 0], every 61st float; every float in [-105, -87]), around the lane/library
// boundaries, and for the special values, with offsets and lengths that leave a scalar tail.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gradscope/tensor/vector_exp.h"

namespace gradscope {
namespace {

float reference(float d) {
  return d < -104.0f ? 0.0f : std::exp(d);
}

TEST(VectorExp, SameBitsAsStdExpAcrossTheSoftmaxRange) {
  std::vector<float> x;
  // Every 61st float from -0 down to -110 (about 18 million values), then the positive side.
  for (uint32_t bits = 0x80000000u; bits <= std::bit_cast<uint32_t>(-110.0f); bits += 61)
    x.push_back(std::bit_cast<float>(bits));
  for (uint32_t bits = 0; bits <= std::bit_cast<uint32_t>(89.0f); bits += 4099)
    x.push_back(std::bit_cast<float>(bits));
  // Every float from -87 down to -105: where glibc leaves its early return for its main path
  // (about 2.4 million values).
  for (uint32_t bits = std::bit_cast<uint32_t>(-87.0f); bits <= std::bit_cast<uint32_t>(-105.0f);
       ++bits)
    x.push_back(std::bit_cast<float>(bits));
  std::vector<float> out(x.size());
  exp_minus(x.data(), 0.0f, out.data(), static_cast<int64_t>(x.size()));
  int64_t wrong = 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (std::bit_cast<uint32_t>(out[i]) != std::bit_cast<uint32_t>(reference(x[i]))) {
      if (++wrong <= 5)
        ADD_FAILURE() << "exp(" << x[i] << "): " << out[i] << " vs " << reference(x[i]);
    }
  EXPECT_EQ(wrong, 0);
}

TEST(VectorExp, BoundariesSpecialValuesAndTails) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {-88.0f,  std::nextafter(-88.0f, 0.0f),
                          88.0f,   std::nextafter(88.0f, 0.0f),
                          -104.0f, -103.5f,
                          -103.0f, 0.0f,
                          -0.0f,   -inf,
                          inf,     std::numeric_limits<float>::quiet_NaN(),
                          1e-30f,  -1e-30f,
                          3.5f};
  for (float m : {0.0f, 2.5f, -1.0f})
    for (size_t start = 0; start < 4; ++start) {
      const int64_t n = static_cast<int64_t>(x.size() - start);
      std::vector<float> out(static_cast<size_t>(n));
      exp_minus(x.data() + start, m, out.data(), n);
      for (int64_t j = 0; j < n; ++j) {
        const float want = reference(x[start + j] - m);
        if (std::isnan(want))
          EXPECT_TRUE(std::isnan(out[j]));
        else
          EXPECT_EQ(std::bit_cast<uint32_t>(out[j]), std::bit_cast<uint32_t>(want))
              << "exp(" << x[start + j] << " - " << m << ")";
      }
    }
}

}  // namespace
}  // namespace gradscope
