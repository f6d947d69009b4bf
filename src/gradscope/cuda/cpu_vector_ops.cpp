// The cpu forms of the elementwise kernels whose bodies call the C library (kernels::GeluOp's erf
// and exp, GeluTanhOp's tanh; and ReLU, whose loop vectorizes without a library call and gives
// its body's bits): the kernel's own Op::fwd / Op::bwd in a plain loop over restrict pointers, in
// a unit of their own where GCC is told that glibc's vector math library (libmvec, part of libc6)
// has SIMD forms of erf, exp and tanh. The vectorizer then calls _ZGV*_erf and friends for 2, 4
// or 8 lanes (the widest the build's -march allows) instead of one libm call per element: about
// ten times faster. libmvec's results are within 2 ulp of the scalar functions in double, so a
// float result is the scalar body's or one float ulp from it. Only this unit sees the SIMD
// declarations (CMakeLists.txt also compiles it with -fno-math-errno, which the vectorizer needs
// for exp); other compilers get the plain loop.
#include <cmath>
#include <cstdint>

#include "gradscope/tensor/simd_math.h"

#include "gradscope/cuda/kernels.h"

namespace gradscope::kernels {

template <class T, class Op>
void cpu_unary(const T* __restrict a, T* __restrict y, int64_t n, double c) {
  for (int64_t i = 0; i < n; ++i) y[i] = Op::fwd(a[i], c);
}

template <class T, class Op>
void cpu_unary_grad(const T* __restrict dy, const T* __restrict a, const T* __restrict y,
                    T* __restrict da, int64_t n, double c, bool fresh) {
  // f'(a) is named before the product: written inside it, GCC turns ReLU's select into a branch
  // around the multiply and vectorizes neither loop (the same arithmetic either way).
  if (fresh) {
    for (int64_t i = 0; i < n; ++i) {
      const T f = Op::bwd(a[i], y[i], c);
      da[i] = dy[i] * f;
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const T f = Op::bwd(a[i], y[i], c);
      da[i] = T(da[i] + dy[i] * f);
    }
  }
}

#define GS_CPU_VECTOR_OP(T, Op)                                  \
  template void cpu_unary<T, Op>(const T*, T*, int64_t, double); \
  template void cpu_unary_grad<T, Op>(const T*, const T*, const T*, T*, int64_t, double, bool);
GS_CPU_VECTOR_OP(float, GeluOp)
GS_CPU_VECTOR_OP(double, GeluOp)
GS_CPU_VECTOR_OP(float, GeluTanhOp)
GS_CPU_VECTOR_OP(double, GeluTanhOp)
GS_CPU_VECTOR_OP(float, ReluOp)
GS_CPU_VECTOR_OP(double, ReluOp)
#undef GS_CPU_VECTOR_OP

}  // namespace gradscope::kernels
