// Gaussian noise at vector speed, for samplers that draw millions of normals per step (the LLC's
// SGLD chains, run/llc.h): Box-Muller's both outputs from each pair of uniforms of a Philox block,
// the Philox rounds over a block of counters in lanes and log, sin and cos through glibc's vector
// math library (libmvec) where GCC can call it, in double or in float. Results are a pure function
// of (key, substream, index) as every Rng draw is (tensor/rng.h), and identical for any thread
// count; libmvec's log, sin and cos are within 4 ulp of the scalar functions, so the normals are
// not bit-identical to Rng::normal's formula (they are another draw function: pairs, not one
// normal per counter).
#pragma once

#include <array>
#include <cstdint>

namespace gradscope {

// out[j] = stddev * z_j for j < n, z the standard normals of counters first, first + 1, ...:
// counter c gives z_{2(c - first)} = r cos(2 pi u2) and z_{2(c - first) + 1} = r sin(2 pi u2),
// r = sqrt(-2 log u1), with (u1, u2) Philox4x32-10's block (c, sub; key) as two 53-bit uniforms
// (u1 in (0, 1]). Uses ceil(n / 2) counters.
void fill_normal_pairs(double* out, int64_t n, double stddev, std::array<uint32_t, 2> key,
                       uint64_t sub, uint64_t first);
// The same in float for float runs, at twice the pairs a counter: counter c gives the pairs of
// its words (0, 1) and (2, 3), z_{4(c - first)} ... z_{4(c - first) + 3} = r cos, r sin of the
// first pair, then of the second, each word's top 24 bits a uniform (u1 = 1 - u in (0, 1], so
// |z| <= sqrt(-2 log 2^-24) = 5.77), log, cos and sin in float. Uses ceil(n / 4) counters.
void fill_normal_pairs(float* out, int64_t n, float stddev, std::array<uint32_t, 2> key,
                       uint64_t sub, uint64_t first);

}  // namespace gradscope
