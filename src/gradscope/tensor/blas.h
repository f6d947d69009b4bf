// BLAS bridge: one gemm template over float and double, on OpenBLAS's CBLAS interface.
// Row-major throughout: C[M, N] = alpha * op(A)[M, K] * op(B)[K, N] + beta * C.
#pragma once

#include <cstdint>

namespace gradscope {

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// The same product as one single-threaded OpenBLAS call, never split into blocks: for small
// products inside a parallel_for (each thread its own calls). Counted in gemm_flops().
template <class T>
void gemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                 int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);
// FLOPs (2 M N K per call) of every gemm since the program started: the benchmark's count of
// the matrix FLOPs gradscope actually performs.
int64_t gemm_flops();

// Convenience for dense row-major operands: leading dimensions follow from the shapes.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          const T* B, T beta, T* C) {
  gemm<T>(trans_a, trans_b, M, N, K, alpha, A, trans_a ? M : K, B, trans_b ? K : N, beta, C, N);
}

}  // namespace gradscope
