// End-to-end tests of the emergence experiments: small, fast variants of the examples. Sparse
// parity drops abruptly after its hidden progress moved; multitask subtasks drop at different
// steps beside a smoother mean; a 2-layer attention-only model forms induction heads and a
// 1-layer one does not; fresh-sample runs resume exactly; bad input is one line and exit 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "cli_fixture.h"

using namespace gradscope_it;

namespace {

TEST_F(Cli, ParityDropsAbruptlyAfterTheRelevantShareMoves) {
  const fs::path out = dir_ / "parity";
  const Result r =
      run("run " + kExamples + "parity-n20-k3.toml train.steps=4000 --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("drop at step"), std::string::npos) << r.out;
  const auto s = summary(out);
  const auto& loss = s["phase_changes"]["test_loss"];
  const auto& share = s["phase_changes"]["relevant_share"];
  ASSERT_TRUE(loss["step"].is_number()) << loss;
  EXPECT_NEAR(loss["from"].get<double>(), 1.0, 0.1);  // the hinge loss at chance
  EXPECT_LT(loss["to"].get<double>(), 0.05);
  EXPECT_TRUE(loss["abrupt"].get<bool>()) << loss;
  EXPECT_GT(loss["onset_step"].get<int64_t>(), 500);  // a plateau first
  EXPECT_LT(share["onset_step"].get<int64_t>(), loss["onset_step"].get<int64_t>()) << s;
  EXPECT_GE(s["final"]["test_acc"].get<double>(), 0.99);
  EXPECT_NEAR(share["from"].get<double>(), 3.0 / 20, 0.01);  // k / n at the start
  const Result p = run("plot " + out.string());
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_NE(slurp(out / "hidden_progress.svg").find("relevant-weight share"), std::string::npos);
  const Result show = run("show " + out.string());
  EXPECT_NE(show.out.find("relevant_share"), std::string::npos) << show.out;
}

TEST_F(Cli, MultitaskSubtasksDropAtDifferentStepsBesideASmootherMean) {
  const fs::path out = dir_ / "multitask";
  const Result r = run("run " + kExamples +
                       "multitask-parity.toml task.n_tasks=4 task.n_bits=12 train.steps=6000 "
                       "train.log_every=100 --out " +
                       out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto pc = summary(out)["phase_changes"];
  double widest_subtask = 0;
  std::vector<int64_t> steps;
  for (int i = 0; i < 4; ++i) {
    const auto& sub = pc["subtask." + std::to_string(i) + ".test_loss"];
    ASSERT_TRUE(sub["step"].is_number()) << i << " " << sub;
    steps.push_back(sub["step"].get<int64_t>());
    widest_subtask = std::max(widest_subtask, sub["width_decades"].get<double>());
  }
  EXPECT_LT(steps.front(), steps.back());  // the most frequent subtask first
  EXPECT_GT(pc["test_loss"]["width_decades"].get<double>(), widest_subtask) << pc;
  ASSERT_EQ(run("plot " + out.string()).code, 0);
  EXPECT_TRUE(fs::exists(out / "subtasks.svg"));
}

TEST_F(Cli, FreshSampleRunResumesExactly) {
  const std::string config =
      kExamples +
      "parity-n20-k3.toml task.n_test=100 train.steps=1500 train.log_every=1 "
      "train.checkpoint_every=50";
  const fs::path whole = dir_ / "whole", killed = dir_ / "killed";
  ASSERT_EQ(run("run " + config + " --out " + whole.string()).code, 0);
  ASSERT_TRUE(run_and_kill(config, killed, 700)) << "the run finished before it could be killed";
  const Result resumed = run("run --resume " + killed.string());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(slurp(killed / "metrics.jsonl"), slurp(whole / "metrics.jsonl"));
}

TEST_F(Cli, EmergenceBadInput) {
  const fs::path out = dir_ / "bad";
  std::vector<BadCase> cases = {
      {"parity-n20-k3.toml task.k=21", "task.k = 21 is larger than task.n_bits = 20"},
      {"multitask-parity.toml task.n_tasks=0", "task.n_tasks = 0"},
      {"induction-2layer.toml task.segment_len=40", "task.segment_len = 40"},
      {"induction-2layer.toml task.vocab=1", "task.vocab = 1"},
      {"parity-n20-k3.toml train.loss=squared", "train.loss = \"squared\""},
      {"parity-n20-k3.toml model.mlp_form=pair", "model.mlp_form = \"pair\""},
  };
  for (BadCase& c : cases) c.args = "run " + kExamples + c.args;
  expect_bad_input(cases, out);
}

}  // namespace
