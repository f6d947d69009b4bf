// Gaussian noise at vector speed: see vector_normal.h. A unit of its own where GCC is told that
// libmvec has SIMD forms of log, sin and cos (CMakeLists.txt compiles it with -fno-math-errno, as
// the vectorizer needs); other compilers get the same loops with one libm call per element.
#include "gradscope/tensor/vector_normal.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "gradscope/tensor/rng.h"
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

// Philox4x32-10's four words (tensor/rng.cpp's philox4x32_10) of counters first + i, i < count.
struct PhiloxWords {
  uint32_t w0[kBlock], w1[kBlock], w2[kBlock], w3[kBlock];
};

#ifdef __AVX2__
// The high and low 32 bits of m * a for the 8 lanes of a: vpmuludq multiplies the even lanes,
// the odd ones shifted down; the halves are blended back into lane order.
inline void mulhilo8(__m256i a, uint32_t m, __m256i& hi, __m256i& lo) {
  const __m256i mm = _mm256_set1_epi32(static_cast<int>(m));
  const __m256i even = _mm256_mul_epu32(a, mm),
                odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), mm);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}
#endif

void philox_words(std::array<uint32_t, 2> key, uint64_t sub, uint64_t first, int count,
                  PhiloxWords& w) {
  const auto s0 = static_cast<uint32_t>(sub), s1 = static_cast<uint32_t>(sub >> 32);
  int i = 0;
#ifdef __AVX2__
  for (; i + 8 <= count; i += 8) {  // 8 counters a lane each
    alignas(32) uint32_t lo[8], hi[8];
    for (int j = 0; j < 8; ++j) {
      const uint64_t c = first + static_cast<uint64_t>(i + j);
      lo[j] = static_cast<uint32_t>(c), hi[j] = static_cast<uint32_t>(c >> 32);
    }
    __m256i c0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo));
    __m256i c1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(hi));
    __m256i c2 = _mm256_set1_epi32(static_cast<int>(s0)),
            c3 = _mm256_set1_epi32(static_cast<int>(s1));
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; ++round) {
      __m256i hi0, lo0, hi1, lo1;
      mulhilo8(c0, 0xD2511F53u, hi0, lo0);
      mulhilo8(c2, 0xCD9E8D57u, hi1, lo1);
      c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(static_cast<int>(k0)));
      c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(static_cast<int>(k1)));
      c1 = lo1;
      c3 = lo0;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.w0 + i), c0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.w1 + i), c1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.w2 + i), c2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.w3 + i), c3);
  }
#endif
  for (; i < count; ++i) {  // the rest (all without AVX2)
    const uint64_t c = first + static_cast<uint64_t>(i);
    const auto b =
        philox4x32_10({static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32), s0, s1}, key);
    w.w0[i] = b[0], w.w1[i] = b[1], w.w2[i] = b[2], w.w3[i] = b[3];
  }
}

// u1 in (0, 1] and u2 in [0, 1) of counters first + i, i < count, as 53-bit uniforms of their
// Philox words.
void philox_uniforms(std::array<uint32_t, 2> key, uint64_t sub, uint64_t first, int count,
                     double* u1, double* u2) {
  PhiloxWords w;
  philox_words(key, sub, first, count, w);
  for (int i = 0; i < count; ++i) {
    u1[i] = 1.0 - unit(w.w0[i], w.w1[i]);
    u2[i] = unit(w.w2[i], w.w3[i]);
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
      const int64_t pairs = std::min<int64_t>(count, (n - base) / 2);  // both inside out
      double* o = out + base;
      for (int64_t i = 0; i < pairs; ++i) {
        o[2 * i] = z0[i];
        o[2 * i + 1] = z1[i];
      }
      if (pairs < count) o[2 * pairs] = z0[pairs];  // an odd n's last element: a cosine alone
    }
  });
}

}  // namespace gradscope
