// The speed paths give the same bits as the plain computations they replace: attention reading
// keys and values through table rows vs. gathered copies, the residual add handing its gradient
// buffer on, and AdamW's eight-lane pass vs. its scalar loop.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "gradscope/autograd/ops.h"
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
  EXPECT_EQ(t.grad_if_any(h), t.grad_if_any(x2));  // adopted down the chain
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
      c.name = name;
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

}  // namespace
}  // namespace gradscope
