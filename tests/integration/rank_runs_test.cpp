// End-to-end tests of the rank-dynamics experiments (REFERENCES 2): the diagonal network's
// stages against the prediction, Saxe's closed form, the diagonal attention head's staircase,
// the theory command, the rank plots, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "cli_fixture.h"

namespace {

using namespace gradscope_it;

// Sum over jumps of |observed - predicted| rescaled time (spectral half-value crossings).
double stage_gap(const nlohmann::json& s) {
  const auto& obs = s["theory"]["observed"]["spectral_jump_times"];
  const auto& pred = s["theory"]["prediction"]["jump_times"];
  EXPECT_EQ(obs.size(), pred.size()) << s["theory"].dump();
  double gap = 0;
  for (size_t k = 0; k < std::min(obs.size(), pred.size()); ++k)
    gap += std::abs(obs[k].get<double>() - pred[k].get<double>());
  return gap;
}

TEST_F(Cli, DiagonalStagesApproachThePredictionAsAlphaFalls) {
  const fs::path big = dir_ / "a2", small = dir_ / "a8";
  ASSERT_EQ(
      run("run " + kExamples + "diag-stages.toml model.init_scale=1e-2 --out " + big.string()).code,
      0);
  const Result r =
      run("run " + kExamples + "diag-stages.toml model.init_scale=1e-8 --out " + small.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto s = summary(small);
  const auto& pred = s["theory"]["prediction"]["jump_times"];
  ASSERT_EQ(pred.size(), 4u);
  const double want[] = {1.0 / 3, 0.5, 1.0, 2.0};
  const auto& obs = s["theory"]["observed"]["spectral_jump_times"];
  ASSERT_GE(obs.size(), 4u) << obs.dump();
  ASSERT_GE(s["theory"]["observed"]["loss_jump_times"].size(), 4u);
  for (int k = 0; k < 4; ++k) {
    EXPECT_NEAR(pred[k].get<double>(), want[k], 1e-6);
    EXPECT_NEAR(obs[k].get<double>(), want[k], 0.25 * want[k]) << obs.dump();
    // The loss falls at the same times as the rank grows.
    const double loss_t = s["theory"]["observed"]["loss_jump_times"][k].get<double>();
    EXPECT_NEAR(loss_t, obs[k].get<double>(), 0.1 * obs[k].get<double>());
  }
  EXPECT_LT(stage_gap(s), 0.6 * stage_gap(summary(big)));
  // The run directory: theory.json, spectra of the end-to-end matrix, rescaled time.
  EXPECT_TRUE(fs::exists(small / "theory.json"));
  EXPECT_TRUE(fs::exists(small / "spectra/steps.npy"));
  EXPECT_TRUE(fs::exists(small / "spectra/end_to_end.npy"));
  EXPECT_NE(slurp(small / "metrics.jsonl").find("\"rescaled_time\""), std::string::npos);
  EXPECT_EQ(s["final"]["spectra.end_to_end.numerical_rank"].get<double>(), 4);
  const Result plot = run("plot " + small.string());
  EXPECT_EQ(plot.code, 0) << plot.err;
  for (const char* f :
       {"curves.svg", "spectra.svg", "normalized_spectra.svg", "stable_rank.svg", "staircase.svg"})
    EXPECT_TRUE(fs::exists(small / f)) << f;
}

TEST_F(Cli, DeepLinearModesFollowSaxesClosedForm) {
  const fs::path out = dir_ / "saxe";
  const Result r = run("run " + kExamples + "saxe-deep-linear.toml --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto modes = summary(out)["theory"]["observed"]["modes"];
  ASSERT_EQ(modes.size(), 4u);
  for (const auto& m : modes) {
    EXPECT_LT(m["max_relative_deviation"].get<double>(), 0.05) << m.dump();
    EXPECT_NEAR(m["observed_half_step"].get<double>(), m["predicted_half_step"].get<double>(),
                0.02 * m["predicted_half_step"].get<double>());
  }
  EXPECT_EQ(run("plot " + out.string()).code, 0);
  EXPECT_TRUE(fs::exists(out / "modes.svg"));
}

TEST_F(Cli, DiagonalAttentionLossDropsWithRankIncrements) {
  const fs::path out = dir_ / "attn";
  const Result r = run("run " + kExamples + "diag-attention.toml --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto s = summary(out);
  const auto& obs = s["theory"]["observed"];
  const auto& loss = obs["loss_jump_times"];
  const auto& spectral = obs["spectral_jump_times"];
  ASSERT_EQ(spectral.size(), s["theory"]["prediction"]["jump_times"].size()) << obs.dump();
  ASSERT_GE(spectral.size(), 4u);
  for (size_t k = 0; k < spectral.size(); ++k) {
    ASSERT_TRUE(loss[k].is_number()) << obs.dump();
    EXPECT_NEAR(loss[k].get<double>(), spectral[k].get<double>(), 0.1 * spectral[k].get<double>())
        << k;
  }
  // Both head products gained rank.
  EXPECT_GE(s["final"]["spectra.attn.QK.numerical_rank"].get<double>(), 2);
  EXPECT_GE(s["final"]["spectra.attn.VO.numerical_rank"].get<double>(), 3);
}

TEST_F(Cli, TheoryCommandPrintsAndWritesThePrediction) {
  const fs::path out = dir_ / "p.json";
  const Result r = run("theory " + kExamples + "diag-stages.toml --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("jump 1 at rescaled time 0.3333"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("jump 4 at rescaled time 2.0000"), std::string::npos) << r.out;
  const auto p = nlohmann::json::parse(slurp(out));
  EXPECT_EQ(p["kind"], "stages");
  EXPECT_EQ(p["coordinates"][0], "w[0]");
  // No theory for a grokking transformer: said plainly, exit 1.
  const Result none = run("theory " + kExamples + "nanda-grokking.toml --out " + out.string());
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.out.find("no prediction"), std::string::npos) << none.out;
  // Nor where its assumptions fail: each says which, exit 1.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"saxe-deep-linear.toml model.depth=3 task.teacher_basis=random", "a decoupled start"},
      {"saxe-deep-linear.toml model.init_scale=0.8", "starts at u0 = 0.64, not inside (0, s/2"},
      {"saxe-deep-linear.toml task.inputs=gaussian", "assumes whitened inputs"},
      {"saxe-deep-linear.toml optim.decay=linear", "optim.decay = \"constant\""},
      {"saxe-deep-linear.toml optim.grad_filter=ema", "plain gradient descent"},
      {"saxe-deep-linear.toml optim.clip_norm=0.01", "plain gradient descent"},
      {"diag-stages.toml optim.lr=0", "optim.lr = 0"},
      {"diag-stages.toml model.depth=3", "a depth-2 diagonal network"},
  };
  for (const auto& [args, expect] : cases) {
    const Result r = run("theory " + kExamples + args + " --out " + out.string());
    EXPECT_EQ(r.code, 1) << args;
    EXPECT_NE(r.out.find(expect), std::string::npos) << args << "\n" << r.out;
  }
  // An --out that cannot take the file: one line, before anything is printed.
  const Result folder = run("theory " + kExamples + "diag-stages.toml --out " + dir_.string());
  EXPECT_EQ(folder.code, 2);
  EXPECT_NE(folder.err.find("cannot write the prediction there (is a folder)"), std::string::npos)
      << folder.err;
  EXPECT_EQ(folder.out, "");
}

TEST_F(Cli, RankExperimentBadInput) {
  const fs::path out = dir_ / "bad";
  std::vector<BadCase> cases = {
      {"diag-stages.toml probe.params=diag.u9", "no matrix named \"diag.u9\" (valid: end_to_end)"},
      {"nanda-rank.toml probe.params=W_Q", "blocks.0.attn.head0.QK"},
      {"diag-stages.toml model.init_scale=0", "model.init_scale = 0"},
      {"diag-stages.toml model.init_scale=-1e-3", "model.init_scale = -0.001"},
      {"diag-stages.toml task.dim=3", "task.dim = 3"},
      {"saxe-deep-linear.toml task.target=1,2,3,4,5,6,7", "task.dim = 6"},
      {"arora-completion.toml task.observed=10000", "task.observed = 10000"},
      {"arora-completion.toml task.rank=101", "task.rank = 101"},
      {"diag-stages.toml model.type=transformer", "does not fit task.name"},
      {"diag-stages.toml task.target=1,x", "task.target = 1,x"},
      {"diag-attention.toml task.inputs=whitened", "task.inputs = \"whitened\""},
  };
  for (BadCase& c : cases) c.args = "run " + kExamples + c.args;
  expect_bad_input(cases, out);
}

}  // namespace
