// The Fourier probe through the executable (probe.fourier = true): fourier/ files and metric
// columns at the probe steps, key frequencies in the summary, restricted loss far below test loss
// while excluded loss rises, the phases and plots, exact resume of the files after SIGKILL, and
// bad settings refused with one line. (The Gini coefficient's rise and the restricted loss's lead
// are claims: claims/nanda.toml, run by reproduce.ci.nanda.)
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

// The values of `key` at the rows that have it, as (step, value).
std::vector<std::pair<double, double>> column(const fs::path& run, const std::string& key) {
  std::vector<std::pair<double, double>> out;
  std::istringstream in(slurp(run / "metrics.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const auto r = nlohmann::json::parse(line);
    if (r[key].is_number()) out.emplace_back(r["step"].get<double>(), r[key].get<double>());
  }
  return out;
}

// One run of the small MLP with every Fourier measure; the direction of the paper's claims (the
// Gini coefficient rising several-fold, restricted loss below 0.1 before test loss) is checked as
// claims (claims/nanda.toml, reproduce.ci.nanda), the files, columns, phases and plots here.
TEST_F(Cli, FourierMeasuresOfAGrokkingMlpFillTheirFilesPhasesAndPlots) {
  const fs::path out = dir_ / "restricted";
  ASSERT_EQ(
      run("run " + kSmall + " probe.restricted_loss=true probe.every=100 --out " + out.string())
          .code,
      0);
  for (const char* f : {"steps.npy", "W_E.npy", "W_L.npy"})
    EXPECT_TRUE(fs::exists(out / "fourier" / f)) << f;
  const auto gini = column(out, "fourier.W_E.gini");
  ASSERT_EQ(gini.size(), 41u);
  EXPECT_LT(gini.front().second, 0.1);  // a random embedding: spread out
  const auto restricted = column(out, "fourier.restricted_loss");
  const auto excluded = column(out, "fourier.excluded_loss_train");
  const auto train = column(out, "train_loss"), test = column(out, "test_loss");
  ASSERT_EQ(restricted.size(), 41u);  // every 100 steps of 4000, and step 0
  ASSERT_EQ(column(out, "fourier.restricted_loss_train").size(), 41u);
  // Step 0: nothing learned, every loss near ln 31 (restricted and excluded split one model).
  EXPECT_NEAR(restricted[0].second, std::log(31.0), 0.3);
  EXPECT_NEAR(excluded[0].second, std::log(31.0), 0.3);
  // Step 1000: restricted loss two orders of magnitude below test loss; excluded loss on train
  // far above the train loss (the model fits train through the key frequencies).
  const auto at = [](const std::vector<std::pair<double, double>>& c, double step) -> double {
    for (const auto& [s, v] : c)
      if (s == step) return v;
    return NAN;
  };
  EXPECT_LT(at(restricted, 1000), at(test, 1000) / 100);
  EXPECT_GT(at(excluded, 1000), 1000 * at(train, 1000));
  EXPECT_GT(excluded.back().second, 1.0);  // the key frequencies carry the fit at the end
  const auto s = summary(out);
  const auto keys = s["fourier"]["key_frequencies"]["W_E"];
  EXPECT_GE(keys.size(), 2u);
  EXPECT_LE(keys.size(), 10u);  // of 15 frequencies for p = 31
  EXPECT_EQ(s["fourier"]["key_frequencies"]["W_L"].size(), keys.size()) << s["fourier"].dump();
  const auto& ph = s["fourier"]["phases"];
  ASSERT_TRUE(ph.is_object()) << s["fourier"].dump();
  EXPECT_EQ(ph["memorization"]["start"], 0);
  EXPECT_EQ(ph["memorization"]["end"], ph["circuit_formation"]["start"]);
  EXPECT_EQ(ph["circuit_formation"]["end"], ph["cleanup"]["start"]);
  ASSERT_TRUE(ph["cleanup"]["start"].is_number()) << ph.dump();
  EXPECT_LE(ph["cleanup"]["start"].get<int64_t>(), s["generalized_step"].get<int64_t>());
  const Result plot = run("plot " + out.string());
  ASSERT_EQ(plot.code, 0) << plot.err;
  for (const char* f : {"fourier.svg", "progress.svg"}) {
    const std::string svg = slurp(out / f);
    EXPECT_NE(svg.find("</svg>"), std::string::npos) << f;
  }
  EXPECT_NE(slurp(out / "progress.svg").find("circuit formation"), std::string::npos);
  EXPECT_NE(slurp(out / "fourier.svg").find("Fourier norms of W_L"), std::string::npos);
}

TEST_F(Cli, FixedKeyFrequenciesGiveTheSameRunWithOtherLosses) {
  // probe.key_frequencies fixes the keys of the losses (the paper's procedure: the final run's
  // keys over the whole trajectory); training itself is untouched.
  const std::string config = kSmall + " train.steps=600 probe.restricted_loss=true";
  const fs::path a = dir_ / "per-step", b = dir_ / "fixed";
  ASSERT_EQ(run("run " + config + " --out " + a.string()).code, 0);
  ASSERT_EQ(run("run " + config + " probe.key_frequencies=[3,4] --out " + b.string()).code, 0);
  EXPECT_EQ(column(a, "test_loss"), column(b, "test_loss"));
  EXPECT_NE(column(a, "fourier.restricted_loss"), column(b, "fourier.restricted_loss"));
}

TEST_F(Cli, FourierFilesResumeExactlyAfterSigkill) {
  const std::string config =
      kSmall +
      " train.steps=1500 train.log_every=10 train.checkpoint_every=50 probe.restricted_loss=true";
  const fs::path whole = dir_ / "whole", killed = dir_ / "killed";
  ASSERT_EQ(run("run " + config + " --out " + whole.string()).code, 0);
  ASSERT_TRUE(run_and_kill(config, killed, 80)) << "the run finished before it could be killed";
  const int64_t newest = keep_only_newest_checkpoint(killed);  // it can only resume
  ASSERT_GT(newest, 0);
  ASSERT_EQ(run("run --resume " + killed.string()).code, 0);
  EXPECT_EQ(resumed_from(killed, newest), "");
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
      {"run " + kSmall + " task.op=a*b probe.restricted_loss=true",
       "probe.restricted_loss = true needs task.op = \"a+b\" or \"a-b\""},
      {"run " + kSmall + " probe.fourier=false probe.restricted_loss=true",
       "needs probe.fourier = true"},
      {"run " + kSmall + " probe.restricted_loss=true probe.key_frequencies=[3,16]",
       "probe.key_frequencies has 16 (valid: 1..15"},
      {"run " + kSmall + " probe.restricted_loss=true probe.key_frequencies=[2.5]",
       "probe.key_frequencies has 2.5"},
  };
  expect_bad_input(cases, dir_ / "bad");
}

}  // namespace
