// BLAS bridge implementation: see blas.h.
//
// Large products are split into fixed blocks of output rows (or columns, when there are few
// rows), and the blocks run in parallel, each a single-threaded OpenBLAS call. The blocks depend
// only on the shapes and on the machine's core count (not on --threads), so every output element
// is computed by the same call whatever the thread count: results are bit-identical with 1 or N
// threads on a machine (OpenBLAS's own threading is not). Across machines results differ anyway
// (OpenBLAS picks its kernels by CPU model).
#include "gradscope/tensor/blas.h"

#include <atomic>

#include <cblas.h>

#include <algorithm>
#include <thread>

#include "gradscope/tensor/threads.h"

namespace gradscope {
namespace {

void call(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

void call(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
          int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

// Products below this many multiply-adds run as one call.
constexpr int64_t kSplitWork = int64_t{1} << 20;
// Number of blocks a large product is cut into: the machine's hardware threads (2 to 16), so that
// up to that many threads stay busy while a 2-core machine does not pay for 16 calls and 16
// repackings of the shared operand; and the smallest block. A block is a multiple of 16 rows or
// columns.
constexpr int64_t kMinBlock = 64;
int64_t block_count() {
  static const int64_t blocks =
      std::clamp<int64_t>(static_cast<int64_t>(std::thread::hardware_concurrency()), 2, 16);
  return blocks;
}

int64_t block_size(int64_t dim) {
  const int64_t b = (dim + block_count() - 1) / block_count();
  return std::max(kMinBlock, (b + 15) / 16 * 16);
}

}  // namespace

std::atomic<int64_t> g_gemm_flops{0};

int64_t gemm_flops() {
  return g_gemm_flops.load(std::memory_order_relaxed);
}

template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  g_gemm_flops.fetch_add(2 * M * N * K, std::memory_order_relaxed);
  if (M * N * K < kSplitWork || std::max(M, N) < 2 * kMinBlock) {
    call(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (M >= N) {  // blocks of rows of C: rows of op(A)
    const int64_t bm = block_size(M), blocks = (M + bm - 1) / bm;
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t r = b * bm, m = std::min(bm, M - r);
        const T* a = ta ? A + r : A + r * lda;  // op(A) rows r.. : columns of A when transposed
        call(ta, tb, m, N, K, alpha, a, lda, B, ldb, beta, C + r * ldc, ldc);
      }
    });
  } else {  // blocks of columns of C: columns of op(B)
    const int64_t bn = block_size(N), blocks = (N + bn - 1) / bn;
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t c = b * bn, n = std::min(bn, N - c);
        const T* bp = tb ? B + c * ldb : B + c;  // op(B) columns c.. : rows of B when transposed
        call(ta, tb, M, n, K, alpha, A, lda, bp, ldb, beta, C + c, ldc);
      }
    });
  }
}

template <class T>
void gemm_serial(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                 int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  g_gemm_flops.fetch_add(2 * M * N * K, std::memory_order_relaxed);
  call(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template void gemm_serial<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                 int64_t, const float*, int64_t, float, float*, int64_t);
template void gemm_serial<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                  int64_t, const double*, int64_t, double, double*, int64_t);
template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);

}  // namespace gradscope
