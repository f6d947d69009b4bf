// exp over arrays of floats, four (with AVX-512 eight) at a time, giving exactly the C library's
// expf (glibc's table-driven algorithm: k/32 + r split, 2^(k/32) from a 32-entry table, a cubic in
// r, all in double with the same fused multiply-adds as its FMA build), so swapping it in for a
// loop of std::exp changes no result. Used by the softmax of cross_entropy, where exp is most of
// the cost.
#pragma once

#include <cstdint>

namespace gradscope {

// out[j] = exp(x[j] - m) for j < n, in float, or exactly 0 where x[j] - m < -104 (exp underflows
// to 0 there). Element for element the same bits as std::exp(x[j] - m). out may be x (in place).
void exp_minus(const float* x, float m, float* out, int64_t n);

}  // namespace gradscope
