// In-context linear regression: the exact estimators (against independent formulas and limits),
// the task's sequences and splits, the incontext measure's columns, and the transformer's real
// read-in and read-out (a query's prediction never sees its own y or anything after it).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "gradscope/nn/model_registry.h"
#include "gradscope/probes/incontext.h"
#include "gradscope/probes/objective.h"
#include "gradscope/tasks/incontext.h"
#include "gradscope/tasks/incontext_estimators.h"
#include "gradscope/tensor/lapack.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

struct Draws {
  std::vector<double> x, y, w;  // [N, K, d], [N, K], [N, d]
  RegressionSequences view(int64_t n, int64_t k, int64_t d) const {
    return {x.data(), y.data(), n, k, d};
  }
};

// N sequences of K pairs in d dimensions, each with its own w ~ N(0, I), y = w.x + noise.
Draws gaussian_sequences(int64_t N, int64_t K, int64_t d, double sigma, uint64_t seed) {
  Rng rng(seed, "test");
  Draws s;
  s.x.resize(N * K * d), s.y.resize(N * K), s.w.resize(N * d);
  rng.fill_normal(s.x.data(), N * K * d, 0.0, 1.0);
  rng.fill_normal(s.w.data(), N * d, 0.0, 1.0);
  for (int64_t e = 0; e < N; ++e)
    for (int64_t i = 0; i < K; ++i) {
      double v = 0;
      for (int64_t r = 0; r < d; ++r) v += s.w[e * d + r] * s.x[(e * K + i) * d + r];
      s.y[e * K + i] = v + sigma * rng.next_normal();
    }
  return s;
}

// Ridge through the kernel form x . X^T (X X^T + lambda I)^-1 y (the push-through identity of
// (X^T X + lambda I)^-1 X^T y), computed on the m x m system instead of the d x d one.
double kernel_ridge(const double* X, const double* y, int64_t m, int64_t d, const double* x,
                    double lambda) {
  std::vector<double> A(m * m), a(y, y + m);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < m; ++c) {
      double g = 0;
      for (int64_t j = 0; j < d; ++j) g += X[r * d + j] * X[c * d + j];
      A[r * m + c] = g + (r == c ? lambda : 0.0);
    }
  EXPECT_TRUE(solve_positive_definite(A.data(), a.data(), m));
  double p = 0;
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < d; ++j) p += a[r] * X[r * d + j] * x[j];
  return p;
}

TEST(InContextEstimators, RidgeMatchesItsKernelForm) {
  const int64_t N = 5, K = 9, d = 4;
  const Draws s = gaussian_sequences(N, K, d, 0.5, 1);
  const std::vector<double> p = ridge_predictions(s.view(N, K, d), 0.25);
  for (int64_t e = 0; e < N; ++e) {
    EXPECT_EQ(p[e * K], 0.0);  // no examples: the prior mean
    for (int64_t i = 1; i < K; ++i)
      EXPECT_NEAR(p[e * K + i],
                  kernel_ridge(&s.x[e * K * d], &s.y[e * K], i, d, &s.x[(e * K + i) * d], 0.25),
                  1e-10);
  }
}

TEST(InContextEstimators, LeastSquaresIsMinimumNormAndInterpolates) {
  const int64_t N = 4, K = 10, d = 5;
  const Draws s = gaussian_sequences(N, K, d, 0.0, 2);
  const std::vector<double> ls = least_squares_predictions(s.view(N, K, d));
  const std::vector<double> tiny = ridge_predictions(s.view(N, K, d), 1e-9);
  for (int64_t e = 0; e < N; ++e)
    for (int64_t i = 0; i < K; ++i) {
      // The minimum-norm solution is ridge's limit as lambda -> 0 (below d examples too) ...
      EXPECT_NEAR(ls[e * K + i], tiny[e * K + i], 1e-5 * std::max(1.0, std::abs(ls[e * K + i])))
          << e << " " << i;
      // ... and with d noiseless examples or more it recovers w: the prediction is exact.
      if (i >= d) {
        EXPECT_NEAR(ls[e * K + i], s.y[e * K + i], 1e-9);
      }
    }
  // lambda = 0 asks for least squares.
  EXPECT_EQ(ridge_predictions(s.view(N, K, d), 0.0), ls);
}

TEST(InContextEstimators, DmmseIsThePosteriorMeanOverThePool) {
  const int64_t N = 6, K = 5, d = 3, M = 4;
  std::vector<double> pool(M * d);
  Rng(3, "pool").fill_normal(pool.data(), M * d, 0.0, 1.0);
  Draws s = gaussian_sequences(N, K, d, 0.0, 3);
  // Sequence e uses pool task e % M, without noise.
  for (int64_t e = 0; e < N; ++e)
    for (int64_t i = 0; i < K; ++i) {
      double v = 0;
      for (int64_t r = 0; r < d; ++r) v += pool[(e % M) * d + r] * s.x[(e * K + i) * d + r];
      s.y[e * K + i] = v;
    }
  const std::vector<double> exact = dmmse_predictions(s.view(N, K, d), pool, 0.0);
  const std::vector<double> vague = dmmse_predictions(s.view(N, K, d), pool, 1e12);
  for (int64_t e = 0; e < N; ++e)
    for (int64_t i = 0; i < K; ++i) {
      const double* x = &s.x[(e * K + i) * d];
      double mean = 0;  // x . (the pool's mean task)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t r = 0; r < d; ++r) mean += pool[m * d + r] * x[r] / double(M);
      // Before any example, and under a noise so large that data carry no weight: the prior mean.
      if (i == 0) {
        EXPECT_NEAR(exact[e * K], mean, 1e-12);
      }
      EXPECT_NEAR(vague[e * K + i], mean, 1e-9);
      // Without noise, one example singles out the sequence's task.
      if (i > 0) {
        EXPECT_NEAR(exact[e * K + i], s.y[e * K + i], 1e-12);
      }
    }
  // A pool of one task: always that task.
  const std::vector<double> one(pool.begin(), pool.begin() + d);
  const std::vector<double> p = dmmse_predictions(s.view(N, K, d), one, 0.25);
  for (int64_t e = 0; e < N; ++e)
    for (int64_t i = 0; i < K; ++i) {
      double v = 0;
      for (int64_t r = 0; r < d; ++r) v += one[r] * s.x[(e * K + i) * d + r];
      EXPECT_NEAR(p[e * K + i], v, 1e-12);
    }
}

InContextTaskConfig small_task(int64_t pool) {
  InContextTaskConfig c;
  c.dim = 3, c.n_context = 6, c.noise = 0.0, c.n_pool = pool, c.n_test = 40;
  return c;
}

std::map<std::string, double> columns(const MetricValues& row) {
  return {row.begin(), row.end()};
}

TEST(InContextTask, TokensHoldTheSequenceAndTheTargets) {
  const InContextTaskConfig c = small_task(0);
  const TaskData data = make_incontext_task(c);
  const int64_t K = 6, W = 4;
  for (const Dataset* s : {&data.train, &data.test}) {
    ASSERT_EQ(s->length, 2 * K);
    ASSERT_EQ(s->features, 2 * K * W);
    ASSERT_EQ(s->outputs, K);
    ASSERT_EQ(s->size(), 40);
    for (int64_t e = 0; e < s->size(); ++e)
      for (int64_t i = 0; i < K; ++i) {
        const double* xt = &s->x[e * 2 * K * W + 2 * i * W];  // [0, x_i]
        const double* yt = xt + W;                            // [y_i, 0, 0, 0]
        EXPECT_EQ(xt[0], 0.0);
        EXPECT_EQ(yt[0], s->y[e * K + i]);
        for (int64_t r = 1; r < W; ++r) EXPECT_EQ(yt[r], 0.0);
      }
  }
  // Training sequences: a pure function of (seed, step), new at every step.
  Dataset a, b, other;
  data.sample(7, 12, 9, a);
  data.sample(7, 12, 9, b);
  data.sample(7, 13, 9, other);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.y, b.y);
  EXPECT_NE(a.y, other.y);
  EXPECT_EQ(a.size(), 9);
}

TEST(InContextTask, BaselinesFitTheirOwnDistributions) {
  // Pool of 5 noiseless tasks: on the train split (pool tasks) dmmse is exact after one example;
  // on every split least squares is exact from d examples on; ridge (lambda = sigma^2 = 0) is
  // least squares.
  const TaskData data = make_incontext_task(small_task(5));
  const Baselines* train = family_data<Baselines>(data.train.extra);
  const Baselines* test = family_data<Baselines>(data.test.extra);
  ASSERT_TRUE(train && test);
  ASSERT_EQ(train->baselines.size(), 4u);
  EXPECT_EQ(train->baselines[1].name, "dmmse");
  EXPECT_EQ(test->baselines[1].name, "dmmse");
  Predictions p;
  p.outputs = data.train.y;  // a perfect model
  MetricValues row;
  incontext_metrics(p, data.train, "train", row);
  auto v = columns(row);
  EXPECT_EQ(v.at("train_mse"), 0.0);
  EXPECT_GE(v.at("train_ridge_match"), 0.5);  // exact from query d + 1 = 4 of 6 on
  for (int k = 2; k <= 6; ++k) EXPECT_NEAR(v.at("train_dmmse_err." + std::to_string(k)), 0, 1e-20);
  for (int k = 4; k <= 6; ++k) {
    EXPECT_NEAR(v.at("train_least_squares_err." + std::to_string(k)), 0, 1e-18);
    EXPECT_NEAR(v.at("train_ridge_err." + std::to_string(k)), 0, 1e-18);
  }
  EXPECT_GT(v.at("train_zero_mse"), 0.5);  // E y^2 = d = 3
  // On new tasks dmmse cannot be exact.
  p.outputs = data.test.y;
  row.clear();
  incontext_metrics(p, data.test, "test", row);
  EXPECT_GT(columns(row).at("test_dmmse_mse"), 0.1);
}

TEST(InContextMeasure, ColumnsCompareTheModelWithEachBaseline) {
  Dataset d;
  d.outputs = 2;
  d.y = {1, 2, 3, 4};  // [N = 2, K = 2]
  Baselines& b = own_family_data<Baselines>(d.extra);
  b.baselines = {{"ridge", {1, 2, 3, 5}}, {"zero", {0, 0, 0, 0}}};
  b.match_tolerance = 0.5;
  Predictions p;
  p.outputs = {1, 2, 3, 4.2};
  MetricValues row;
  incontext_metrics(p, d, "test", row);
  const std::vector<std::string> order = {"test_mse",        "test_dist_ridge",  "test_ridge_match",
                                          "test_ridge_mse",  "test_zero_mse",    "test_err.1",
                                          "test_err.2",      "test_ridge_err.1", "test_ridge_err.2",
                                          "test_zero_err.1", "test_zero_err.2"};
  ASSERT_EQ(row.size(), order.size());
  for (size_t j = 0; j < order.size(); ++j) EXPECT_EQ(row[j].first, order[j]);
  const auto v = columns(row);
  EXPECT_NEAR(v.at("test_mse"), 0.04 / 4, 1e-12);
  EXPECT_NEAR(v.at("test_err.2"), 0.04 / 2, 1e-12);
  EXPECT_NEAR(v.at("test_dist_ridge"), 0.64 / 4, 1e-12);
  EXPECT_EQ(v.at("test_ridge_match"), 0.75);  // |4.2 - 5| > 0.5
  EXPECT_EQ(v.at("test_ridge_mse"), 0.25);
  EXPECT_EQ(v.at("test_zero_err.1"), 5.0);  // (1 + 9) / 2
}

TEST(InContextTask, BadSettingsNameTheKey) {
  const auto message = [](InContextTaskConfig c) {
    try {
      validate(c);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  InContextTaskConfig c = small_task(0);
  c.dim = 0;
  EXPECT_NE(message(c).find("task.dim = 0"), std::string::npos);
  c = small_task(-1);
  EXPECT_NE(message(c).find("task.n_pool = -1"), std::string::npos);
  c = small_task(0), c.noise = -1;
  EXPECT_NE(message(c).find("task.noise = -1"), std::string::npos);
  c = small_task(0), c.n_context = 0;
  EXPECT_NE(message(c).find("task.n_context = 0"), std::string::npos);
}

// The transformer on real tokens: query i's prediction depends on the pairs before it and on x_i
// alone.
TEST(InContextTransformer, PredictionsSeeOnlyEarlierPairsAndTheirOwnX) {
  const TaskData data = make_incontext_task(small_task(0));
  const Dataset& d = data.test;
  ModelConfig c;
  c.n_layers = 2, c.d_model = 16, c.n_heads = 2, c.d_mlp = 32, c.norm = NormPlacement::pre;
  c.activation = Activation::gelu;
  ModelShape s{0, 0, d.length, d.features, d.outputs, 0, d.outputs};
  auto model = make_model<double>(c, s, 4);
  EXPECT_EQ(model->params().value(model->params().index("embed.W_E")).shape[0], 4);  // d + 1
  EXPECT_EQ(model->params().value(model->params().index("unembed.W_U")).shape[1], 1);
  Arena arena;
  Tape<double> t(arena);
  const int64_t K = d.outputs, F = d.features, W = F / d.length;
  auto predict = [&](const std::vector<double>& x) {
    Dataset one = d;
    one.x.assign(x.begin(), x.begin() + F);
    one.y.assign(d.y.begin(), d.y.begin() + K);
    t.reset();
    const Examples e = all_examples(one);
    const Tensor<double> out = t.value(model_outputs(t, *model, one, e));
    EXPECT_EQ(out.shape[0], 1);
    EXPECT_EQ(out.shape[1], K);
    return std::vector<double>(out.data, out.data + K);
  };
  const std::vector<double> base = predict(d.x);
  for (int64_t i = 0; i < K; ++i) {
    std::vector<double> x = d.x;
    for (int64_t j = (2 * i + 1) * W; j < F; ++j) x[j] += 1.5;  // y_i and everything after
    const std::vector<double> changed = predict(x);
    for (int64_t q = 0; q < K; ++q) {
      if (q <= i) {
        EXPECT_EQ(changed[q], base[q]) << "query " << q << " saw position >= " << 2 * i + 1;
      } else {
        EXPECT_NE(changed[q], base[q]) << "query " << q;
      }
    }
  }
}

}  // namespace
}  // namespace gradscope
