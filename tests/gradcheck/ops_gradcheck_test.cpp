// Finite-difference gradient checks for every op (and a composition that reuses Vars), in float64,
// plus float32-vs-float64 agreement. See gradcheck.h for the method.
#include <array>
#include <stdexcept>
#include <tuple>

#include "gradcheck.h"

namespace gradscope {
namespace {

using testing::check_gradients;
using testing::GradcheckOptions;
using V = std::vector<Var>;

TEST(Gradcheck, LinearWithBias) {
  check_gradients({{2, 3, 4}, {4, 5}, {5}},
                  [](auto& t, const V& in) { return linear(t, in[0], in[1], in[2]); });
}

TEST(Gradcheck, LinearWithoutBias) {
  check_gradients({{6, 4}, {4, 3}}, [](auto& t, const V& in) { return linear(t, in[0], in[1]); });
}

TEST(Gradcheck, MatmulTransposed) {
  check_gradients({{3, 4}, {5, 4}},
                  [](auto& t, const V& in) { return matmul(t, in[0], in[1], true); });
}

TEST(Gradcheck, AddSameShapeAndBroadcast) {
  check_gradients({{2, 3}, {2, 3}}, [](auto& t, const V& in) { return add(t, in[0], in[1]); });
  check_gradients({{2, 3, 4}, {3, 4}}, [](auto& t, const V& in) { return add(t, in[0], in[1]); });
  check_gradients({{5, 4}, {4}}, [](auto& t, const V& in) { return add(t, in[0], in[1]); });
}

TEST(Gradcheck, MulSameShapeAndBroadcast) {
  check_gradients({{2, 3}, {2, 3}}, [](auto& t, const V& in) { return mul(t, in[0], in[1]); });
  check_gradients({{2, 3, 4}, {4}}, [](auto& t, const V& in) { return mul(t, in[0], in[1]); });
}

TEST(Gradcheck, Scale) {
  check_gradients({{3, 4}}, [](auto& t, const V& in) { return scale(t, in[0], -2.5); });
}

TEST(Gradcheck, ReluAwayFromKink) {
  GradcheckOptions o;
  o.away_from_zero = 1e-3;  // central differences straddling 0 measure the average slope
  check_gradients(
      {{4, 5}}, [](auto& t, const V& in) { return relu(t, in[0]); }, o);
}

TEST(Gradcheck, ReluDerivativeAtZeroIsZero) {
  Arena arena;
  Tape<double> t(arena);
  std::array<double, 3> x{0.0, -1.0, 2.0}, g{};
  Var v = t.param(Tensor<double>(x.data(), Shape{3}), g.data());
  Var y = relu(t, v);
  std::array<double, 3> seed{1.0, 1.0, 1.0};
  t.backward(y, seed.data());
  EXPECT_EQ(g[0], 0.0);
  EXPECT_EQ(g[1], 0.0);
  EXPECT_EQ(g[2], 1.0);
}

TEST(Gradcheck, Gelu) {
  check_gradients({{4, 5}}, [](auto& t, const V& in) { return gelu(t, in[0]); });
}

TEST(Gradcheck, GeluTanh) {
  check_gradients({{4, 5}}, [](auto& t, const V& in) { return gelu_tanh(t, in[0]); });
}

TEST(Gradcheck, Tanh) {
  check_gradients({{4, 5}}, [](auto& t, const V& in) { return tanh(t, in[0]); });
}

TEST(Gradcheck, Square) {
  check_gradients({{4, 5}}, [](auto& t, const V& in) { return square(t, in[0]); });
}

TEST(Gradcheck, Softmax) {
  check_gradients({{3, 6}}, [](auto& t, const V& in) { return softmax(t, in[0]); });
  check_gradients({{2, 2, 4}}, [](auto& t, const V& in) { return softmax(t, in[0]); });
}

TEST(Gradcheck, LayerNormWithAffine) {
  check_gradients({{4, 6}, {6}, {6}},
                  [](auto& t, const V& in) { return layer_norm(t, in[0], in[1], in[2]); });
}

TEST(Gradcheck, LayerNormWithoutAffine) {
  check_gradients({{2, 3, 5}},
                  [](auto& t, const V& in) { return layer_norm(t, in[0], Var{}, Var{}); });
}

TEST(Gradcheck, AttentionCausal) {
  check_gradients({{2, 4, 6}, {2, 4, 6}, {2, 4, 6}},
                  [](auto& t, const V& in) { return attention(t, in[0], in[1], in[2], 2, true); });
}

TEST(Gradcheck, AttentionFull) {
  check_gradients({{1, 3, 6}, {1, 3, 6}, {1, 3, 6}},
                  [](auto& t, const V& in) { return attention(t, in[0], in[1], in[2], 3, false); });
}

TEST(Gradcheck, AttentionFewerQueriesThanKeys) {
  // The last two positions query all four keys (causally aligned to the end).
  check_gradients({{2, 2, 6}, {2, 4, 6}, {2, 4, 6}},
                  [](auto& t, const V& in) { return attention(t, in[0], in[1], in[2], 2, true); });
  check_gradients({{1, 1, 4}, {1, 3, 4}, {1, 3, 4}},
                  [](auto& t, const V& in) { return attention(t, in[0], in[1], in[2], 1, false); });
}

TEST(Gradcheck, AttentionSharedInput) {
  // q = k = v = x: gradients from the three roles accumulate into one buffer.
  check_gradients({{2, 3, 4}},
                  [](auto& t, const V& in) { return attention(t, in[0], in[0], in[0], 2, true); });
}

TEST(Gradcheck, AttentionBlocked) {
  // From 32 keys on the cpu runs the blocked form: 70 positions are two query blocks of 64 and
  // one of 6, each against only the keys its last query sees.
  check_gradients({{1, 70, 4}, {1, 70, 4}, {1, 70, 4}},
                  [](auto& t, const V& in) { return attention(t, in[0], in[1], in[2], 2, true); });
  check_gradients({{2, 33, 6}, {2, 33, 6}, {2, 33, 6}},
                  [](auto& t, const V& in) { return attention(t, in[0], in[1], in[2], 3, false); });
  // The last 40 of 90 positions query (causally aligned to the end); q = k = v.
  check_gradients({{1, 40, 2}, {1, 90, 2}, {1, 90, 2}},
                  [](auto& t, const V& in) { return attention(t, in[0], in[1], in[2], 1, true); });
  check_gradients({{1, 36, 4}},
                  [](auto& t, const V& in) { return attention(t, in[0], in[0], in[0], 2, true); });
}

TEST(Gradcheck, AttentionRows) {
  // Keys and values read from tables [5, 6] through rows with repeats, within and across examples.
  static const std::array<int32_t, 8> rows{1, 4, 1, 0, 2, 2, 3, 1};
  check_gradients({{2, 1, 6}, {5, 6}, {5, 6}}, [](auto& t, const V& in) {
    return attention_rows(t, in[0], in[1], in[2], rows.data(), 4, 2, false);
  });
  check_gradients({{2, 2, 6}, {5, 6}, {5, 6}}, [](auto& t, const V& in) {
    return attention_rows(t, in[0], in[1], in[2], rows.data(), 4, 3, true);
  });
}

TEST(Gradcheck, AttentionRowsManyKeys) {
  // 17 keys: the transposed-key layout.
  static const std::array<int32_t, 17> rows{0, 1, 2, 3, 0, 1, 2, 3, 3, 2, 1, 0, 1, 1, 2, 0, 3};
  check_gradients({{1, 2, 4}, {4, 4}, {4, 4}}, [](auto& t, const V& in) {
    return attention_rows(t, in[0], in[1], in[2], rows.data(), 17, 2, true);
  });
}

TEST(Gradcheck, Embedding) {
  static const std::array<int32_t, 6> ids{1, 4, 1, 0, 2, 1};  // repeats accumulate
  check_gradients({{5, 3}}, [](auto& t, const V& in) {
    return embedding(t, ids.data(), Shape{2, 3}, in[0]);
  });
}

TEST(Gradcheck, PairSum) {
  static const std::array<int32_t, 8> ids{1, 4, 2, 2, 0, 1, 4, 1};  // a pair of one row, repeats
  check_gradients({{5, 3}}, [](auto& t, const V& in) {
    return square(t, pair_sum(t, ids.data(), 4, in[0]));  // nonlinear: the gradient's values matter
  });
}

TEST(Gradcheck, ReshapeAndRowsAreViews) {
  check_gradients({{4, 3}}, [](auto& t, const V& in) {
    Var r = rows(t, in[0], 1, 2);                  // [2, 3] view
    return square(t, reshape(t, r, Shape{3, 2}));  // nonlinear so the view's grad matters
  });
}

TEST(Gradcheck, AddPositional) {
  check_gradients({{2, 3, 4}, {5, 4}},
                  [](auto& t, const V& in) { return add_positional(t, in[0], in[1]); });
}

TEST(Gradcheck, Transpose) {
  check_gradients({{2, 3, 4}}, [](auto& t, const V& in) { return transpose(t, in[0]); });
}

TEST(Gradcheck, SliceEachDimension) {
  for (int dim = 0; dim < 3; ++dim)
    check_gradients({{3, 4, 5}},
                    [dim](auto& t, const V& in) { return slice(t, in[0], dim, 1, 2); });
}

TEST(Gradcheck, SelectLast) {
  check_gradients({{2, 3, 4}}, [](auto& t, const V& in) { return select_last(t, in[0]); });
}

TEST(Gradcheck, CrossEntropy) {
  static const std::array<int32_t, 5> targets{0, 6, 3, 3, 1};
  check_gradients({{5, 7}},
                  [](auto& t, const V& in) { return cross_entropy(t, in[0], targets.data()); });
}

TEST(Gradcheck, StableMaxCrossEntropy) {
  // Logits of both signs, away from 0 where s(x) changes form (s is C^1 there, not C^2).
  static const std::array<int32_t, 5> targets{0, 6, 3, 3, 1};
  GradcheckOptions o;
  o.away_from_zero = 1e-3;
  check_gradients(
      {{5, 7}},
      [](auto& t, const V& in) {
        return stablemax_cross_entropy(t, scale(t, in[0], 3.0), targets.data());
      },
      o);
}

TEST(Gradcheck, TorchCrossEntropyInFloat64) {
  static const std::array<int32_t, 5> targets{0, 6, 3, 3, 1};
  check_gradients({{5, 7}}, [](auto& t, const V& in) {
    return torch_cross_entropy(t, in[0], targets.data(), true);
  });
}

// PyTorch's float32 arithmetic agrees with gradscope's cross-entropy on ordinary logits, and
// past a margin of 16.6 + ln 4 = 18 (the 4 others' exp(-margin) summed below float32's 2^-24) its
// target-class gradient is exactly 0 (Softmax Collapse) where gradscope's is not.
TEST(Gradcheck, TorchCrossEntropyFloat32CollapsesWhereGradscopesDoesNot) {
  const int64_t N = 2, C = 5;
  const int32_t targets[] = {1, 3};
  auto run = [&](std::vector<float> x, bool torch32, std::vector<float>& dx) {
    Arena arena;
    Tape<float> t(arena);
    dx.assign(N * C, 0.0f);
    Var logits = t.param(Tensor<float>(x.data(), Shape{N, C}), dx.data());
    Var l = torch32 ? torch_cross_entropy(t, logits, targets, false)
                    : cross_entropy(t, logits, targets);
    const double v = t.value(l)[0];
    t.backward(l);
    return v;
  };
  std::vector<float> ordinary = {0.3f, 1.2f, -0.5f, 0.1f, 0.9f, -1.0f, 0.4f, 0.2f, 2.0f, 0.0f};
  std::vector<float> a, b;
  EXPECT_NEAR(run(ordinary, true, a), run(ordinary, false, b), 1e-6);
  for (int64_t i = 0; i < N * C; ++i) EXPECT_NEAR(a[i], b[i], 1e-6) << i;
  std::vector<float> collapsed(N * C, 0.0f);
  collapsed[0 * C + 1] = 20.0f;
  collapsed[1 * C + 3] = 30.0f;
  run(collapsed, true, a);
  run(collapsed, false, b);
  EXPECT_EQ(a[0 * C + 1], 0.0f);
  EXPECT_EQ(a[1 * C + 3], 0.0f);
  EXPECT_LT(b[0 * C + 1], 0.0f);
  EXPECT_LT(b[1 * C + 3], 0.0f);
  EXPECT_GT(a[0 * C + 0], 0.0f);  // the other classes keep their (tiny) gradients
}

TEST(Gradcheck, HingeInsideTheMargin) {
  // Scores 0.3 x with |x| well below 3: every example inside the margin (finite differences
  // never straddle the kinks at f = +-1).
  static const std::array<int32_t, 6> targets{0, 1, 1, 0, 1, 0};
  check_gradients({{6, 1}}, [](auto& t, const V& in) {
    return hinge(t, scale(t, in[0], 0.3), targets.data());
  });
}

TEST(Gradcheck, HingeIsFlatBeyondTheMargin) {
  Arena arena;
  Tape<double> t(arena);
  std::array<double, 4> f{0.3, -2.0, 1.5, 0.5}, g{};
  const int32_t targets[] = {1, 0, 1, 0};
  Var v = t.param(Tensor<double>(f.data(), Shape{4, 1}), g.data());
  Var loss = hinge(t, v, targets);
  // margins 1 - y f: 0.7, -1, -0.5, 1.5
  EXPECT_DOUBLE_EQ(t.value(loss)[0], (0.7 + 1.5) / 4);
  t.backward(loss);
  EXPECT_DOUBLE_EQ(g[0], -0.25);
  EXPECT_DOUBLE_EQ(g[1], 0.0);
  EXPECT_DOUBLE_EQ(g[2], 0.0);
  EXPECT_DOUBLE_EQ(g[3], 0.25);
}

// Kinks held (autograd/tape.h KinkPatterns, for run/hessian.h): recorded at one point, relu and
// hinge then compute the linear piece of that point's sides at another, where the plain ops
// would take the other side; a replay over another forward pass is refused.
TEST(Gradcheck, HeldKinksTakeTheRecordedPointsLinearPiece) {
  const int32_t targets[] = {1, 0, 1};
  auto pass = [&](KinkPatterns* kinks, std::array<double, 3> x, std::array<double, 3> f) {
    Arena arena;
    Tape<double> t(arena);
    t.set_kinks(kinks);
    std::array<double, 3> gx{}, gf{};
    Var a = t.param(Tensor<double>(x.data(), Shape{3}), gx.data());
    Var b = t.param(Tensor<double>(f.data(), Shape{3, 1}), gf.data());
    Var loss = add(t, sum(t, relu(t, a)), hinge(t, b, targets));
    t.backward(loss);
    return std::tuple{t.value(loss)[0], gx, gf};
  };
  // At the recorded point: relu's inputs 0.5, -0.5, 1e-9; hinge margins 0.7, -1, 1e-9.
  const std::array<double, 3> x0{0.5, -0.5, 1e-9}, f0{0.3, -2.0, 1 - 1e-9};
  const std::array<double, 3> x1{0.5, -0.5, -1e-9}, f1{0.3, -2.0, 1 + 1e-9};  // across both
  KinkPatterns kinks;
  const auto [v0, gx0, gf0] = pass(&kinks, x0, f0);
  const auto [plain0, pgx0, pgf0] = pass(nullptr, x0, f0);
  EXPECT_NEAR(v0, plain0, 1e-15);
  EXPECT_EQ(gx0, pgx0);
  EXPECT_EQ(gf0, pgf0);
  ASSERT_EQ(kinks.sides.size(), 2u);
  kinks.mode = KinkPatterns::Mode::replay;
  const auto [v1, gx1, gf1] = pass(&kinks, x1, f1);
  EXPECT_NEAR(v1, 0.5 - 1e-9 + (0.7 - 1e-9) / 3, 1e-15);  // the held pieces, negative parts kept
  EXPECT_EQ(gx1, (std::array<double, 3>{1, 0, 1}));
  EXPECT_EQ(gf1, (std::array<double, 3>{-1.0 / 3, 0, -1.0 / 3}));
  const auto [plain1, pgx1, pgf1] = pass(nullptr, x1, f1);  // the plain ops: the other side
  EXPECT_EQ(pgx1[2], 0.0);
  EXPECT_EQ(pgf1[2], 0.0);
  Arena arena;
  Tape<double> t(arena);
  t.set_kinks(&kinks);
  std::array<double, 2> y{1, 2};
  EXPECT_THROW(relu(t, t.constant(Tensor<double>(y.data(), Shape{2}))), std::logic_error);
}

// Near-perfect predictions (grokking's regime: losses ~1e-7): the target's gradient
// p_target - 1 = -(sum of the others) / (1 + sum) must survive float32, not cancel to 0.
TEST(Gradcheck, CrossEntropyKeepsTinyGradientsInFloat32) {
  const int64_t N = 2, C = 5;
  const int32_t targets[] = {1, 3};
  auto grads = [&]<class T>(T) {
    std::vector<T> x(N * C, T(0));
    x[0 * C + 1] = T(17);
    x[1 * C + 3] = T(19.5);
    Arena arena;
    Tape<T> t(arena);
    std::vector<T> dx(N * C, T(0));
    Var logits = t.param(Tensor<T>(x.data(), Shape{N, C}), dx.data());
    t.backward(cross_entropy(t, logits, targets));
    return std::vector<double>(dx.begin(), dx.end());
  };
  const auto d64 = grads(0.0), d32 = grads(0.0f);
  for (int64_t i = 0; i < N * C; ++i) {
    ASSERT_NE(d64[i], 0.0);
    EXPECT_NEAR(d32[i], d64[i], 1e-5 * std::abs(d64[i])) << i;
  }
}

TEST(Gradcheck, MseBothSidesAndConstantTarget) {
  check_gradients({{3, 4}, {3, 4}}, [](auto& t, const V& in) { return mse(t, in[0], in[1]); });
  GradcheckOptions o;
  o.constant_inputs = {1};
  check_gradients(
      {{3, 4}, {3, 4}}, [](auto& t, const V& in) { return mse(t, in[0], in[1]); }, o);
}

TEST(Gradcheck, SumAndMean) {
  check_gradients({{3, 4}}, [](auto& t, const V& in) { return sum(t, in[0]); });
  check_gradients({{2, 3, 4}}, [](auto& t, const V& in) { return mean(t, in[0]); });
}

TEST(Gradcheck, PreNormTransformerBlock) {
  // x [B=2, T=3, D=4] through a pre-LN attention block and MLP, with residuals: every Var that
  // is used twice must receive the sum of both gradients.
  GradcheckOptions o;
  o.away_from_zero = 0.0;
  check_gradients(
      {{2, 3, 4}, {4}, {4}, {4, 4}, {4, 4}, {4, 4}, {4, 4}, {4, 8}, {8}, {8, 4}, {4}},
      [](auto& t, const V& p) {
        Var x = p[0];
        Var h = layer_norm(t, x, p[1], p[2]);
        Var a = attention(t, linear(t, h, p[3]), linear(t, h, p[4]), linear(t, h, p[5]), 2, true);
        x = add(t, x, linear(t, a, p[6]));
        Var m = linear(t, gelu(t, linear(t, x, p[7], p[8])), p[9], p[10]);
        return add(t, x, m);
      },
      o);
}

}  // namespace
}  // namespace gradscope
