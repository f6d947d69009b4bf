// glibc's vector math library (libmvec) by the names of its vector ABI, for code that needs one
// width whatever the vectorizer would pick: float log, cos and sin on 8 lanes (AVX2) and 16 lanes
// (AVX-512). Declared only where GCC builds for x86-64 with AVX-512 (GS_LIBMVEC_LANES is 1 there):
// tensor/vector_normal.cpp's 16-lane noise, and the unit test that holds its bits to the 8-lane
// forms'.
#pragma once

#if defined(__AVX512F__) && defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#include <immintrin.h>
#define GS_LIBMVEC_LANES 1
extern "C" {
__m256 _ZGVdN8v_logf(__m256);
__m256 _ZGVdN8v_cosf(__m256);
__m256 _ZGVdN8v_sinf(__m256);
__m512 _ZGVeN16v_logf(__m512);
__m512 _ZGVeN16v_cosf(__m512);
__m512 _ZGVeN16v_sinf(__m512);
}
#else
#define GS_LIBMVEC_LANES 0
#endif
