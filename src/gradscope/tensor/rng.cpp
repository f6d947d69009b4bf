// Philox4x32-10 and the named-stream Rng: see rng.h.
#include "gradscope/tensor/rng.h"

#include <cmath>
#include <numbers>
#include <utility>

#include "gradscope/tensor/threads.h"
#include "gradscope/tensor/vector_normal.h"

namespace gradscope {
namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // Philox multipliers
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key increments

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

double to_unit(uint32_t hi, uint32_t lo) {  // 53 bits -> [0, 1)
  const uint64_t v = ((static_cast<uint64_t>(hi) << 32) | lo) >> 11;
  return static_cast<double>(v) * 0x1.0p-53;
}

}  // namespace

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kM0) * c[0];
    const uint64_t p1 = static_cast<uint64_t>(kM1) * c[2];
    c = {static_cast<uint32_t>(p1 >> 32) ^ c[1] ^ k[0], static_cast<uint32_t>(p1),
         static_cast<uint32_t>(p0 >> 32) ^ c[3] ^ k[1], static_cast<uint32_t>(p0)};
    k[0] += kW0;
    k[1] += kW1;
  }
  return c;
}

Rng::Rng(uint64_t seed, std::string_view stream) {
  const uint64_t k = splitmix64(seed ^ splitmix64(fnv1a(stream)));
  key_ = {static_cast<uint32_t>(k), static_cast<uint32_t>(k >> 32)};
}

Rng Rng::substream(uint64_t id) const {
  Rng r = *this;
  r.sub_ = splitmix64(sub_ ^ splitmix64(id + 1));
  r.cursor_ = 0;
  return r;
}

std::array<uint32_t, 4> Rng::bits(uint64_t i) const {
  return philox4x32_10({static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32),
                        static_cast<uint32_t>(sub_), static_cast<uint32_t>(sub_ >> 32)},
                       key_);
}

double Rng::uniform(uint64_t i) const {
  const auto b = bits(i);
  return to_unit(b[0], b[1]);
}

double Rng::normal(uint64_t i) const {
  const auto b = bits(i);
  const double u1 = 1.0 - to_unit(b[0], b[1]);  // (0, 1]: log is finite
  const double u2 = to_unit(b[2], b[3]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

uint64_t Rng::below(uint64_t i, uint64_t n) const {
  const auto b = bits(i);
  const uint64_t v = (static_cast<uint64_t>(b[0]) << 32) | b[1];
  // Multiply-shift: bias below n / 2^64, irrelevant for dataset sizes.
  return static_cast<uint64_t>((static_cast<unsigned __int128>(v) * n) >> 64);
}

template <class T>
void Rng::fill_normal(T* out, int64_t n, double mean, double stddev) {
  const uint64_t base = cursor_;
  parallel_for(n, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) out[j] = static_cast<T>(mean + stddev * normal(base + j));
  });
  cursor_ += static_cast<uint64_t>(n);
}

void Rng::fill_normal_pairs(double* out, int64_t n, double stddev) {
  gradscope::fill_normal_pairs(out, n, stddev, key_, sub_, cursor_);
  cursor_ += static_cast<uint64_t>((n + 1) / 2);
}

void Rng::fill_normal_pairs(float* out, int64_t n, float stddev) {
  gradscope::fill_normal_pairs(out, n, stddev, key_, sub_, cursor_);
  cursor_ += static_cast<uint64_t>((n + 3) / 4);
}

template <class T>
void Rng::fill_uniform(T* out, int64_t n, double lo, double hi) {
  const uint64_t base = cursor_;
  parallel_for(n, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) out[j] = static_cast<T>(lo + (hi - lo) * uniform(base + j));
  });
  cursor_ += static_cast<uint64_t>(n);
}

template <class T>
void Rng::fill_truncated_normal(T* out, int64_t n, double stddev, double bound) {
  for (int64_t j = 0; j < n; ++j) {
    double z;
    do z = next_normal();
    while (std::abs(z) > bound);
    out[j] = static_cast<T>(stddev * z);
  }
}

template <class I>
void Rng::shuffle(I* out, int64_t n) {
  for (int64_t j = n - 1; j > 0; --j) {
    const auto r = static_cast<int64_t>(next_below(static_cast<uint64_t>(j + 1)));
    std::swap(out[j], out[r]);
  }
}

template void Rng::fill_normal<float>(float*, int64_t, double, double);
template void Rng::fill_normal<double>(double*, int64_t, double, double);
template void Rng::fill_uniform<float>(float*, int64_t, double, double);
template void Rng::fill_uniform<double>(double*, int64_t, double, double);
template void Rng::fill_truncated_normal<float>(float*, int64_t, double, double);
template void Rng::fill_truncated_normal<double>(double*, int64_t, double, double);
template void Rng::shuffle<int32_t>(int32_t*, int64_t);
template void Rng::shuffle<int64_t>(int64_t*, int64_t);

}  // namespace gradscope
