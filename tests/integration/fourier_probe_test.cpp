// The Fourier probe through the executable (probe.fourier = true): fourier/ files and metric
// columns at the probe steps, the embedding's Fourier norms concentrating as a modular-addition
// MLP groks (Gini rising), key frequencies in the summary, exact resume of the files after SIGKILL,
// and bad settings refused with one line.
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

const std::string kSmall = kExamples + "grok-mlp-small.toml probe.fourier=true";

TEST_F(Cli, FourierNormsConcentrateAsTheMlpGroks) {
  const fs::path out = dir_ / "four";
  ASSERT_EQ(run("run " + kSmall + " --out " + out.string()).code, 0);
  for (const char* f : {"steps.npy", "W_E.npy", "W_L.npy"})
    EXPECT_TRUE(fs::exists(out / "fourier" / f)) << f;
  std::vector<double> gini;
  std::istringstream in(slurp(out / "metrics.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const auto r = nlohmann::json::parse(line);
    if (r["fourier.W_E.gini"].is_number()) gini.push_back(r["fourier.W_E.gini"].get<double>());
  }
  ASSERT_GE(gini.size(), 20u);
  EXPECT_LT(gini.front(), 0.1);              // a random embedding: spread out
  EXPECT_GT(gini.back(), 3 * gini.front());  // the generalizing one: a few frequencies
  const auto s = summary(out);
  const auto keys = s["fourier"]["key_frequencies"]["W_E"];
  EXPECT_GE(keys.size(), 2u);
  EXPECT_LE(keys.size(), 10u);  // of 15 frequencies for p = 31
  EXPECT_EQ(s["fourier"]["key_frequencies"]["W_L"].size(), keys.size()) << s["fourier"].dump();
}

TEST_F(Cli, FourierFilesResumeExactlyAfterSigkill) {
  const std::string config =
      kSmall + " train.steps=1500 train.log_every=10 train.checkpoint_every=50";
  const fs::path whole = dir_ / "whole", killed = dir_ / "killed";
  ASSERT_EQ(run("run " + config + " --out " + whole.string()).code, 0);
  ASSERT_TRUE(run_and_kill(config, killed, 80)) << "the run finished before it could be killed";
  ASSERT_EQ(run("run --resume " + killed.string()).code, 0);
  EXPECT_EQ(slurp(killed / "metrics.jsonl"), slurp(whole / "metrics.jsonl"));
  for (const char* f : {"steps.npy", "W_E.npy", "W_L.npy"})
    EXPECT_EQ(slurp(killed / "fourier" / f), slurp(whole / "fourier" / f)) << f;
}

TEST_F(Cli, BadFourierSettingsAreRefused) {
  const std::vector<BadCase> cases = {
      {"run " + kExamples + "parity-n20-k3.toml probe.fourier=true",
       "needs task.name = \"modular\""},
      {"run " + kSmall + " task.p=32", "odd modulus"},
      {"run " + kSmall + " probe.key_freq_threshold=0", "probe.key_freq_threshold = 0"},
  };
  expect_bad_input(cases, dir_ / "bad");
}

}  // namespace
