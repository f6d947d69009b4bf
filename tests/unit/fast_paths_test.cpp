// The speed paths give the same bits as the plain computations they replace: attention reading
// keys and values through table rows vs. gathered copies, the residual add handing its gradient
// buffer on, AdamW's eight-lane pass vs. its scalar loop, and the cpu backend's fast forms of
// kernels vs. the kernels run index by index.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gradscope/autograd/ops.h"
#include "gradscope/cuda/device.h"
#include "gradscope/cuda/kernels.h"
#include "gradscope/cuda/reductions.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/tensor/rng.h"
#include "gradscope/tensor/threads.h"

namespace gradscope {
namespace {

std::vector<float> random_values(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  Rng(seed, "fast-paths").fill_normal(v.data(), n, 0.0, 1.0);
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct AttentionCase {
  int64_t B, Tq, Tk, R, H, Dh;
  bool causal;
};

// Output and gradients (q, k table, v table, in that order after the output) of attention over
// rows, either through attention_rows or by gathering the rows first.
std::vector<std::vector<float>> run_attention(const AttentionCase& c, bool through_rows) {
  const int64_t E = c.H * c.Dh;
  std::vector<float> q = random_values(c.B * c.Tq * E, 1), kt = random_values(c.R * E, 2),
                     vt = random_values(c.R * E, 3), cot = random_values(c.B * c.Tq * E, 4);
  std::vector<int32_t> rows(static_cast<size_t>(c.B * c.Tk));
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int32_t>((i * 7 + i / 3) % c.R);
  std::vector<float> gq(q.size()), gk(kt.size()), gv(vt.size());
  Arena arena;
  Tape<float> t(arena);
  Var qv = t.param(Tensor<float>(q.data(), Shape{c.B, c.Tq, E}), gq.data());
  Var kv = t.param(Tensor<float>(kt.data(), Shape{c.R, E}), gk.data());
  Var vv = t.param(Tensor<float>(vt.data(), Shape{c.R, E}), gv.data());
  Var y = through_rows ? attention_rows(t, qv, kv, vv, rows.data(), c.Tk, c.H, c.causal)
                       : attention(t, qv, embedding(t, rows.data(), Shape{c.B, c.Tk}, kv),
                                   embedding(t, rows.data(), Shape{c.B, c.Tk}, vv), c.H, c.causal);
  const Tensor<float> out = t.value(y);
  std::vector<float> values(out.begin(), out.end());
  t.backward(y, cot.data());
  return {values, gq, gk, gv};
}

TEST(FastPaths, AttentionRowsEqualsAttentionOnGatheredRows) {
  // Few keys (key-by-key dots) and 20 keys (the transposed layout); one and several queries.
  for (const AttentionCase& c :
       {AttentionCase{37, 1, 3, 11, 4, 8, false}, AttentionCase{9, 2, 5, 4, 2, 6, true},
        AttentionCase{5, 3, 20, 13, 3, 4, true}, AttentionCase{6, 1, 20, 30, 2, 5, false}})
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      const auto fast = run_attention(c, true), plain = run_attention(c, false);
      for (size_t i = 0; i < fast.size(); ++i)
        EXPECT_TRUE(same_bits(fast[i], plain[i]))
            << "Tk " << c.Tk << " Tq " << c.Tq << " threads " << threads << " part " << i;
    }
  set_num_threads(1);
}

// pair_sum (the PAIR model's factored form) against the composition it replaces: the table's
// two gathered rows sliced out and added. Output and the table's gradient, with a pair whose two
// ids are one row and rows used by several pairs.
std::vector<std::vector<float>> run_pair_sum(bool fused) {
  const int64_t N = 7, V = 5, D = 6;
  const std::vector<int32_t> ids = {0, 1, 2, 2, 4, 1, 3, 0, 1, 1, 4, 4, 2, 3};  // [N, 2]
  std::vector<float> w = random_values(V * D, 5), cot = random_values(N * D, 6);
  std::vector<float> gw(w.size());
  Arena arena;
  Tape<float> t(arena);
  Var W = t.param(Tensor<float>(w.data(), Shape{V, D}), gw.data());
  Var y;
  if (fused) {
    y = pair_sum(t, ids.data(), N, W);
  } else {
    Var z = embedding(t, ids.data(), Shape{N, 2}, W);  // [N, 2, D]
    y = reshape(t, add(t, slice(t, z, 1, 0, 1), slice(t, z, 1, 1, 1)), Shape{N, D});
  }
  const Tensor<float> out = t.value(y);
  std::vector<float> values(out.begin(), out.end());
  t.backward(y, cot.data());
  return {values, gw};
}

TEST(FastPaths, PairSumEqualsTheSlicedRowsAdded) {
  const auto fused = run_pair_sum(true), plain = run_pair_sum(false);
  EXPECT_TRUE(same_bits(fused[0], plain[0])) << "output";
  EXPECT_TRUE(same_bits(fused[1], plain[1])) << "the table's gradient";
}

// The kernels pair_sum launches, on the cpu (their row forms) and on the emulated device (index
// by index, as a GPU runs them): the same bits, the gradient's scan with two ids a row included.
TEST(CpuBackend, PairSumAndItsGradientScanEqualTheKernels) {
  const int64_t N = 7, V = 5, D = 6;
  const std::vector<int32_t> ids = {0, 1, 2, 2, 4, 1, 3, 0, 1, 1, 4, 4, 2, 3};
  const std::vector<float> w = random_values(V * D, 7), dy = random_values(N * D, 8);
  auto emulated = DeviceContext::create(Device::emulated);
  std::vector<float> y_cpu(N * D), y_emu(N * D), dw_cpu = random_values(V * D, 9), dw_emu = dw_cpu;
  cpu_context().launch(kernels::PairSum<float>{ids.data(), w.data(), y_cpu.data(), D}, N * D);
  emulated->launch(kernels::PairSum<float>{ids.data(), w.data(), y_emu.data(), D}, N * D);
  EXPECT_TRUE(same_bits(y_cpu, y_emu));
  EXPECT_EQ(y_cpu[2 * D + 1], w[4 * D + 1] + w[1 * D + 1]);  // pair 2: rows 4 and 1
  cpu_context().launch(
      kernels::GatherGradScan<float>{ids.data(), 2 * N, D, dy.data(), dw_cpu.data(), 2}, V * D);
  emulated->launch(
      kernels::GatherGradScan<float>{ids.data(), 2 * N, D, dy.data(), dw_emu.data(), 2}, V * D);
  EXPECT_TRUE(same_bits(dw_cpu, dw_emu));
}

TEST(FastPaths, AttentionRowsRejectsRowsOutsideTheTable) {
  Arena arena;
  Tape<float> t(arena);
  std::vector<float> q(4), table(8);
  const std::vector<int32_t> rows{0, 2};
  Var qv = t.constant(Tensor<float>(q.data(), Shape{1, 1, 4}));
  Var kv = t.constant(Tensor<float>(table.data(), Shape{2, 4}));
  EXPECT_THROW(attention_rows(t, qv, kv, kv, rows.data(), 2, 2, false), ShapeError);
}

TEST(FastPaths, ResidualAddHandsOnItsGradientBuffer) {
  // x1 = x0 + W x0 + ..., a chain of residual adds: the same gradients as a plain sum of
  // separately computed terms, and x0's gradient buffer is the loss-side one (no copy).
  std::vector<float> x = random_values(12, 5), w = random_values(9, 6);
  std::vector<float> gx(12), gw(9);
  Arena arena;
  Tape<float> t(arena);
  Var x0 = t.param(Tensor<float>(x.data(), Shape{4, 3}), gx.data());
  Var W = t.param(Tensor<float>(w.data(), Shape{3, 3}), gw.data());
  Var h = relu(t, x0);  // an activation: no gradient buffer yet
  Var x1 = add(t, h, linear(t, h, W));
  Var x2 = add(t, x1, linear(t, x1, W));
  t.backward(sum(t, mul(t, x2, x2)));
  // Adopted down the chain: x1 took x2's buffer (and h took it in turn; h's own node then handed
  // the buffer on, since its input x0 is a parameter with a gradient of its own).
  EXPECT_EQ(t.grad_if_any(x1), t.grad_if_any(x2));
  EXPECT_EQ(t.grad_if_any(h), nullptr);
  // Reference: the same graph in double with every gradient in its own buffer.
  std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end()), gxd(12), gwd(9);
  Arena arena_d;
  Tape<double> td(arena_d);
  Var x0d = td.param(Tensor<double>(xd.data(), Shape{4, 3}), gxd.data());
  Var Wd = td.param(Tensor<double>(wd.data(), Shape{3, 3}), gwd.data());
  Var hd = relu(td, x0d);
  Var l1 = linear(td, hd, Wd);
  Var x1d = add(td, l1, hd);  // b side first: the other operand order
  Var x2d = add(td, linear(td, x1d, Wd), x1d);
  td.backward(sum(td, mul(td, x2d, x2d)));
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(gx[i], gxd[i], 1e-4 * (1 + std::abs(gxd[i])));
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(gw[i], gwd[i], 1e-4 * (1 + std::abs(gwd[i])));
}

TEST(FastPaths, AddOfAVarToItselfDoublesTheGradient) {
  Arena arena;
  Tape<float> t(arena);
  std::vector<float> x{1, -2, 3}, g(3);
  Var v = t.param(Tensor<float>(x.data(), Shape{3}), g.data());
  Var h = scale(t, v, 1.0);  // an activation
  t.backward(sum(t, add(t, h, h)));
  EXPECT_EQ(g, (std::vector<float>{2, 2, 2}));
}

TEST(FastPaths, AdamWLanesEqualTheScalarLoop) {
  // 21 parameters stepped together (two eight-lane blocks and a scalar tail) vs. 21 one-element
  // optimizers (the scalar loop only): the same bits after several steps, with and without
  // weight decay, for AdamW and Adam.
  for (const char* name : {"adamw", "adam"})
    for (double wd : {0.0, 1.0}) {
      OptimizerConfig c;
      c.name = option_named<OptimRule>("optim.name", name);
      c.weight_decay = wd;
      const int64_t n = 21;
      std::vector<float> p = random_values(n, 7), single = p;
      auto together = make_optimizer<float>(c, n);
      std::vector<std::unique_ptr<Optimizer<float>>> alone;
      for (int64_t i = 0; i < n; ++i) alone.push_back(make_optimizer<float>(c, 1));
      for (int step = 0; step < 5; ++step) {
        const std::vector<float> g = random_values(n, 100 + step);
        together->step(p, g, 1e-2);
        for (int64_t i = 0; i < n; ++i)
          alone[i]->step(std::span<float>(&single[i], 1), std::span<const float>(&g[i], 1), 1e-2);
      }
      EXPECT_TRUE(same_bits(p, single)) << name << " weight_decay " << wd;
    }
}

// ---- the cpu backend (cuda/device.h): kernels launched on it give the bits of the same kernel
// run index by index (the emulated device) for any thread count, its fast forms (a kernel's
// cpu_range, the optimizer's AVX Adam) included, and the one optimizer gives the same state on
// every backend ----

// Restores the thread count a test changed.
struct ThreadScope {
  int saved = num_threads();
  ~ThreadScope() { set_num_threads(saved); }
};

TEST(CpuBackend, LaunchCoversEveryIndexOnceForAnyThreadCount) {
  const ThreadScope keep;
  const int64_t n = 3 * kCpuKernelGrain + 17;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    std::vector<float> y(static_cast<size_t>(n), 0.0f);
    std::vector<float> x = random_values(n, 1);
    cpu_context().launch(kernels::Copy<float>{x.data(), y.data(), true}, n);
    EXPECT_TRUE(same_bits(x, y)) << threads << " threads";
  }
}

TEST(CpuBackend, MemoryAndGemmWorkOnHostPointers) {
  DeviceContext& cpu = cpu_context();
  EXPECT_EQ(cpu.device(), Device::cpu);
  EXPECT_FALSE(cpu.capturing());
  EXPECT_THROW(cpu.begin_capture(), std::logic_error);
  float* a = static_cast<float*>(cpu.allocate(4 * sizeof(float)));
  const float host[4] = {1, 2, 3, 4};
  cpu.upload(a, host, sizeof(host));
  float c[4] = {};
  cpu.gemm(false, false, 2, 2, 2, 1.0f, a, 2, a, 2, 0.0f, c, 2);  // [[1,2],[3,4]]^2
  EXPECT_EQ(c[0], 7.0f);
  EXPECT_EQ(c[3], 22.0f);
  cpu.zero(a, 4 * sizeof(float));
  float back[4];
  cpu.download(back, a, sizeof(back));
  EXPECT_EQ(back[2], 0.0f);
  cpu.deallocate(a);
}

// GradWindowMean's cpu_range (row by row, in blocks) against the kernel index by index.
TEST(CpuBackend, WindowMeanFastFormEqualsTheKernel) {
  const ThreadScope keep;
  const int64_t n = 1500, w = 7;
  const std::vector<float> ring = random_values(w * n, 3);
  for (double seen : {3.0, 6.0, 11.0}) {  // before the ring is full, and after, wrapping
    const double k[4] = {0, 0, 0, seen};
    const std::vector<float> start = random_values(n, 4);
    std::vector<float> fast, plain = start;
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      std::vector<float> g = start;
      cpu_context().launch(
          kernels::GradWindowMean<float>{g.data(), ring.data(), k, n, w, float(w), 2.0f}, n);
      if (threads == 1)
        fast.swap(g);
      else
        EXPECT_TRUE(same_bits(fast, g));
    }
    auto emulated = DeviceContext::create(Device::emulated);
    emulated->launch(
        kernels::GradWindowMean<float>{plain.data(), ring.data(), k, n, w, float(w), 2.0f}, n);
    EXPECT_TRUE(same_bits(fast, plain)) << "seen " << seen;
  }
}

TEST(CpuBackend, SquareSumIsTheHostsChunkedSum) {
  const std::vector<float> x = random_values(70000, 5);
  double total = 0;
  queue_square_sum(cpu_context(), x.data(), int64_t(x.size()), nullptr, &total);
  EXPECT_EQ(total, host_square_sum(x.data(), int64_t(x.size())));
  std::vector<double> scratch(static_cast<size_t>(square_sum_scratch(cpu_context(), 10)) + 1);
  EXPECT_EQ(scratch.size(), 1u);
}

// The whole update (filter, clipping, rule, fixed norm) of every optimizer: the cpu backend (AVX
// Adam, the window's fast form) and the emulated device (every kernel index by index) keep the
// same bits over several steps, so one optimizer body serves both.
TEST(CpuBackend, OptimizerUpdatesMatchTheEmulatedDeviceBitForBit) {
  struct Case {
    const char* name;
    const char* filter;
    double clip, norm, momentum;
  };
  for (const Case& k : {Case{"adamw", "none", 0, 0, 0}, Case{"adam", "ema", 0.5, 0, 0},
                        Case{"adamw", "ma", 0, 3.0, 0}, Case{"sgd", "none", 0.1, 0, 0.9},
                        Case{"sgd", "ma", 0, 2.0, 0}}) {
    OptimizerConfig c;
    c.name = option_named<OptimRule>("optim.name", k.name);
    c.filter.kind = option_named<GradFilterKind>("optim.grad_filter", k.filter);
    c.filter.window = 3;
    c.clip_norm = k.clip;
    c.weight_norm = k.norm;
    c.momentum = k.momentum;
    const int64_t n = 37;  // four eight-lane blocks and a tail
    auto emulated = DeviceContext::create(Device::emulated);
    auto on_cpu = make_optimizer<float>(c, n);
    auto on_emulated = make_optimizer<float>(c, n, *emulated);
    std::vector<float> p = random_values(n, 7), q = p;
    for (int step = 0; step < 6; ++step) {
      std::vector<float> g = random_values(n, 100 + step), h = g;
      on_cpu->update(p, g, 1e-2);
      on_emulated->update(q, h, 1e-2);
    }
    EXPECT_TRUE(same_bits(p, q)) << k.name << " " << k.filter;
    on_emulated->download_state();
    const auto a = on_cpu->state(), b = on_emulated->state();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_TRUE(same_bits({a[i].second.begin(), a[i].second.end()},
                            {b[i].second.begin(), b[i].second.end()}))
          << k.name << " " << a[i].first;
  }
}

// Cross-entropy's rows: the cpu form (exps four or eight at a time with glibc expf's bits; rows
// eight to a vector with AVX-512, then four at a time, then one) against the kernel index by index
// with the C library's expf, on rows whose logits spread over exp's whole range, and rows whose
// largest logit is tied (the first one is the argmax), all equal, or +0 against -0.
TEST(CpuBackend, CrossEntropyRowsFastFormEqualsTheKernel) {
  const int64_t N = 29, C = 37;  // rows 0-23 eight to a vector, 24-27 four, 28 alone
  std::vector<float> x = random_values(N * C, 11);
  for (int64_t i = 0; i < N * C; ++i) x[i] *= float(1 + i % 7) * 9.0f;  // some below -104
  // Row 2: the largest tied at columns 0 and 20, and eighteen exps of 2.3e-16 (about an ulp of
  // 1) between them. The sum skips the argmax's 1.0: skipping column 0 (the first, the kernel's)
  // the eighteen add up exactly before the other 1.0 comes; skipping column 20 each rounds
  // against 1.0, and the sum ends an ulp lower.
  std::fill(x.begin() + 2 * C, x.begin() + 3 * C, -1000.0f);
  x[2 * C] = x[2 * C + 20] = 500.0f;
  for (int64_t j = 1; j <= 18; ++j) x[2 * C + j] = 464.0f;
  x[10 * C] = x[10 * C + C - 1] = 700.0f;
  std::fill(x.begin() + 12 * C, x.begin() + 13 * C, 1.5f);
  for (int64_t j = 0; j < C; ++j) x[14 * C + j] = -std::abs(x[14 * C + j]) - 1.0f;
  x[14 * C + 3] = -0.0f;
  x[14 * C + 7] = 0.0f;
  // NaNs never win the argmax, but a NaN first column keeps it; infinities; a max in the last
  // (partial) vector of the row only.
  x[16 * C] = NAN;
  x[17 * C + 5] = NAN;
  x[17 * C + 30] = 900.0f;
  std::fill(x.begin() + 18 * C, x.begin() + 19 * C, -INFINITY);
  x[19 * C + 35] = 800.0f;
  x[20 * C + 9] = x[20 * C + 33] = INFINITY;
  // Row 21: row 2's tie within one vector of the row (columns 0 and 15, fourteen tiny exps
  // between), where the search must take the first of the vector's matches.
  std::fill(x.begin() + 21 * C, x.begin() + 22 * C, -1000.0f);
  x[21 * C] = x[21 * C + 15] = 500.0f;
  for (int64_t j = 1; j <= 14; ++j) x[21 * C + j] = 464.0f;
  std::vector<int32_t> target(N);
  for (int64_t r = 0; r < N; ++r) target[r] = static_cast<int32_t>((r * 5) % C);
  std::vector<float> ex_cpu(N * C), ex_emu(N * C);
  std::vector<double> inv_cpu(N), inv_emu(N), loss_cpu(N), loss_emu(N);
  cpu_context().launch(kernels::CrossEntropyRows<float>{x.data(), target.data(), C, ex_cpu.data(),
                                                        inv_cpu.data(), loss_cpu.data()},
                       N);
  auto emulated = DeviceContext::create(Device::emulated);
  emulated->launch(kernels::CrossEntropyRows<float>{x.data(), target.data(), C, ex_emu.data(),
                                                    inv_emu.data(), loss_emu.data()},
                   N);
  EXPECT_TRUE(same_bits(ex_cpu, ex_emu));
  EXPECT_EQ(0, std::memcmp(inv_cpu.data(), inv_emu.data(), N * sizeof(double)));
  EXPECT_EQ(0, std::memcmp(loss_cpu.data(), loss_emu.data(), N * sizeof(double)));
}

// The column sums' cpu form (one pass, a stack of accumulators per column) against the kernels'
// tree level by level (the emulated device), with and without the products, across the row
// counts where the tree gains a level.
TEST(CpuBackend, ColumnSumsFastFormEqualsTheTree) {
  for (int64_t R : {0, 5, 16, 17, 300, 4097}) {
    for (int64_t S : {1, 4, 70}) {
      const std::vector<float> x = random_values(R * S, 20), w = random_values(R * S, 21);
      for (const float* wp : {static_cast<const float*>(nullptr), w.data()}) {
        std::vector<float> cpu = random_values(S, 22), emu = cpu;
        std::vector<double> scratch(static_cast<size_t>(column_scratch(R, S)) + 1);
        queue_column_sums(cpu_context(), x.data(), wp, R, S, scratch.data(), cpu.data());
        auto emulated = DeviceContext::create(Device::emulated);
        queue_column_sums(*emulated, x.data(), wp, R, S, scratch.data(), emu.data());
        EXPECT_TRUE(same_bits(cpu, emu)) << "R " << R << " S " << S << (wp ? " with w" : "");
      }
    }
  }
}

}  // namespace
}  // namespace gradscope
