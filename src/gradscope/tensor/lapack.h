// LAPACK bridge: singular values, orthonormal bases and symmetric positive definite solves from
// OpenBLAS's bundled LAPACK (dgesdd, dgeqrf/dorgqr, dposv), so no decomposition is written by hand.
// Row-major in, double precision.
#pragma once

#include <cstdint>
#include <vector>

namespace gradscope {

// Singular values, descending, of A [m, n] (row-major): min(m, n) of them. A is not modified.
// Throws std::runtime_error when LAPACK reports a failure (e.g. NaN input).
std::vector<double> singular_values(const double* A, int64_t m, int64_t n);

// Q [m, k] with orthonormal columns spanning the columns of A [m, k] (row-major, m >= k): the Q
// of a QR decomposition, signs fixed so that R has a positive diagonal.
std::vector<double> orthonormal_columns(const double* A, int64_t m, int64_t k);

// Solves A x = b for a symmetric positive definite A [n, n] by Cholesky (dposv): A is
// overwritten by its factor and b [n] by x. Returns false (b unspecified) when A is not positive
// definite.
bool solve_positive_definite(double* A, double* b, int64_t n);

// The eigenvalues, ascending, of the symmetric tridiagonal matrix with diagonal `diagonal` [n] and
// off-diagonal `off` [n - 1] (dstev). Throws std::runtime_error when LAPACK reports a failure.
std::vector<double> tridiagonal_eigenvalues(std::vector<double> diagonal, std::vector<double> off);

}  // namespace gradscope
