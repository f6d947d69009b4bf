// End-to-end tests of in-context regression: small, fast variants of examples/icl-*.toml. A run
// prints and plots its baselines, a killed run resumes exactly, bad input is one line and exit 2.
// What a trained model does (claims/in-context-regression.toml) is checked by the reproduce.ci
// tests.
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

// What the trained model does (uses its context, never beats ridge, tracks dmmse on a pool of two)
// is claims/in-context-regression.toml's, checked at its ci budget by reproduce.ci. Here: the run
// prints its distance to ridge and draws its per-query errors.
TEST_F(Cli, InContextRunPrintsAndPlotsItsBaselines) {
  const fs::path out = dir_ / "fresh";
  const Result r = run("run " + kSmall + " train.steps=200 --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("distance to ridge"), std::string::npos) << r.out;
  const auto f = summary(out)["final"];
  for (const char* column : {"test_err.6", "test_ridge_err.3", "test_dist_ridge", "test_zero_mse"})
    EXPECT_TRUE(f[column].is_number()) << column << f;
  ASSERT_EQ(run("plot " + out.string()).code, 0);
  EXPECT_NE(slurp(out / "incontext.svg").find("new tasks: squared error per query"),
            std::string::npos);
}

TEST_F(Cli, InContextRunResumesExactly) {
  const std::string config =
      kSmall + " train.steps=600 train.log_every=1 train.checkpoint_every=50 task.n_test=64";
  const fs::path whole = dir_ / "whole", killed = dir_ / "killed";
  ASSERT_EQ(run("run " + config + " --out " + whole.string()).code, 0);
  ASSERT_TRUE(run_and_kill(config, killed, 300)) << "the run finished before it could be killed";
  const int64_t newest = keep_only_newest_checkpoint(killed);  // it can only resume
  ASSERT_GT(newest, 0);
  const Result resumed = run("run --resume " + killed.string());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(resumed_from(killed, newest), "");
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
