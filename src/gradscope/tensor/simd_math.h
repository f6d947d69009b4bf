// glibc's vector math library (libmvec, part of libc6) made visible to GCC's vectorizer: these
// declarations tell it that erf, exp, tanh, log, sin and cos (and float log, sin and cos) have SIMD
// forms (_ZGV*), so a loop that calls them runs 2, 4 or 8 lanes per call (the widest the build's
// -march allows) instead of one libm call per element. Include it only in a unit compiled with
// -fno-math-errno (CMakeLists.txt), which the vectorizer needs; libmvec's results are within 4 ulp
// of the scalar functions in double (erf, exp, tanh: 2). Other compilers see nothing and get the
// plain loops.
#pragma once

#include <cmath>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
extern "C" {
__attribute__((simd("notinbranch"))) double erf(double) noexcept;
__attribute__((simd("notinbranch"))) double exp(double) noexcept;
__attribute__((simd("notinbranch"))) double tanh(double) noexcept;
__attribute__((simd("notinbranch"))) double log(double) noexcept;
__attribute__((simd("notinbranch"))) double sin(double) noexcept;
__attribute__((simd("notinbranch"))) double cos(double) noexcept;
__attribute__((simd("notinbranch"))) float logf(float) noexcept;
__attribute__((simd("notinbranch"))) float sinf(float) noexcept;
__attribute__((simd("notinbranch"))) float cosf(float) noexcept;
}
#endif
