// Threads: parallel_for covers every index once, a whole forward/backward gives bit-identical
// results with 1 and 2 threads (kernels split outputs, never reductions), and FlushSubnormals
// sets its mode on every thread a kernel runs on, and only while in scope.
#include <gtest/gtest.h>

#include <atomic>
#include <cfloat>
#include <vector>

#include "gradscope/autograd/ops.h"
#include "gradscope/tensor/rng.h"
#include "gradscope/tensor/threads.h"

namespace gradscope {
namespace {

TEST(Threads, ParallelForCoversEachIndexOnce) {
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    for (int64_t n : {0, 1, 7, 100, 100000}) {
      std::vector<std::atomic<int>> hits(n);
      parallel_for(n, 10, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[i]++;
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << n << " " << i;
    }
  }
  set_num_threads(1);
  EXPECT_THROW(set_num_threads(0), std::invalid_argument);
}

// ThreadsHere sets the calling thread's count alone; parallel_for inside a parallel region (whose
// nested team has one thread) still covers every index once.
TEST(Threads, ThreadsHereIsPerThreadAndNestedLoopsCoverEveryIndex) {
  set_num_threads(3);
  {
    const ThreadsHere one(1);
    EXPECT_EQ(num_threads(), 1);
  }
  EXPECT_EQ(num_threads(), 3);
  std::vector<std::atomic<int>> hits(2 * 1000);
#pragma omp parallel for num_threads(2)
  for (int outer = 0; outer < 2; ++outer) {
    EXPECT_EQ(num_threads(), 3);  // not this worker's ThreadsHere: none here
    parallel_for(1000, 10, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[outer * 1000 + i]++;
    });
  }
  for (size_t i = 0; i < hits.size(); ++i) ASSERT_EQ(hits[i].load(), 1) << i;
  set_num_threads(1);
}

// Grads of a model-sized graph (big enough that every kernel actually splits across threads).
std::vector<float> gradients_with_threads(int threads) {
  set_num_threads(threads);
  const int64_t B = 512, T = 3, D = 64, V = 50;
  std::vector<float> W(V * D + D * 3 * D + 3 * D * D + D + D + D * V), G(W.size(), 0.0f);
  Rng(3, "init").fill_normal(W.data(), static_cast<int64_t>(W.size()), 0.0, 0.3);
  std::vector<int32_t> ids(B * T), targets(B);
  Rng r(4, "batch");
  for (auto& i : ids) i = static_cast<int32_t>(r.next_below(V));
  for (auto& i : targets) i = static_cast<int32_t>(r.next_below(V));
  Arena arena;
  Tape<float> t(arena);
  int64_t off = 0;
  auto param = [&](Shape s) {
    Var v = t.param(Tensor<float>(W.data() + off, s), G.data() + off);
    off += s.numel();
    return v;
  };
  Var E = param({V, D}), Wq = param({D, D}), Wk = param({D, D}), Wv = param({D, D}),
      Wo = param({D, D}), Wm = param({D, D}), Wm2 = param({D, D}), g = param({D}), b = param({D}),
      U = param({D, V});
  Var x = embedding(t, ids.data(), Shape{B, T}, E);
  Var h = layer_norm(t, x, g, b);
  Var a = attention(t, linear(t, h, Wq), linear(t, h, Wk), linear(t, h, Wv), 4, true);
  x = add(t, x, linear(t, a, Wo));
  x = add(t, x, linear(t, gelu(t, linear(t, x, Wm)), Wm2));
  Var loss = cross_entropy(t, linear(t, select_last(t, x), U), targets.data());
  t.backward(loss);
  set_num_threads(1);
  G.push_back(t.value(loss)[0]);
  return G;
}

TEST(Threads, ForwardBackwardIsBitIdenticalAcrossThreadCounts) {
  EXPECT_EQ(gradients_with_threads(1), gradients_with_threads(2));
}

}  // namespace
}  // namespace gradscope

namespace gradscope {
namespace {

// 2^-120 * 2^-10: a subnormal float under IEEE arithmetic, 0 when results flush; and 2^-130
// (subnormal) as an operand, 0 when operands flush.
int subnormals_kept_per_chunk(int threads, std::vector<int>& kept) {
  kept.assign(static_cast<size_t>(threads), -1);
  parallel_for(threads, 1, [&](int64_t b, int64_t e) {
    volatile float a = 0x1p-120f, tiny = 0x1p-130f;
    const float product = a * 0x1p-10f;
    const float sum = tiny + 0.0f;
    for (int64_t i = b; i < e; ++i) kept[i] = (product != 0.0f) + (sum != 0.0f);
  });
  int all = 0;
  for (int k : kept) all += k;
  return all;
}

TEST(Threads, FlushSubnormalsOnEveryKernelThreadWhileInScope) {
#if !defined(__SSE2__)
  GTEST_SKIP() << "no MXCSR: FlushSubnormals is a no-op here";
#endif
  set_num_threads(2);
  std::vector<int> kept;
  EXPECT_EQ(subnormals_kept_per_chunk(2, kept), 4);  // IEEE: both kept on both threads
  {
    const FlushSubnormals flush(true);
    EXPECT_EQ(subnormals_kept_per_chunk(2, kept), 0) << kept[0] << " " << kept[1];
    {
      const FlushSubnormals ieee(false);  // IEEE inside a flushing scope (a probe's own mode)
      EXPECT_EQ(subnormals_kept_per_chunk(2, kept), 4) << kept[0] << " " << kept[1];
      const FlushSubnormals same(false);  // already so: nothing changes, nothing to restore
    }
    EXPECT_EQ(subnormals_kept_per_chunk(2, kept), 0);  // flushing again on both threads
  }
  EXPECT_EQ(subnormals_kept_per_chunk(2, kept), 4);  // restored on both threads
  set_num_threads(1);
}

}  // namespace
}  // namespace gradscope
