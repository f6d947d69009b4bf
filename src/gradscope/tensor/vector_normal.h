// Gaussian noise at vector speed, for samplers that draw millions of normals per step (the LLC's
// SGLD chains, run/llc.h): Box-Muller's both outputs from one Philox block, the Philox rounds over
// a block of counters in lanes and log, sin and cos through glibc's vector math library (libmvec)
// where GCC can call it. Results are a pure function of (key, substream, index) as every Rng draw
// is (tensor/rng.h), and identical for any thread count; libmvec's log, sin and cos are within 4
// ulp of the scalar functions in double, so the normals are not bit-identical to Rng::normal's
// formula (they are another draw function: pairs, not one normal per counter).
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

}  // namespace gradscope
