// Arena (alignment, growth, consolidation) and Tape (views, accumulation, no-grad mode).
#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "gradscope/autograd/ops.h"
#include "gradscope/nn/param_store.h"

namespace gradscope {
namespace {

TEST(Arena, AlignsGrowsAndConsolidatesOnReset) {
  Arena a(256);
  float* p = a.alloc<float>(3);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  for (int i = 0; i < 10; ++i) a.alloc<double>(100);
  EXPECT_GT(a.block_count(), 1);
  const size_t cap = a.capacity();
  a.reset();
  EXPECT_EQ(a.block_count(), 1);
  EXPECT_EQ(a.capacity(), cap);
  EXPECT_EQ(a.bytes_in_use(), 0u);
  for (int i = 0; i < 10; ++i) a.alloc<double>(100);
  EXPECT_EQ(a.block_count(), 1);  // the same demand now fits in one block
  double* z = a.zeros<double>(5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(z[i], 0.0);
}

TEST(Tape, ReusedVarAccumulatesBothGradients) {
  Arena arena;
  Tape<double> t(arena);
  std::array<double, 2> x{3.0, -2.0}, g{};
  Var v = t.param(Tensor<double>(x.data(), Shape{2}), g.data());
  t.backward(sum(t, mul(t, v, v)));  // d/dx sum(x*x) = 2x
  EXPECT_DOUBLE_EQ(g[0], 6.0);
  EXPECT_DOUBLE_EQ(g[1], -4.0);
  t.reset();
  v = t.param(Tensor<double>(x.data(), Shape{2}), g.data());
  t.backward(sum(t, v));  // parameter gradients accumulate across backward calls
  EXPECT_DOUBLE_EQ(g[0], 7.0);
}

TEST(Tape, ViewsShareValueAndGradient) {
  Arena arena;
  Tape<double> t(arena);
  std::array<double, 6> x{1, 2, 3, 4, 5, 6}, g{};
  Var v = t.param(Tensor<double>(x.data(), Shape{3, 2}), g.data());
  Var r = rows(t, v, 1, 2);  // rows 1..2: {3, 4, 5, 6}
  Var flat = reshape(t, r, Shape{4});
  EXPECT_EQ(t.value(flat).data, x.data() + 2);
  t.backward(sum(t, scale(t, flat, 2.0)));
  EXPECT_EQ(g, (std::array<double, 6>{0, 0, 2, 2, 2, 2}));
}

TEST(Tape, NoGradModeRecordsNothing) {
  Arena arena;
  Tape<float> t(arena);
  std::array<float, 4> x{1, 2, 3, 4}, g{};
  t.set_grad_enabled(false);
  Var v = t.param(Tensor<float>(x.data(), Shape{2, 2}), g.data());
  Var y = sum(t, relu(t, linear(t, v, v)));
  EXPECT_EQ(t.node_count(), 0u);
  EXPECT_FALSE(t.requires_grad(y));
  EXPECT_FLOAT_EQ(t.value(y)[0], 7 + 10 + 15 + 22);
}

TEST(Tape, UnusedBranchesAreSkippedAndConstantsGetNoGradient) {
  Arena arena;
  Tape<double> t(arena);
  std::array<double, 2> x{1, 2}, g{}, c{5, 5};
  Var v = t.param(Tensor<double>(x.data(), Shape{2}), g.data());
  Var k = t.constant(Tensor<double>(c.data(), Shape{2}));
  tanh(t, v);  // never reaches the loss
  Var loss = sum(t, mul(t, v, k));
  t.backward(loss);
  EXPECT_DOUBLE_EQ(g[0], 5.0);
  EXPECT_FALSE(t.requires_grad(k));
}

TEST(Tape, BackwardNeedsAScalar) {
  Arena arena;
  Tape<double> t(arena);
  std::array<double, 2> x{1, 2}, g{};
  Var v = t.param(Tensor<double>(x.data(), Shape{2}), g.data());
  EXPECT_THROW(t.backward(square(t, v)), ShapeError);
}

TEST(ParamStore, FlatBuffersWithNamedAlignedViews) {
  ParamStore<float> ps;
  const int a = ps.add("embed.W_E", {5, 3});
  const int b = ps.add("unembed.W_U", {3, 5});
  EXPECT_THROW(ps.add("embed.W_E", {1}), std::invalid_argument);
  ps.finalize();
  EXPECT_EQ(ps.info(a).offset, 0);
  EXPECT_EQ(ps.info(b).offset, 16);  // 15 elements padded to 16
  EXPECT_EQ(ps.size(), 32);
  EXPECT_EQ(ps.index("unembed.W_U"), b);
  try {
    ps.index("W_Q");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("embed.W_E, unembed.W_U"), std::string::npos) << e.what();
  }
  ps.value(b)[0] = 4.0f;
  ps.save_initial();
  ps.value(b)[0] = 5.0f;
  EXPECT_EQ(ps.initial(b)[0], 4.0f);
  Arena arena;
  Tape<float> t(arena);
  t.backward(sum(t, ps.on(t, b)));
  EXPECT_EQ(ps.grads()[16], 1.0f);
  EXPECT_EQ(ps.grads()[15], 0.0f);
  ps.zero_grad();
  EXPECT_EQ(ps.grads()[16], 0.0f);
}

}  // namespace
}  // namespace gradscope
