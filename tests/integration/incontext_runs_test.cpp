// End-to-end tests of in-context regression: small, fast variants of examples/icl-*.toml. A
// transformer trained on fresh tasks learns to use its context (later queries better than the
// first, far better than the zero predictor) without beating ridge, the Bayes-optimal estimator
// (a model that saw its own target would); trained on a pool of two tasks it tracks dmmse on the
// pool; a killed run resumes exactly; bad input is one line and exit 2.
#include <gtest/gtest.h>

#include <string>

#include "cli_fixture.h"

using namespace gradscope_it;

namespace {

// icl-fresh-tasks.toml cut down: d = 2, 6 pairs, a 2-layer width-16 model, 1,500 steps.
const std::string kSmall =
    kExamples +
    "icl-fresh-tasks.toml task.dim=2 task.n_context=6 task.n_test=512 model.n_layers=2 "
    "model.d_model=16 model.d_mlp=64 optim.warmup_steps=100 train.steps=1500 "
    "train.log_every=100";

TEST_F(Cli, InContextRegressionUsesTheContextAndNeverBeatsRidge) {
  const fs::path out = dir_ / "fresh";
  const Result r = run("run " + kSmall + " --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("distance to ridge"), std::string::npos) << r.out;
  const auto f = summary(out)["final"];
  const double mse = f["test_mse"].get<double>(), ridge = f["test_ridge_mse"].get<double>();
  EXPECT_LT(mse, 0.7 * f["test_zero_mse"].get<double>()) << f;
  EXPECT_LT(f["test_err.6"].get<double>(), 0.5 * f["test_err.1"].get<double>()) << f;
  // Ridge is the posterior mean: no predictor of y_k from the earlier pairs does better, beyond
  // the sampling noise of 512 sequences.
  EXPECT_GT(mse, 0.97 * ridge) << f;
  EXPECT_LT(f["test_dist_ridge"].get<double>(), f["test_zero_mse"].get<double>() - ridge) << f;
  // Least squares is exact once it has d noisy pairs, and so worse than ridge there.
  EXPECT_GT(f["test_least_squares_err.3"].get<double>(), f["test_ridge_err.3"].get<double>());
  ASSERT_EQ(run("plot " + out.string()).code, 0);
  EXPECT_NE(slurp(out / "incontext.svg").find("new tasks: squared error per query"),
            std::string::npos);
}

TEST_F(Cli, OnAPoolOfTwoTasksTheModelTracksDmmse) {
  const fs::path out = dir_ / "pool";
  const Result r = run("run " + kSmall + " task.n_pool=2 --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto f = summary(out)["final"];
  // On the pool's tasks the model is far closer to dmmse than to ridge; on new tasks dmmse (and
  // with it the model) is worse than ridge.
  EXPECT_LT(f["train_dist_dmmse"].get<double>(), 0.5 * f["train_dist_ridge"].get<double>()) << f;
  EXPECT_GT(f["test_dmmse_mse"].get<double>(), f["test_ridge_mse"].get<double>()) << f;
  EXPECT_GT(f["test_mse"].get<double>(), f["test_ridge_mse"].get<double>()) << f;
}

TEST_F(Cli, InContextRunResumesExactly) {
  const std::string config =
      kSmall + " train.steps=600 train.log_every=1 train.checkpoint_every=50 task.n_test=64";
  const fs::path whole = dir_ / "whole", killed = dir_ / "killed";
  ASSERT_EQ(run("run " + config + " --out " + whole.string()).code, 0);
  ASSERT_TRUE(run_and_kill(config, killed, 300)) << "the run finished before it could be killed";
  const Result resumed = run("run --resume " + killed.string());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(slurp(killed / "metrics.jsonl"), slurp(whole / "metrics.jsonl"));
}

TEST_F(Cli, InContextBadInput) {
  const std::string file = kExamples + "icl-fresh-tasks.toml ";
  std::vector<BadCase> cases = {
      {"run " + file + "task.dim=0", "task.dim = 0"},
      {"run " + file + "task.n_pool=-4", "task.n_pool = -4"},
      {"run " + file + "task.noise=-1", "task.noise = -1"},
      {"run " + file + "task.match_tolerance=0", "task.match_tolerance = 0"},
      {"run " + file + "train.batch_size=0", "train.batch_size = 0"},
      {"run " + file + "model.type=mlp", "model.type"},
      {"run " + file + "model.tied_unembed=true", "model.tied_unembed = true"},
  };
  expect_bad_input(cases, dir_ / "bad");
}

}  // namespace
