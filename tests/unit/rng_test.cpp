// Counter-based RNG: Philox known answers, named streams, thread-count independence, moments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <numeric>
#include <vector>

#include "gradscope/tensor/libmvec_lanes.h"
#include "gradscope/tensor/rng.h"
#include "gradscope/tensor/threads.h"
#include "gradscope/tensor/vector_normal.h"

namespace gradscope {
namespace {

TEST(Philox, KnownAnswerVectorsFromRandom123) {
  // Random123's tests/kat_vectors, the three "philox4x32 10" lines: counter, key -> output.
  using A4 = std::array<uint32_t, 4>;
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (A4{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(
      philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
      (A4{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(
      philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
      (A4{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Rng, StreamsAreNamedAndSeeded) {
  Rng a(7, "init"), b(7, "init"), c(7, "batch"), d(8, "init");
  EXPECT_EQ(a.normal(3), b.normal(3));
  EXPECT_NE(a.normal(3), c.normal(3));
  EXPECT_NE(a.normal(3), d.normal(3));
  EXPECT_NE(a.substream(1).normal(0), a.substream(2).normal(0));
  EXPECT_NE(a.substream(1).normal(0), a.normal(0));
}

TEST(Rng, SequentialDrawsEqualIndexedDraws) {
  Rng r(3, "noise");
  const Rng fixed = r;
  for (uint64_t i = 0; i < 5; ++i) EXPECT_EQ(r.next_normal(), fixed.normal(i));
  EXPECT_EQ(r.cursor(), 5u);
}

TEST(Rng, FillIsIdenticalWhateverTheThreadCount) {
  const int64_t n = 200000;
  std::vector<float> one(n), two(n);
  set_num_threads(1);
  Rng(5, "init").fill_normal(one.data(), n, 0.0, 1.0);
  set_num_threads(2);
  Rng(5, "init").fill_normal(two.data(), n, 0.0, 1.0);
  set_num_threads(1);
  EXPECT_EQ(one, two);
}

TEST(Rng, NormalAndUniformMoments) {
  const int64_t n = 400000;
  std::vector<double> x(n);
  Rng r(11, "test");
  r.fill_normal(x.data(), n, 2.0, 3.0);
  double m = std::accumulate(x.begin(), x.end(), 0.0) / n, v = 0;
  for (double e : x) v += (e - m) * (e - m);
  v /= n;
  EXPECT_NEAR(m, 2.0, 0.02);
  EXPECT_NEAR(v, 9.0, 0.1);
  r.fill_uniform(x.data(), n, -1.0, 1.0);
  EXPECT_GE(*std::min_element(x.begin(), x.end()), -1.0);
  EXPECT_LT(*std::max_element(x.begin(), x.end()), 1.0);
  EXPECT_NEAR(std::accumulate(x.begin(), x.end(), 0.0) / n, 0.0, 0.01);
}

TEST(Rng, BelowAndShuffle) {
  Rng r(1, "split");
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) ++counts[r.next_below(7)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
  std::vector<int32_t> p(100);
  std::iota(p.begin(), p.end(), 0);
  Rng(2, "split").shuffle(p.data(), 100);
  std::vector<int32_t> q = p;
  std::sort(q.begin(), q.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(q[i], i);
  EXPECT_FALSE(std::is_sorted(p.begin(), p.end()));
}

// fill_normal_pairs (tensor/vector_normal.h): counter c's Philox block gives Box-Muller's cosine
// and sine; against the formula with the scalar libm functions, for an odd length across blocks,
// then the cursor's advance, thread-count independence and moments.
TEST(Rng, NormalPairsFollowBoxMullerOnEachCounter) {
  Rng r = Rng(5, "llc").substream(3);
  const Rng start = r;
  const int64_t n = 2 * 600 + 1;  // 601 counters: three blocks of lanes, the last partial
  std::vector<double> z(n);
  r.fill_normal_pairs(z.data(), n, 0.5);
  EXPECT_EQ(r.cursor(), 601u);
  auto unit = [](uint32_t hi, uint32_t lo) {
    return double((((uint64_t)hi << 32) | lo) >> 11) * 0x1.0p-53;
  };
  for (int64_t j = 0; j < n; ++j) {
    const auto b = start.bits(uint64_t(j / 2));
    const double rr = std::sqrt(-2.0 * std::log(1.0 - unit(b[0], b[1])));
    const double t = 2.0 * 3.14159265358979323846 * unit(b[2], b[3]);
    const double want = 0.5 * rr * (j % 2 == 0 ? std::cos(t) : std::sin(t));
    ASSERT_NEAR(z[j], want, 1e-13) << j;  // libmvec: within a few ulp of libm
  }
  std::vector<double> next(4);
  r.fill_normal_pairs(next.data(), 4, 0.5);  // from counter 601 on
  std::vector<double> again(n + 5);
  Rng(start).fill_normal_pairs(again.data(), n + 5, 0.5);
  EXPECT_EQ(next[0], again[n + 1]);  // counter 601's cosine
  EXPECT_EQ(std::vector<double>(again.begin(), again.begin() + n - 1),
            std::vector<double>(z.begin(), z.end() - 1));
}

// 2^20 normals of fill_normal_pairs in T: the same on 1 and 2 threads, mean 0, variance 1 and
// each pair's cosine and sine uncorrelated (within 5 standard errors).
template <class T>
void expect_standard_on_any_thread_count() {
  const int64_t n = 1 << 20;
  std::vector<T> one(n), two(n);
  set_num_threads(1);
  Rng(9, "llc").fill_normal_pairs(one.data(), n, T(1));
  set_num_threads(2);
  Rng(9, "llc").fill_normal_pairs(two.data(), n, T(1));
  set_num_threads(1);
  EXPECT_EQ(one, two);
  double mean = 0, var = 0, pair = 0;
  for (int64_t j = 0; j < n; ++j) mean += double(one[j]) / double(n);
  for (int64_t j = 0; j < n; ++j) var += (one[j] - mean) * (one[j] - mean) / double(n);
  for (int64_t j = 0; j < n; j += 2) pair += double(one[j]) * one[j + 1] / double(n / 2);
  EXPECT_NEAR(mean, 0, 5 * std::sqrt(1.0 / double(n)));
  EXPECT_NEAR(var, 1, 5 * std::sqrt(2.0 / double(n)));
  EXPECT_NEAR(pair, 0, 5 * std::sqrt(1.0 / double(n / 2)));
}

TEST(Rng, NormalPairsAreTheSameOnAnyThreadCountAndStandard) {
  expect_standard_on_any_thread_count<double>();
  expect_standard_on_any_thread_count<float>();
}

// The float form: counter c's words (0, 1) and (2, 3) give two pairs, each word's top 24 bits a
// uniform; against the formula with libm's float functions, for a length that leaves the last
// counter three of its four normals, across blocks; then the cursor's advance (the moments:
// NormalPairsAreTheSameOnAnyThreadCountAndStandard).
TEST(Rng, FloatNormalPairsFollowBoxMullerTwoPairsACounter) {
  Rng r = Rng(5, "llc").substream(3);
  const Rng start = r;
  const int64_t n = 4 * 600 + 3;  // 601 counters
  std::vector<float> z(n);
  r.fill_normal_pairs(z.data(), n, 0.5f);
  EXPECT_EQ(r.cursor(), 601u);
  auto unit = [](uint32_t w) { return float(w >> 8) * 0x1p-24f; };
  for (int64_t j = 0; j < n; ++j) {
    const auto b = start.bits(uint64_t(j / 4));
    const int pair = int(j % 4) / 2;
    const float rr = std::sqrt(-2.0f * std::log(1.0f - unit(b[2 * pair])));
    const float t = 2.0f * 3.14159265f * unit(b[2 * pair + 1]);
    const float want = 0.5f * rr * (j % 2 == 0 ? std::cos(t) : std::sin(t));
    ASSERT_NEAR(z[j], want, 4e-6f) << j;  // libmvec's float forms: within a few ulp of libm's
  }
  std::vector<float> next(4);
  r.fill_normal_pairs(next.data(), 4, 0.5f);  // from counter 601 on
  std::vector<float> again(n + 5);
  Rng(start).fill_normal_pairs(again.data(), n + 5, 0.5f);
  EXPECT_EQ(next[0], again[n + 1]);  // counter 601's first cosine
}

// Counters whose low word wraps inside a block of lanes: the high word carries, as the scalar
// Philox's 64-bit counter does (both forms, from 2^32 - 20 on).
TEST(Rng, NormalPairsCarryTheCounterPastTwoToThe32) {
  const std::array<uint32_t, 2> key = {0x12345678u, 0x9abcdef0u};
  const uint64_t sub = 0x0123456789abcdefull, first = (uint64_t{1} << 32) - 20;
  std::vector<double> d(80);
  std::vector<float> f(160);
  fill_normal_pairs(d.data(), 80, 1.0, key, sub, first);
  fill_normal_pairs(f.data(), 160, 1.0f, key, sub, first);
  for (int64_t c = 0; c < 40; ++c) {
    const uint64_t k = first + uint64_t(c);
    const auto b =
        philox4x32_10({uint32_t(k), uint32_t(k >> 32), uint32_t(sub), uint32_t(sub >> 32)}, key);
    const double u1 = 1.0 - double((((uint64_t)b[0] << 32) | b[1]) >> 11) * 0x1.0p-53;
    const double u2 = double((((uint64_t)b[2] << 32) | b[3]) >> 11) * 0x1.0p-53;
    ASSERT_NEAR(d[2 * c], std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2), 1e-13) << c;
    const float v1 = 1.0f - float(b[0] >> 8) * 0x1p-24f, v2 = float(b[1] >> 8) * 0x1p-24f;
    ASSERT_NEAR(f[4 * c], std::sqrt(-2.0f * std::log(v1)) * std::cos(2.0f * 3.14159265f * v2),
                4e-6f)
        << c;
  }
}

// The float noise takes libmvec's 16-lane log, cos and sin where GCC's vectorizer took its 8-lane
// ones (tensor/vector_normal.cpp): the same bits only if the two agree on every input the noise
// gives them, each of the 2^24 values u1 = 1 - k 2^-24 and 2 pi u2 (u2 = k 2^-24) in float. A
// libmvec that breaks this would change every float run's SGLD noise: this says so.
TEST(Rng, LibmvecSixteenLanesGiveTheEightLanesBitsOnTheNoisesInputs) {
#if GS_LIBMVEC_LANES
  int64_t differ = 0;
  alignas(64) float u1[16], t[16], wide[3][16], narrow[3][16];
  for (uint32_t k = 0; k < (1u << 24); k += 16) {
    for (int l = 0; l < 16; ++l) {
      const float u = float(k + uint32_t(l)) * 0x1p-24f;
      u1[l] = 1.0f - u;
      t[l] = 2 * std::numbers::pi_v<float> * u;
    }
    _mm512_store_ps(wide[0], _ZGVeN16v_logf(_mm512_load_ps(u1)));
    _mm512_store_ps(wide[1], _ZGVeN16v_cosf(_mm512_load_ps(t)));
    _mm512_store_ps(wide[2], _ZGVeN16v_sinf(_mm512_load_ps(t)));
    for (int h = 0; h < 16; h += 8) {
      _mm256_store_ps(narrow[0] + h, _ZGVdN8v_logf(_mm256_load_ps(u1 + h)));
      _mm256_store_ps(narrow[1] + h, _ZGVdN8v_cosf(_mm256_load_ps(t + h)));
      _mm256_store_ps(narrow[2] + h, _ZGVdN8v_sinf(_mm256_load_ps(t + h)));
    }
    for (int f = 0; f < 3; ++f)
      differ += std::memcmp(wide[f], narrow[f], sizeof wide[f]) != 0 ? 1 : 0;
  }
  EXPECT_EQ(differ, 0) << "groups of 16 inputs where libmvec's 16 and 8 lanes differ";
#else
  GTEST_SKIP() << "the 16-lane noise is built only by GCC with AVX-512";
#endif
}

}  // namespace
}  // namespace gradscope
