// Gaussian noise at vector speed: see vector_normal.h. A unit of its own where GCC is told that
// libmvec has SIMD forms of log, sin and cos (CMakeLists.txt compiles it with -fno-math-errno, as
// the vectorizer needs); other compilers get the same loops with one libm call per element.
#include "gradscope/tensor/vector_normal.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "gradscope/tensor/simd_math.h"

#include "gradscope/tensor/threads.h"

namespace gradscope {
namespace {

constexpr int kBlock = 256;  // counters per block: the lanes' arrays stay in L1

// The top 53 bits of (hi << 32 | lo) times 2^-53, in [0, 1), exactly as tensor/rng.cpp's to_unit,
// through 32-bit integer conversions (AVX2 has none from 64-bit integers to double).
inline double unit(uint32_t hi, uint32_t lo) {
  const auto top = static_cast<int32_t>(hi >> 11);  // 21 bits
  const uint32_t low = (hi << 21) | (lo >> 11);     // 32 bits
  const double low_value = static_cast<double>(static_cast<int32_t>(low ^ 0x80000000u)) + 0x1p31;
  return (static_cast<double>(top) * 0x1p32 + low_value) * 0x1.0p-53;
}

// Philox4x32-10 (tensor/rng.cpp's philox4x32_10) on count <= kBlock counters first + i, one lane
// each; u1 in (0, 1] and u2 in [0, 1) from its four words as 53-bit uniforms.
void philox_uniforms(std::array<uint32_t, 2> key, uint64_t sub, uint64_t first, int count,
                     double* u1, double* u2) {
  const auto s0 = static_cast<uint32_t>(sub), s1 = static_cast<uint32_t>(sub >> 32);
  for (int i = 0; i < count; ++i) {
    const uint64_t c = first + static_cast<uint64_t>(i);
    uint32_t c0 = static_cast<uint32_t>(c), c1 = static_cast<uint32_t>(c >> 32), c2 = s0, c3 = s1;
    uint32_t k0 = key[0], k1 = key[1];
#pragma GCC unroll 10
    for (int round = 0; round < 10; ++round) {
      const uint64_t p0 = uint64_t{0xD2511F53u} * c0, p1 = uint64_t{0xCD9E8D57u} * c2;
      c0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
      c2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
      c1 = static_cast<uint32_t>(p1);
      c3 = static_cast<uint32_t>(p0);
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    u1[i] = 1.0 - unit(c0, c1);
    u2[i] = unit(c2, c3);
  }
}

// z0[i], z1[i] = r cos(t), r sin(t) with r = sqrt(-2 log u1[i]) stddev, t = 2 pi u2[i]. The
// cosines and sines are separate loops: GCC would otherwise fuse them into sincos, which has no
// SIMD declaration here, and vectorize neither.
void box_muller(const double* __restrict u1, const double* __restrict u2, double stddev,
                double* __restrict z0, double* __restrict z1, int n) {
  double r[kBlock], t[kBlock];
  for (int i = 0; i < n; ++i) {
    r[i] = std::sqrt(-2.0 * log(u1[i])) * stddev;
    t[i] = 2.0 * std::numbers::pi * u2[i];
  }
  for (int i = 0; i < n; ++i) z0[i] = r[i] * cos(t[i]);
  for (int i = 0; i < n; ++i) z1[i] = r[i] * sin(t[i]);
}

}  // namespace

void fill_normal_pairs(double* out, int64_t n, double stddev, std::array<uint32_t, 2> key,
                       uint64_t sub, uint64_t first) {
  const int64_t counters = (n + 1) / 2, blocks = (counters + kBlock - 1) / kBlock;
  parallel_for(blocks, 16, [&](int64_t b, int64_t e) {
    double u1[kBlock], u2[kBlock], z0[kBlock], z1[kBlock];
    for (int64_t blk = b; blk < e; ++blk) {
      const auto count = static_cast<int>(std::min<int64_t>(kBlock, counters - blk * kBlock));
      philox_uniforms(key, sub, first + static_cast<uint64_t>(blk * kBlock), count, u1, u2);
      box_muller(u1, u2, stddev, z0, z1, count);
      const int64_t base = blk * kBlock * 2;
      for (int64_t i = 0; i < count; ++i) {
        out[base + 2 * i] = z0[i];
        if (base + 2 * i + 1 < n) out[base + 2 * i + 1] = z1[i];
      }
    }
  });
}

}  // namespace gradscope
