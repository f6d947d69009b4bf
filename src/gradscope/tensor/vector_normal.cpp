// Gaussian noise at vector speed: see vector_normal.h. A unit of its own where GCC is told that
// libmvec has SIMD forms of log, sin and cos (CMakeLists.txt compiles it with -fno-math-errno, as
// the vectorizer needs); other compilers get the same loops with one libm call per element. With
// AVX-512, GCC's build also calls libmvec's 16-lane float forms by name (box_muller16) and runs
// the Philox rounds 16 counters at a time: the same bits as the 8-lane code.
#include "gradscope/tensor/vector_normal.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <type_traits>

#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "gradscope/tensor/libmvec_lanes.h"
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

// Philox4x32-10's four words (tensor/rng.cpp's philox4x32_10) of kBlock counters, a word an array.
struct PhiloxWords {
  uint32_t w0[kBlock], w1[kBlock], w2[kBlock], w3[kBlock];
};

// Philox4x32-10's ten rounds on the lanes of c (its four words; tensor/rng.cpp's philox4x32_10),
// with L's lane operations: L::mulhilo(a, m, hi, lo), the high and low 32 bits of m * a; L::xor3(a,
// b, k) = a ^ b ^ k in every lane.
template <class L, class V>
void philox_rounds(V (&c)[4], std::array<uint32_t, 2> key) {
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    V hi0, lo0, hi1, lo1;
    L::mulhilo(c[0], 0xD2511F53u, hi0, lo0);
    L::mulhilo(c[2], 0xCD9E8D57u, hi1, lo1);
    c[0] = L::xor3(hi1, c[1], k0);
    c[2] = L::xor3(hi0, c[3], k1);
    c[1] = lo1;
    c[3] = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
}

#ifdef __AVX2__
// 8 lanes. mulhilo: vpmuludq multiplies the even lanes, the odd ones shifted down; the halves are
// blended back into lane order.
struct Lanes8 {
  static void mulhilo(__m256i a, uint32_t m, __m256i& hi, __m256i& lo) {
    const __m256i mm = _mm256_set1_epi32(static_cast<int>(m));
    const __m256i even = _mm256_mul_epu32(a, mm),
                  odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), mm);
    lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  }
  static __m256i xor3(__m256i a, __m256i b, uint32_t k) {
    return _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_set1_epi32(static_cast<int>(k)));
  }
};

// Counters base .. base + 7 into w at i. The counters are made in registers (stored scalars read
// back as a vector would stall on store forwarding): unsigned c0 < lo (the low word wrapped) as a
// signed compare of both with their top bits flipped, its -1 lanes subtracted from the high word.
void philox_words8(std::array<uint32_t, 2> key, uint32_t s0, uint32_t s1, uint64_t base, int i,
                   PhiloxWords& w) {
  const __m256i lo = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(base)));
  const __m256i c0 = _mm256_add_epi32(lo, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i flip = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  const __m256i wrapped =
      _mm256_cmpgt_epi32(_mm256_xor_si256(lo, flip), _mm256_xor_si256(c0, flip));
  __m256i c[4] = {
      c0,
      _mm256_sub_epi32(_mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(base >> 32))),
                       wrapped),
      _mm256_set1_epi32(static_cast<int>(s0)), _mm256_set1_epi32(static_cast<int>(s1))};
  philox_rounds<Lanes8>(c, key);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.w0 + i), c[0]);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.w1 + i), c[1]);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.w2 + i), c[2]);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.w3 + i), c[3]);
}
#endif

#ifdef __AVX512F__
// 16 lanes, as Lanes8. (The all-lanes masked forms of the multiply and shifts: GCC 12's plain ones
// read an undefined register and warn.)
struct Lanes16 {
  static constexpr __mmask8 kAll64 = 0xFF;  // every 64-bit lane
  static void mulhilo(__m512i a, uint32_t m, __m512i& hi, __m512i& lo) {
    const __m512i mm = _mm512_set1_epi32(static_cast<int>(m));
    const __m512i even = _mm512_maskz_mul_epu32(kAll64, a, mm),
                  odd = _mm512_maskz_mul_epu32(kAll64, _mm512_maskz_srli_epi64(kAll64, a, 32), mm);
    lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_maskz_slli_epi64(kAll64, odd, 32));
    hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_maskz_srli_epi64(kAll64, even, 32), odd);
  }
  static __m512i xor3(__m512i a, __m512i b, uint32_t k) {
    return _mm512_xor_si512(_mm512_xor_si512(a, b), _mm512_set1_epi32(static_cast<int>(k)));
  }
};

// Counters base .. base + 15 into w at i: the high counter word one more in the lanes whose low
// word wrapped.
void philox_words16(std::array<uint32_t, 2> key, uint32_t s0, uint32_t s1, uint64_t base, int i,
                    PhiloxWords& w) {
  const __m512i lo = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(base)));
  const __m512i c0 =
      _mm512_add_epi32(lo, _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  const __m512i hi = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(base >> 32)));
  __m512i c[4] = {
      c0, _mm512_mask_add_epi32(hi, _mm512_cmplt_epu32_mask(c0, lo), hi, _mm512_set1_epi32(1)),
      _mm512_set1_epi32(static_cast<int>(s0)), _mm512_set1_epi32(static_cast<int>(s1))};
  philox_rounds<Lanes16>(c, key);
  _mm512_storeu_si512(w.w0 + i, c[0]);
  _mm512_storeu_si512(w.w1 + i, c[1]);
  _mm512_storeu_si512(w.w2 + i, c[2]);
  _mm512_storeu_si512(w.w3 + i, c[3]);
}
#endif

// Philox4x32-10's four words of counters first + i, i < count: 16 counters a step where AVX-512
// is there, then 8 with AVX2, the rest one by one (the same words every way).
void philox_words(std::array<uint32_t, 2> key, uint64_t sub, uint64_t first, int count,
                  PhiloxWords& w) {
  const auto s0 = static_cast<uint32_t>(sub), s1 = static_cast<uint32_t>(sub >> 32);
  int i = 0;
#ifdef __AVX512F__
  for (; i + 16 <= count; i += 16)
    philox_words16(key, s0, s1, first + static_cast<uint64_t>(i), i, w);
#endif
#ifdef __AVX2__
  for (; i + 8 <= count; i += 8) philox_words8(key, s0, s1, first + static_cast<uint64_t>(i), i, w);
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

// A word's top 24 bits times 2^-24, in [0, 1): every float of that grid exactly.
inline float unit24(uint32_t w) {
  return static_cast<float>(w >> 8) * 0x1p-24f;
}

// u1 in (0, 1] and u2 in [0, 1) of counters first + i, i < count, two pairs a counter as 24-bit
// uniforms of its Philox words: pair 2i from words 0 and 1, pair 2i + 1 from words 2 and 3.
void philox_uniforms(std::array<uint32_t, 2> key, uint64_t sub, uint64_t first, int count,
                     float* u1, float* u2) {
  PhiloxWords w;
  philox_words(key, sub, first, count, w);
  for (int i = 0; i < count; ++i) {
    u1[2 * i] = 1.0f - unit24(w.w0[i]);
    u2[2 * i] = unit24(w.w1[i]);
    u1[2 * i + 1] = 1.0f - unit24(w.w2[i]);
    u2[2 * i + 1] = unit24(w.w3[i]);
  }
}

// z0[i], z1[i] = r cos(t), r sin(t) with r = sqrt(-2 log u1[i]) stddev, t = 2 pi u2[i], in T's
// own precision. The cosines and sines are separate loops: GCC would otherwise fuse them into
// sincos, which has no SIMD declaration here, and vectorize neither.
// log, cos and sin of T by name: C's float forms for float (the vectorizer sees their SIMD
// declarations in simd_math.h), the double ones otherwise.
inline float c_log(float x) {
  return logf(x);
}
inline float c_cos(float x) {
  return cosf(x);
}
inline float c_sin(float x) {
  return sinf(x);
}
inline double c_log(double x) {
  return log(x);
}
inline double c_cos(double x) {
  return cos(x);
}
inline double c_sin(double x) {
  return sin(x);
}

template <class T>
void box_muller(const T* __restrict u1, const T* __restrict u2, T stddev, T* __restrict z0,
                T* __restrict z1, int n) {
  T r[2 * kBlock], t[2 * kBlock];
  const T two_pi = 2 * std::numbers::pi_v<T>;
  for (int i = 0; i < n; ++i) {
    r[i] = std::sqrt(T(-2) * c_log(u1[i])) * stddev;
    t[i] = two_pi * u2[i];
  }
  for (int i = 0; i < n; ++i) z0[i] = r[i] * c_cos(t[i]);
  for (int i = 0; i < n; ++i) z1[i] = r[i] * c_sin(t[i]);
}

#if GS_LIBMVEC_LANES
// box_muller in float over the first n - n % 16 pairs, 16 lanes at a time through libmvec's
// AVX-512 log, cos and sin called by name (GCC's vectorizer prefers its 8-lane AVX2 forms): the
// same operations and the same bits, since on every one of the 2^24 values a 24-bit uniform gives
// (u1, and 2 pi u2 in float) the 16-lane forms return what the 8-lane ones do (compared when this
// was written). Returns the pairs done; box_muller does the rest as before (its 8-lane loop, then
// the vectorizer's 4-lane and scalar remainders, whose functions differ in the last bits).
int box_muller16(const float* __restrict u1, const float* __restrict u2, float stddev,
                 float* __restrict z0, float* __restrict z1, int n) {
  const __m512 minus_two = _mm512_set1_ps(-2.0f), sd = _mm512_set1_ps(stddev),
               two_pi = _mm512_set1_ps(2 * std::numbers::pi_v<float>);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 log_u1 = _ZGVeN16v_logf(_mm512_loadu_ps(u1 + i));
    const __m512 r =
        _mm512_mul_ps(_mm512_maskz_sqrt_ps(0xFFFF, _mm512_mul_ps(minus_two, log_u1)), sd);
    const __m512 t = _mm512_mul_ps(two_pi, _mm512_loadu_ps(u2 + i));
    _mm512_storeu_ps(z0 + i, _mm512_mul_ps(r, _ZGVeN16v_cosf(t)));
    _mm512_storeu_ps(z1 + i, _mm512_mul_ps(r, _ZGVeN16v_sinf(t)));
  }
  return i;
}
#endif

// box_muller, through box_muller16 first where there is one.
template <class T>
void box_muller_fastest(const T* u1, const T* u2, T stddev, T* z0, T* z1, int n) {
  int done = 0;
#if GS_LIBMVEC_LANES
  if constexpr (std::is_same_v<T, float>) done = box_muller16(u1, u2, stddev, z0, z1, n);
#endif
  box_muller(u1 + done, u2 + done, stddev, z0 + done, z1 + done, n - done);
}

// out[0, n) = z0[0] z1[0] z0[1] z1[1] ...: pairs side by side, an odd n's last a cosine alone.
template <class T>
void interleave(const T* z0, const T* z1, int64_t pairs_made, int64_t n, T* out) {
  const int64_t pairs = std::min<int64_t>(pairs_made, n / 2);
  for (int64_t i = 0; i < pairs; ++i) {
    out[2 * i] = z0[i];
    out[2 * i + 1] = z1[i];
  }
  if (pairs < pairs_made && n > 2 * pairs) out[2 * pairs] = z0[pairs];
}

// fill_normal_pairs over blocks of kBlock counters, each counter `per` pairs.
template <class T>
void fill_blocks(T* out, int64_t n, T stddev, std::array<uint32_t, 2> key, uint64_t sub,
                 uint64_t first) {
  constexpr int per = std::is_same_v<T, float> ? 2 : 1;  // pairs a counter
  const int64_t counters = (n + 2 * per - 1) / (2 * per);
  const int64_t blocks = (counters + kBlock - 1) / kBlock;
  parallel_for(blocks, 16, [&](int64_t b, int64_t e) {
    T u1[2 * kBlock], u2[2 * kBlock], z0[2 * kBlock], z1[2 * kBlock];
    for (int64_t blk = b; blk < e; ++blk) {
      const auto count = static_cast<int>(std::min<int64_t>(kBlock, counters - blk * kBlock));
      philox_uniforms(key, sub, first + static_cast<uint64_t>(blk * kBlock), count, u1, u2);
      box_muller_fastest(u1, u2, stddev, z0, z1, per * count);
      const int64_t base = blk * kBlock * 2 * per;  // elements before this block
      interleave(z0, z1, per * count, n - base, out + base);
    }
  });
}

}  // namespace

void fill_normal_pairs(double* out, int64_t n, double stddev, std::array<uint32_t, 2> key,
                       uint64_t sub, uint64_t first) {
  fill_blocks(out, n, stddev, key, sub, first);
}

void fill_normal_pairs(float* out, int64_t n, float stddev, std::array<uint32_t, 2> key,
                       uint64_t sub, uint64_t first) {
  fill_blocks(out, n, stddev, key, sub, first);
}

}  // namespace gradscope
