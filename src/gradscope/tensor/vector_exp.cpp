// Four-lane expf (eight lanes where AVX-512 is there): see vector_exp.h. The lane arithmetic is,
// operation for operation, the scalar algorithm of glibc's expf as its FMA variant (the one the
// dynamic loader picks on CPUs with FMA) computes it, on the same constants: x = (k + r) ln2 / 32
// with k = round(32 x / ln2), the tail 2^(r/32) ~ 1 + C2 r + C1 r^2 + C0 r^3, 2^(k/32) = table[k
// mod 32] * 2^(k div 32) by adding k to the exponent bits, then one rounding to float. Inputs below
// glibc's underflow bound are 0, as there; from 88 up, and NaN, take the C library's own path.
// tests/unit/vector_exp_test.cpp compares against std::exp.
#include "gradscope/tensor/vector_exp.h"

#include <cmath>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif
// The eight-lane path: AVX-512 with its 256-bit forms (VL), on top of the four-lane path's.
#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__AVX2__) && defined(__FMA__)
#define GS_EXP8 1
#else
#define GS_EXP8 0
#endif

namespace gradscope {
namespace {

// Below this exp(float) is exactly 0 (the smallest subnormal is 2^-149 ~ exp(-103.3)).
constexpr float kUnderflow = -104.0f;

#if defined(__AVX2__) && defined(__FMA__)
// glibc's expf returns 0 early below log(2^-150) ~ -103.97; from there up it runs its main path.
constexpr float kLibraryUnderflow = -0x1.9fe368p6f;
// 2^(i/32), correctly rounded, i < 32.
alignas(64) constexpr double kTwoToIOver32[32] = {
    0x1.0000000000000p+0, 0x1.059b0d3158574p+0, 0x1.0b5586cf9890fp+0, 0x1.11301d0125b51p+0,
    0x1.172b83c7d517bp+0, 0x1.1d4873168b9aap+0, 0x1.2387a6e756238p+0, 0x1.29e9df51fdee1p+0,
    0x1.306fe0a31b715p+0, 0x1.371a7373aa9cbp+0, 0x1.3dea64c123422p+0, 0x1.44e086061892dp+0,
    0x1.4bfdad5362a27p+0, 0x1.5342b569d4f82p+0, 0x1.5ab07dd485429p+0, 0x1.6247eb03a5585p+0,
    0x1.6a09e667f3bcdp+0, 0x1.71f75e8ec5f74p+0, 0x1.7a11473eb0187p+0, 0x1.82589994cce13p+0,
    0x1.8ace5422aa0dbp+0, 0x1.93737b0cdc5e5p+0, 0x1.9c49182a3f090p+0, 0x1.a5503b23e255dp+0,
    0x1.ae89f995ad3adp+0, 0x1.b7f76f2fb5e47p+0, 0x1.c199bdd85529cp+0, 0x1.cb720dcef9069p+0,
    0x1.d5818dcfba487p+0, 0x1.dfc97337b9b5fp+0, 0x1.ea4afa2a490dap+0, 0x1.f50765b6e4540p+0,
};
constexpr double kInvLn2N = 0x1.71547652b82fep+5;  // 32 / ln 2
constexpr double kShift = 0x1.8p+52;               // adding it rounds to an integer
constexpr double kC0 = 0x1.c6af84b912394p-20, kC1 = 0x1.ebfce50fac4f3p-13,
                 kC2 = 0x1.62e42ff0c52d6p-6;  // the cubic, scaled for r in units of 1/32

// exp of four floats given as doubles, all in [-103.97, 88) (glibc's main path).
__m128 exp4(__m256d xd) {
  const __m256d inv_ln2n = _mm256_set1_pd(kInvLn2N), shift = _mm256_set1_pd(kShift);
  const __m256d kd_shifted = _mm256_fmadd_pd(inv_ln2n, xd, shift);
  const __m256i ki = _mm256_castpd_si256(kd_shifted);  // k in the low mantissa bits
  const __m256d kd = _mm256_sub_pd(kd_shifted, shift);
  const __m256d r = _mm256_fmsub_pd(inv_ln2n, xd, kd);
  // 2^(k/32): the table entry for k mod 32 with k div 32 added to its exponent, i.e. the entry's
  // bits minus (k mod 32) << 47 plus k << 47.
  const __m256i low = _mm256_and_si256(ki, _mm256_set1_epi64x(31));
  const __m256i entry =
      _mm256_i64gather_epi64(reinterpret_cast<const long long*>(kTwoToIOver32), low, 8);
  const __m256i scaled = _mm256_add_epi64(_mm256_sub_epi64(entry, _mm256_slli_epi64(low, 47)),
                                          _mm256_slli_epi64(ki, 47));
  const __m256d s = _mm256_castsi256_pd(scaled);
  const __m256d z = _mm256_fmadd_pd(r, _mm256_set1_pd(kC0), _mm256_set1_pd(kC1));
  const __m256d r2 = _mm256_mul_pd(r, r);
  __m256d y = _mm256_fmadd_pd(r, _mm256_set1_pd(kC2), _mm256_set1_pd(1.0));
  y = _mm256_fmadd_pd(z, r2, y);
  return _mm256_cvtpd_ps(_mm256_mul_pd(y, s));
}
#endif

#if GS_EXP8
// exp4's steps on eight lanes: the same operations lane for lane, so the same bits. (The
// all-lanes masked forms of gather, shift and conversions: GCC 12's plain ones read an undefined
// register and warn.)
constexpr __mmask8 kAll = 0xFF;
__m256 exp8(__m512d xd) {
  const __m512d inv_ln2n = _mm512_set1_pd(kInvLn2N), shift = _mm512_set1_pd(kShift);
  const __m512d kd_shifted = _mm512_fmadd_pd(inv_ln2n, xd, shift);
  const __m512i ki = _mm512_castpd_si512(kd_shifted);
  const __m512d kd = _mm512_sub_pd(kd_shifted, shift);
  const __m512d r = _mm512_fmsub_pd(inv_ln2n, xd, kd);
  const __m512i low = _mm512_and_si512(ki, _mm512_set1_epi64(31));
  // The table's entry by two 16-entry permutes, chosen between by bit 4 of the index.
  const __m512d t0 = _mm512_load_pd(kTwoToIOver32), t1 = _mm512_load_pd(kTwoToIOver32 + 8),
                t2 = _mm512_load_pd(kTwoToIOver32 + 16), t3 = _mm512_load_pd(kTwoToIOver32 + 24);
  const __mmask8 upper = _mm512_test_epi64_mask(low, _mm512_set1_epi64(16));
  const __m512i entry = _mm512_castpd_si512(_mm512_mask_blend_pd(
      upper, _mm512_permutex2var_pd(t0, low, t1), _mm512_permutex2var_pd(t2, low, t3)));
  const __m512i scaled =
      _mm512_add_epi64(_mm512_sub_epi64(entry, _mm512_maskz_slli_epi64(kAll, low, 47)),
                       _mm512_maskz_slli_epi64(kAll, ki, 47));
  const __m512d s = _mm512_castsi512_pd(scaled);
  const __m512d z = _mm512_fmadd_pd(r, _mm512_set1_pd(kC0), _mm512_set1_pd(kC1));
  const __m512d r2 = _mm512_mul_pd(r, r);
  __m512d y = _mm512_fmadd_pd(r, _mm512_set1_pd(kC2), _mm512_set1_pd(1.0));
  y = _mm512_fmadd_pd(z, r2, y);
  return _mm512_maskz_cvtpd_ps(kAll, _mm512_mul_pd(y, s));
}
#endif

float exp_one(float d) {
  return d < kUnderflow ? 0.0f : std::exp(d);
}

}  // namespace

void exp_minus(const float* x, float m, float* out, int64_t n) {
  int64_t j = 0;
#if GS_EXP8
  {  // eight lanes at a time, as the four-lane loop below does them
    const __m256 mv = _mm256_set1_ps(m), lo = _mm256_set1_ps(kLibraryUnderflow),
                 hi = _mm256_set1_ps(88.0f);
    for (; j < n; j += 8) {  // the last group's lanes past n masked off
      const __mmask8 in = n - j >= 8 ? kAll : static_cast<__mmask8>((1u << (n - j)) - 1);
      const __m256 d = _mm256_sub_ps(_mm256_maskz_loadu_ps(in, x + j), mv);
      if ((_mm256_cmp_ps_mask(d, hi, _CMP_LT_OQ) & in) == in) {
        const __m256 zero = _mm256_cmp_ps(d, lo, _CMP_LT_OQ);
        const __m256 e = exp8(_mm512_maskz_cvtps_pd(kAll, _mm256_max_ps(d, lo)));
        _mm256_mask_storeu_ps(out + j, in, _mm256_andnot_ps(zero, e));
      } else {
        alignas(32) float ds[8];
        _mm256_store_ps(ds, d);
        for (int l = 0; l < 8 && j + l < n; ++l) out[j + l] = exp_one(ds[l]);
      }
    }
  }
#endif
#if defined(__AVX2__) && defined(__FMA__)
  const __m128 mv = _mm_set1_ps(m), lo = _mm_set1_ps(kLibraryUnderflow), hi = _mm_set1_ps(88.0f);
  for (; j + 4 <= n; j += 4) {
    const __m128 d = _mm_sub_ps(_mm_loadu_ps(x + j), mv);
    // All four below 88 (false for NaN): the lane path, where lanes under glibc's underflow
    // bound are 0 as its early return makes them and the rest run its main path (which it also
    // takes from -88 down to that bound); otherwise the library's, lane by lane (overflow, NaN).
    if (_mm_movemask_ps(_mm_cmp_ps(d, hi, _CMP_LT_OQ)) == 0xF) {
      const __m128 zero = _mm_cmp_ps(d, lo, _CMP_LT_OQ);
      const __m128 e = exp4(_mm256_cvtps_pd(_mm_max_ps(d, lo)));
      _mm_storeu_ps(out + j, _mm_andnot_ps(zero, e));
    } else {
      alignas(16) float ds[4];
      _mm_store_ps(ds, d);
      for (int l = 0; l < 4; ++l) out[j + l] = exp_one(ds[l]);
    }
  }
#endif
  for (; j < n; ++j) out[j] = exp_one(x[j] - m);
}

}  // namespace gradscope
