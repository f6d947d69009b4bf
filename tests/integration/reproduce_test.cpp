// `gradscope reproduce` through the executable: a claim file's runs go through the sweep
// machinery over seeds (a rerun skips them), each claim is judged on every seed and the verdicts
// land in the table and REPRODUCTIONS.md; a claim that does not hold exits 1; bad claim files
// are one line, exit 2, and nothing runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_fixture.h"

namespace fs = std::filesystem;
using namespace gradscope_it;

namespace {

// A claim file over saxe-deep-linear.toml (under a second a run): `claims` are its [[claim]]
// tables' bodies.
std::string claim_file(const std::string& claims, const std::string& runs_extra = "") {
  std::string text = "paper = \"Saxe et al. (2014)\"\n[runs.deep]\nexperiment = \"" + kExamples +
                     "saxe-deep-linear.toml\"\nci = { minutes = 0.01 }\n" + runs_extra;
  return text + claims;
}

const std::string kHolds =
    "[[claim]]\nid = \"on-time\"\nwhere = \"Eq. 9\"\nsays = \"u(t) = ...\"\npublished = \"1\"\n"
    "quantity = \"deep:summary.theory.observed.modes.0.observed_half_step / "
    "deep:summary.theory.observed.modes.0.predicted_half_step\"\n"
    "rule = \"in [0.95, 1.05]\"\nseeds = { ci = 2 }\n";
const std::string kFails =
    "[[claim]]\nid = \"too-strict\"\nwhere = \"Eq. 9\"\nsays = \"u(t) = ...\"\npublished = \"0\"\n"
    "quantity = \"deep:summary.theory.observed.modes.3.max_relative_deviation\"\n"
    "rule = \"< 1e-9\"\nseeds = { ci = 2 }\n";

class Reproduce : public Cli {
 protected:
  fs::path write_claims(const std::string& name, const std::string& text) {
    const fs::path folder = dir_ / "claims";
    fs::create_directories(folder);
    std::ofstream(folder / (name + ".toml")) << text;
    return folder;
  }
  std::string args(const fs::path& claims, const std::string& rest) {
    return "reproduce --claims " + claims.string() + " --root " + (dir_ / "results").string() +
           " " + rest;
  }
};

TEST_F(Reproduce, ClaimsRunOverSeedsAndAreJudged) {
  const fs::path claims = write_claims("saxe", claim_file(kHolds + kFails));
  const Result r = run(args(claims, "--all --budget ci"));
  EXPECT_EQ(r.code, 1) << r.err;  // one claim does not hold
  EXPECT_NE(r.out.find("saxe.on-time"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("holds"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("does not hold"), std::string::npos) << r.out;
  const std::string md = slurp(dir_ / "results" / "REPRODUCTIONS.md");
  EXPECT_NE(md.find("| saxe.on-time |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 2/2 | **holds** |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 0/2 | **does not hold** |"), std::string::npos) << md;
  EXPECT_NE(md.find("gradscope reproduce saxe.on-time --budget ci --seeds 2"), std::string::npos);
  // Two seeds of one sweep, indexed; a rerun runs nothing and judges the same.
  int runs = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "results"))
    if (e.is_directory())
      for (const auto& run : fs::directory_iterator(e.path()))
        runs += fs::exists(run.path() / "summary.json");
  EXPECT_EQ(runs, 2);
  const Result again = run(args(claims, "saxe.on-time --budget ci"));
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("2 already complete"), std::string::npos) << again.out;
  // Budgets a claim does not run at are listed, not run.
  const Result local = run(args(claims, "saxe --budget local"));
  EXPECT_EQ(local.code, 0) << local.err;
  EXPECT_NE(local.out.find("not run at this budget"), std::string::npos) << local.out;
  EXPECT_NE(slurp(dir_ / "results" / "REPRODUCTIONS.md")
                .find("- Runs at: ci (`gradscope reproduce saxe.on-time --budget ci --seeds 2 "
                      "--claims "),
            std::string::npos);
  const Result estimate = run(args(claims, "saxe --budget ci --seeds 3 --estimate"));
  EXPECT_NE(estimate.out.find("about 0.0 minutes"), std::string::npos) << estimate.out;
  // More seeds train only the new one, in the same folder; fewer train nothing.
  const Result more = run(args(claims, "saxe.on-time --budget ci --seeds 3"));
  EXPECT_EQ(more.code, 0) << more.err;
  EXPECT_NE(more.out.find("2 already complete"), std::string::npos) << more.out;
  const Result fewer = run(args(claims, "saxe.on-time --budget ci --seeds 1"));
  EXPECT_EQ(fewer.code, 0) << fewer.err;
  EXPECT_NE(fewer.out.find("1 already complete"), std::string::npos) << fewer.out;
  int folders = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "results")) folders += e.is_directory();
  EXPECT_EQ(folders, 1);
}

// What the judging reads: an interrupted run is not finished (incomplete, and run again); a
// field a finished run's summary lacks is unreadable, not a verdict; a zero denominator gives
// inf, which the rule compares. REPRODUCTIONS.md keeps every claim when a command names one, and
// says which command wrote it and which gradscope made the runs.
TEST_F(Reproduce, JudgingReadsFinishedRunsAndKeepsEveryClaim) {
  const std::string head =
      "[[claim]]\nwhere = \"w\"\nsays = \"s\"\npublished = \"p\"\n"
      "seeds = { ci = 1 }\n";
  const fs::path claims =
      write_claims("saxe", claim_file(kHolds + head +
                                      "id = \"typo\"\nquantity = \"deep:summary.theory.observed."
                                      "modes.0.observed_half_stp\"\nrule = \"> 0\"\n" +
                                      head +
                                      "id = \"ratio\"\nquantity = \"deep:summary.n_params / "
                                      "deep:summary.steps_done\"\nrule = \"> 1000\"\n" +
                                      head +
                                      "id = \"absent\"\nquantity = \"deep:summary.theory."
                                      "observed.a_measure_never_made\"\nrule = \"> 0\"\n"));
  ASSERT_EQ(run(args(claims, "saxe.on-time --budget ci")).code, 0);
  const std::string md = slurp(dir_ / "results" / "REPRODUCTIONS.md");
  EXPECT_NE(md.find("Generated by `gradscope reproduce saxe.on-time --budget ci --claims "),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("(4 claims) at budget ci"), std::string::npos) << md;
  EXPECT_NE(md.find("this command named 1 of them"), std::string::npos) << md;
  EXPECT_NE(md.find("Runs made by: gradscope "), std::string::npos) << md;
  // The claims it did not name are there, judged on the runs it left (seed 0 of on-time's two).
  EXPECT_NE(md.find("| saxe.typo |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 0.0036 | 0/1 | **does not hold** |"), std::string::npos) << md;  // ratio
  fs::path seed0;  // the seed-0 run; both runs' steps_done set to 0
  for (const auto& sweep : fs::directory_iterator(dir_ / "results"))
    if (sweep.is_directory())
      for (const auto& r : fs::directory_iterator(sweep.path())) {
        if (!fs::exists(r.path() / "summary.json")) continue;
        nlohmann::json s = nlohmann::json::parse(slurp(r.path() / "summary.json"));
        s["steps_done"] = 0;
        std::ofstream(r.path() / "summary.json") << s.dump();
        if (slurp(r.path() / "config.toml").find("\nseed = 0\n") != std::string::npos)
          seed0 = r.path();
      }
  ASSERT_FALSE(seed0.empty());
  Result r = run(args(claims, "saxe --budget ci --seeds 2 --evaluate"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("unreadable"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("has no 'observed_half_stp' (did you mean 'observed_half_step'?)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("saxe.ratio"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("holds                   inf"), std::string::npos) << r.out;
  // A key no run wrote and no key resembles: a measure not made, null, which no rule accepts.
  EXPECT_NE(r.out.find("saxe.absent   does not hold           null"), std::string::npos) << r.out;
  nlohmann::json s = nlohmann::json::parse(slurp(seed0 / "summary.json"));
  s["status"] = "interrupted";
  std::ofstream(seed0 / "summary.json") << s.dump();
  r = run(args(claims, "saxe.on-time --budget ci --evaluate"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("incomplete"), std::string::npos) << r.out;
  r = run(args(claims, "saxe.on-time --budget ci --estimate"));
  EXPECT_NE(r.out.find("1 of 1 sweeps with runs to do"), std::string::npos) << r.out;
}

// Shards of every sweep (as Slurm array tasks run them) judge nothing; --evaluate afterwards
// judges what they ran, as one process would have.
TEST_F(Reproduce, ShardsRunTheirPartAndEvaluateJudgesTheWhole) {
  const fs::path claims = write_claims("saxe", claim_file(kHolds));
  const Result before = run(args(claims, "saxe --budget ci --evaluate"));
  EXPECT_EQ(before.code, 1);
  EXPECT_NE(before.out.find("not run yet"), std::string::npos) << before.out;
  fs::remove(dir_ / "results" / "REPRODUCTIONS.md");
  const Result script = run(args(claims, "saxe --budget ci --slurm-script --cpus 4"));
  ASSERT_EQ(script.code, 0) << script.err;
  EXPECT_NE(script.out.find("#SBATCH --array=0-1\n"), std::string::npos) << script.out;
  EXPECT_NE(script.out.find("--evaluate"), std::string::npos) << script.out;
  for (const char* shard : {"0/2", "1/2"}) {
    const Result r = run(args(claims, std::string("saxe --budget ci --shard ") + shard));
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("shard"), std::string::npos) << r.out;
  }
  EXPECT_FALSE(fs::exists(dir_ / "results" / "REPRODUCTIONS.md"));
  const Result judged = run(args(claims, "saxe --budget ci --evaluate"));
  EXPECT_EQ(judged.code, 0) << judged.out;
  EXPECT_NE(slurp(dir_ / "results" / "REPRODUCTIONS.md").find("| 2/2 | **holds** |"),
            std::string::npos);
}

TEST_F(Reproduce, BadClaimFilesAreOneLineAndNothingRuns) {
  const std::string claim_head =
      "[[claim]]\nid = \"c\"\nwhere = \"w\"\nsays = \"s\"\npublished = \"p\"\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {claim_file(claim_head + "quantity = \"deep:final.test_loss\"\nrule = \"< 1\"\nseeds = "
                               "{ ci = 1 }\ncolour = \"red\"\n"),
       "colour is not a field here"},
      {claim_file(claim_head + "quantity = \"deep:final.test_loss\"\nrule = \"< 1\"\n"),
       "seeds is missing"},
      {claim_file(claim_head +
                  "quantity = \"deep:final.test_icl_score\"\nrule = \"< 1\"\nseeds = { ci = 1 }\n"),
       "logs no column test_icl_score"},
      {claim_file(claim_head + "quantity = \"deep:fourier.W_E.gini@0\"\nrule = \"< 1\"\nseeds = "
                               "{ ci = 1 }\n"),
       "logs no column fourier.W_E.gini"},
      {claim_file(claim_head +  // a regression logs no accuracy
                  "quantity = \"deep:final.test_acc\"\nrule = \"> 0.9\"\nseeds = { ci = 1 }\n"),
       "logs no column test_acc"},
      {claim_file(claim_head +
                  "quantity = \"wide:final.test_loss\"\nrule = \"< 1\"\nseeds = { ci = 1 }\n"),
       "reads run 'wide' (valid: deep)"},
      {claim_file(claim_head +
                  "quantity = \"deep:final.test_loss\"\nrule = \"< 1\"\nseeds = { local = 1 }\n"),
       "has no local budget"},
      {claim_file(claim_head + "quantity = \"deep:summary.phase\"\nrule = \"< 1\"\nseeds = "
                               "{ ci = 1 }\n"),
       "summary.json has no field 'phase'"},
      {claim_file(claim_head +
                  "quantity = \"deep:final.test_loss\"\nrule = \"about 1\"\nseeds = { ci = 1 }\n"),
       "rule 'about 1'"},
      {claim_file(claim_head + "quantity = \"deep:final.test_loss\"\nrule = \"< 1\"\nseeds = "
                               "{ ci = 1 }\n",
                  "[runs.wide]\nexperiment = \"" + kExamples + "saxe-deep-linear.toml\"\n"),
       "runs.wide: no budget"},
      {claim_file(claim_head + "quantity = \"deep:summary.generalized_step\"\nrule = \"< 1\"\n"
                               "seeds = { ci = 1 }\n"),
       "logs no test accuracy (task.name = lowrank_teacher), so its summary has no "
       "generalized_step"},
      {claim_file(claim_head + "quantity = \"deep:test_loss@30\"\nrule = \"< 1\"\nseeds = "
                               "{ ci = 1 }\n"),
       "logs no test_loss at step 30 (its rows: steps 0 to 20000 every train.log_every = 20"},
      {claim_file(claim_head + "quantity = \"deep:spectra.E.stable_rank@40\"\nrule = \"< 1\"\n"
                               "seeds = { ci = 1 }\n"),  // a row, but not a probe step
       "logs no spectra.E.stable_rank at step 40 (a probe's column"},
      {claim_file(claim_head + "quantity = \"deep:test_loss@20020\"\nrule = \"< 1\"\nseeds = "
                               "{ ci = 1 }\n"),
       "logs no test_loss at step 20020"},
      {claim_file(claim_head + "quantity = \"deep:summary.steps_done.last\"\nrule = \"< 1\"\n"
                               "seeds = { ci = 1 }\n"),
       "summary.steps_done is one value"},
      {claim_file(claim_head + "quantity = \"len(deep:summary.fourier.key_frequencies)\"\nrule = "
                               "\"> 1\"\nseeds = { ci = 1 }\n"),
       "writes no summary.fourier (probe.fourier is false)"},
      {claim_file(claim_head + "quantity = \"deep:final.test_loss\"\nrule = \"== small\"\n"
                               "seeds = { ci = 1 }\n"),
       "rule '== small' compares a word"},
      {claim_file(claim_head + "quantity = \"deep:summary.status\"\nrule = \"< 1\"\n"
                               "seeds = { ci = 1 }\n"),
       "compares numbers, but 'deep:summary.status' is a word"},
      {claim_file(claim_head + "quantity = \"deep:final.test_loss\"\nrule = \"increasing\"\n"
                               "seeds = { ci = 1 }\n"),
       "run 'deep' has no sweep axis at budget ci"},
      {claim_file(claim_head + "quantity = \"deep:final.test_loss\"\nrule = \"< nan\"\n"
                               "seeds = { ci = 1 }\n"),
       "rule '< nan'"},
      {claim_file(claim_head + "quantity = \"deep:final.test_loss\"\nrule = \"< 1\"\nseeds = "
                               "{ ci = 1 }\n",
                  "[runs.wide]\nexperiment = \"" + kExamples +
                      "saxe-deep-linear.toml\"\nci = { minutes = -1 }\n"),
       "ci.minutes = -1 (valid: a finite number >= 0)"},
      {claim_file(claim_head +
                      "quantity = \"deep:final.test_loss / wide:final.test_loss\"\nrule = \"< 1\"\n"
                      "seeds = { ci = 1 }\n",
                  "overrides = [\"train.steps=300,400\"]\n[runs.wide]\nexperiment = \"" +
                      kExamples +
                      "saxe-deep-linear.toml\"\noverrides = [\"train.steps=300,400,500\"]\nci = "
                      "{ minutes = 1 }\n"),
       "the quantity's two terms sweep 2 and 3 points at budget ci"},
  };
  for (const auto& [text, expect] : cases) {
    const fs::path claims = write_claims("bad", text);
    const Result r = run(args(claims, "--all --budget ci"));
    EXPECT_EQ(r.code, 2) << text;
    EXPECT_NE(r.err.find(expect), std::string::npos) << expect << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "results")) << text;
  }
  const fs::path claims = write_claims("bad", claim_file(kHolds));
  for (const auto& [a, expect] : std::vector<std::pair<std::string, std::string>>{
           {"nothing --budget ci", "nothing: no such claim or paper"},
           {"--all --budget huge", "--budget = \"huge\" (valid: ci, local, full)"},
           {"--budget ci", "or --all"}}) {
    const Result r = run(args(claims, a));
    EXPECT_EQ(r.code, 2) << a;
    EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "results")) << a;
  }
}

}  // namespace
