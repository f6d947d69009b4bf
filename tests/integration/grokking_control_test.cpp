// Grokfast's gradient filters and Omnigrok's fixed weight norm through the executable: a filtered
// run killed with SIGKILL resumes bit-identically (the filter's buffers are in the checkpoint),
// the filter changes training but the logged grad_norm stays the raw gradient's, the weight norm
// stays where it is fixed, and bad settings are one line, exit 2. Omnigrok's published effect is a
// claim (claims/omnigrok.toml), checked at its ci budget by the reproduce.ci tests.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_fixture.h"

namespace fs = std::filesystem;
using namespace gradscope_it;

namespace {

const std::string kSmall = kExamples + "grok-mlp-small.toml";

TEST_F(Cli, GrokfastRunsResumeBitIdenticallyAfterSigkill) {
  for (const std::string filter : {"optim.grad_filter=ema optim.filter_alpha=0.9",
                                   "optim.grad_filter=ma optim.filter_window=30"}) {
    const std::string config =
        kSmall + " " + filter + " train.steps=1200 train.log_every=10 train.checkpoint_every=50";
    const fs::path whole = dir_ / "whole", killed = dir_ / "killed";
    fs::remove_all(whole), fs::remove_all(killed);
    ASSERT_EQ(run("run " + config + " --out " + whole.string()).code, 0) << filter;
    ASSERT_TRUE(run_and_kill(config, killed, 60)) << "finished before it was killed: " << filter;
    const int64_t newest = keep_only_newest_checkpoint(killed);  // it can only resume
    ASSERT_GT(newest, 0);
    const Result resumed = run("run --resume " + killed.string());
    ASSERT_EQ(resumed.code, 0) << resumed.err;
    EXPECT_EQ(resumed_from(killed, newest), "");
    EXPECT_EQ(slurp(killed / "metrics.jsonl"), slurp(whole / "metrics.jsonl")) << filter;
  }
}

TEST_F(Cli, GrokfastChangesTrainingAndLogsTheRawGradientNorm) {
  const std::string config = kSmall + " train.steps=200 train.log_every=1 probe.spectra=false";
  const fs::path plain = dir_ / "plain", ema = dir_ / "ema";
  ASSERT_EQ(run("run " + config + " --out " + plain.string()).code, 0);
  ASSERT_EQ(run("run " + config + " optim.grad_filter=ema --out " + ema.string()).code, 0);
  const auto a = rows(plain), b = rows(ema);
  ASSERT_EQ(a.size(), b.size());
  // Step 0: the same parameters, so the same raw gradient: the filtered one would be 3x larger
  // (g + 2 g at the first step).
  EXPECT_EQ(a[0]["grad_norm"], b[0]["grad_norm"]);
  EXPECT_EQ(a[1]["train_loss"] != b[1]["train_loss"], true);
  // The filter's effect: with lambda 2 the slow component makes steps larger early on.
  EXPECT_GT(std::abs(a[50]["train_loss"].get<double>() - b[50]["train_loss"].get<double>()), 1e-4);
}

TEST_F(Cli, WeightNormIsHeldAfterEveryUpdate) {
  const fs::path out = dir_ / "norm";
  ASSERT_EQ(run("run " + kSmall +
                " train.steps=300 train.log_every=25 optim.weight_norm=40 optim.weight_decay=0 "
                "--out " +
                out.string())
                .code,
            0);
  const auto r = rows(out);
  EXPECT_GT(std::abs(r[0]["weight_norm"].get<double>() - 40), 1);  // the init is not rescaled
  for (size_t i = 1; i < r.size(); ++i)
    EXPECT_NEAR(r[i]["weight_norm"].get<double>(), 40.0, 40.0 * 1e-5) << r[i]["step"];
}

TEST_F(Cli, BadGrokfastAndWeightNormSettingsAreRefused) {
  const std::vector<BadCase> cases = {
      {"run " + kSmall + " optim.grad_filter=ema optim.filter_alpha=1", "optim.filter_alpha = 1"},
      {"run " + kSmall + " optim.grad_filter=ma optim.filter_window=0", "optim.filter_window = 0"},
      {"run " + kSmall + " optim.grad_filter=fast", "optim.grad_filter = \"fast\""},
      {"run " + kSmall + " optim.weight_norm=-1", "optim.weight_norm = -1"},
  };
  expect_bad_input(cases, dir_ / "bad");
}

}  // namespace
