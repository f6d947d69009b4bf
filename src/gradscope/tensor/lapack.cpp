// LAPACK bridge: see lapack.h. LAPACK is column-major; a row-major A [m, n] is the column-major
// A^T [n, m], which has the same singular values, so gesdd runs on the buffer as given.
#include "gradscope/tensor/lapack.h"

#include <algorithm>
#include <stdexcept>
#include <string>

extern "C" {
// Fortran LAPACK symbols exported by OpenBLAS.
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s,
             double* u, const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork,
             int* iwork, int* info);
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work,
             const int* lwork, int* info);
void dposv_(const char* uplo, const int* n, const int* nrhs, double* a, const int* lda, double* b,
            const int* ldb, int* info);
void dstev_(const char* jobz, const int* n, double* d, double* e, double* z, const int* ldz,
            double* work, int* info);
void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau,
             double* work, const int* lwork, int* info);
}

namespace gradscope {

std::vector<double> singular_values(const double* A, int64_t m, int64_t n) {
  if (m == 0 || n == 0) return {};
  // Column-major view of the row-major buffer: rows = n, cols = m.
  std::vector<double> a(A, A + m * n);
  const int rows = static_cast<int>(n), cols = static_cast<int>(m), lda = rows;
  std::vector<double> s(static_cast<size_t>(std::min(m, n)));
  std::vector<int> iwork(8 * static_cast<size_t>(std::min(m, n)));
  const int one = 1;
  double dummy = 0, query = 0;
  int lwork = -1, info = 0;
  dgesdd_("N", &rows, &cols, a.data(), &lda, s.data(), &dummy, &one, &dummy, &one, &query, &lwork,
          iwork.data(), &info);
  lwork = static_cast<int>(query) + 1;
  std::vector<double> work(static_cast<size_t>(lwork));
  dgesdd_("N", &rows, &cols, a.data(), &lda, s.data(), &dummy, &one, &dummy, &one, work.data(),
          &lwork, iwork.data(), &info);
  if (info != 0)
    throw std::runtime_error("LAPACK dgesdd failed (info " + std::to_string(info) + ") on a " +
                             std::to_string(m) + "x" + std::to_string(n) + " matrix");
  return s;
}

std::vector<double> orthonormal_columns(const double* A, int64_t m, int64_t k) {
  if (m < k) throw std::invalid_argument("orthonormal_columns needs rows >= columns");
  // Column-major copy a [m, k].
  std::vector<double> a(static_cast<size_t>(m * k));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j) a[j * m + i] = A[i * k + j];
  const int M = static_cast<int>(m), K = static_cast<int>(k);
  std::vector<double> tau(static_cast<size_t>(k));
  double query = 0;
  int lwork = -1, info = 0;
  dgeqrf_(&M, &K, a.data(), &M, tau.data(), &query, &lwork, &info);
  lwork = std::max(1, static_cast<int>(query));
  std::vector<double> work(static_cast<size_t>(lwork));
  dgeqrf_(&M, &K, a.data(), &M, tau.data(), work.data(), &lwork, &info);
  if (info != 0) throw std::runtime_error("LAPACK dgeqrf failed");
  std::vector<double> sign(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j) sign[j] = a[j * m + j] < 0 ? -1.0 : 1.0;  // diag of R
  lwork = -1;
  dorgqr_(&M, &K, &K, a.data(), &M, tau.data(), &query, &lwork, &info);
  lwork = std::max(1, static_cast<int>(query));
  work.assign(static_cast<size_t>(lwork), 0.0);
  dorgqr_(&M, &K, &K, a.data(), &M, tau.data(), work.data(), &lwork, &info);
  if (info != 0) throw std::runtime_error("LAPACK dorgqr failed");
  std::vector<double> q(static_cast<size_t>(m * k));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j) q[i * k + j] = a[j * m + i] * sign[j];
  return q;
}

bool solve_positive_definite(double* A, double* b, int64_t n) {
  // A is symmetric, so its row-major and column-major readings agree.
  const int N = static_cast<int>(n), one = 1;
  int info = 0;
  dposv_("U", &N, &one, A, &N, b, &N, &info);
  return info == 0;
}

std::vector<double> tridiagonal_eigenvalues(std::vector<double> diagonal, std::vector<double> off) {
  const int n = static_cast<int>(diagonal.size()), one = 1;
  if (n == 0) return {};
  off.resize(static_cast<size_t>(n));  // dstev's E has n - 1 entries and room for one more
  double z = 0;
  int info = 0;
  dstev_("N", &n, diagonal.data(), off.data(), &z, &one, nullptr, &info);
  if (info != 0) throw std::runtime_error("dstev failed (info " + std::to_string(info) + ")");
  return diagonal;
}

}  // namespace gradscope
