// Counter-based RNG: Philox known answers, named streams, thread-count independence, moments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "gradscope/tensor/rng.h"
#include "gradscope/tensor/threads.h"

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

}  // namespace
}  // namespace gradscope
