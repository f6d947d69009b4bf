// End-to-end tests of the emergence experiments: small, fast variants of the examples. Sparse
// parity logs, summarizes and plots its drop and hidden progress (that the drop is abrupt and
// the hidden progress first: claims/sparse-parity.toml); multitask runs log and plot every
// subtask (their published behaviour: claims/multitask-parity.toml); fresh-sample runs resume
// exactly; bad input is one line and exit 2. (Induction heads: claims/induction-heads.toml and
// tests/slow.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "cli_fixture.h"

using namespace gradscope_it;

namespace {

// That the drop is abrupt and the relevant share moves first are claims
// (claims/sparse-parity.toml, reproduce.ci); here the run's summary, plot and show.
TEST_F(Cli, ParityRunSummarizesAndPlotsItsDropAndHiddenProgress) {
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
  EXPECT_GT(loss["onset_step"].get<int64_t>(), 500);  // a plateau first
  EXPECT_GE(s["final"]["test_acc"].get<double>(), 0.99);
  EXPECT_NEAR(share["from"].get<double>(), 3.0 / 20, 0.01);  // k / n at the start
  const Result p = run("plot " + out.string());
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_NE(slurp(out / "hidden_progress.svg").find("relevant-weight share"), std::string::npos);
  const Result show = run("show " + out.string());
  EXPECT_NE(show.out.find("relevant_share"), std::string::npos) << show.out;
}

// Which subtask drops first and how smooth the mean is are claims (claims/multitask-parity.toml,
// reproduce.ci); here a short run logs every subtask's columns and draws them.
TEST_F(Cli, MultitaskRunLogsAndPlotsEverySubtask) {
  const fs::path out = dir_ / "multitask";
  const Result r = run("run " + kExamples +
                       "multitask-parity.toml task.n_tasks=4 task.n_bits=12 train.steps=300 "
                       "train.log_every=100 --out " +
                       out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto f = summary(out)["final"];
  for (int i = 0; i < 4; ++i)
    for (const char* c : {".test_loss", ".test_acc"})
      EXPECT_TRUE(f["subtask." + std::to_string(i) + c].is_number()) << i << c << f;
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
  const int64_t newest = keep_only_newest_checkpoint(killed);  // it can only resume
  ASSERT_GT(newest, 0);
  const Result resumed = run("run --resume " + killed.string());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(resumed_from(killed, newest), "");
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
