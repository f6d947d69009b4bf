// LAPACK bridge: singular values and orthonormal bases from OpenBLAS's bundled LAPACK (dgesdd,
// dgeqrf/dorgqr), so no decomposition is written by hand. Row-major in, double precision.
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

}  // namespace gradscope
