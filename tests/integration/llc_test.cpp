// gradscope llc end to end: on a regular model (linear regression, d = 10 parameters, 10,000
// gaussian examples, trained to its minimum) the SGLD estimate of the local learning coefficient is
// d / 2 within 10%; its files, a rerun that skips what exists, settings that replace it, a chain
// that diverges, and bad input refused before anything is written.
#include <gtest/gtest.h>

#include <regex>

#include "cli_fixture.h"
#include "gradscope/rundir/spectra_files.h"
#include "gradscope/tensor/npy.h"

namespace {

using namespace gradscope_it;

class Llc : public Cli {
 protected:
  // examples/llc-regular.toml trained: y = w* . x, d = 10, n = 10,000 gaussian inputs, at its
  // minimum, with the [llc] settings fixed before its estimates were seen.
  fs::path trained() {
    const fs::path run = dir_ / "reg10";
    const Result r = run_cmd("run " + kExamples + "llc-regular.toml --out " + run.string());
    EXPECT_EQ(r.code, 0) << r.err;
    return run;
  }
  Result run_cmd(const std::string& args) { return run(args); }
  // The estimate a `gradscope llc` line printed for `step`.
  static double printed(const std::string& out, int64_t step) {
    std::smatch m;
    const std::regex line("step " + std::to_string(step) + ": llc ([-0-9.e+]+) ");
    return std::regex_search(out, m, line) ? std::stod(m[1]) : NAN;
  }
};

TEST_F(Llc, ARegularModelGivesHalfItsParameterCount) {
  const fs::path run = trained();
  const Result r = run_cmd("llc " + run.string() + " --steps last");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // no chain diverged, went negative or failed to settle
  const double llc = printed(r.out, 300);
  EXPECT_NEAR(llc, 5.0, 0.5) << r.out;
  // Its files: one step, 8 chains, every draw of every chain.
  const auto files = gradscope::read_probe_files(run / "llc");
  int64_t rows = 0, cols = 0;
  const auto per_chain = gradscope::decode_npy_f32(files.at("llc.npy"), rows, cols, "llc.npy");
  EXPECT_EQ(rows, 1);
  EXPECT_EQ(cols, 8);
  double mean = 0;
  for (float v : per_chain) mean += v / 8.0;
  EXPECT_NEAR(mean, llc, 1e-3 * llc);
  gradscope::decode_npy_f32(files.at("trace_00000300.npy"), rows, cols, "trace");
  EXPECT_EQ(rows, 8);
  EXPECT_EQ(cols, 4000);
  EXPECT_NE(slurp(run / "llc" / "settings.json").find("\"nbeta_how\": \"10000 / log 10000\""),
            std::string::npos);

  // The same settings again: nothing recomputed. Others: the folder replaced, and a step size
  // far past the curvature's limit diverges, saying so.
  Result again = run_cmd("llc " + run.string() + " --steps 300");
  EXPECT_NE(again.out.find("step 300: estimated before"), std::string::npos) << again.out;
  again = run_cmd("llc " + run.string() + " --steps 300 llc.step_size=0.01 llc.draws=50");
  EXPECT_EQ(again.code, 0);
  EXPECT_NE(again.out.find("replaced"), std::string::npos) << again.out;
  EXPECT_NE(again.err.find("chain 0 diverged"), std::string::npos) << again.err;
  EXPECT_NE(again.out.find("over 0 of 8 chains"), std::string::npos) << again.out;
  // A step size so small that the chains are still climbing from w* after 400 draws: named.
  again = run_cmd("llc " + run.string() +
                  " --steps 300 llc.step_size=1e-6 llc.burn_in=0 llc.draws=400 llc.chains=2");
  EXPECT_NE(again.err.find("chain 0 has not settled"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("chain 1 has not settled"), std::string::npos) << again.err;
}

TEST_F(Llc, BadInputIsRefusedBeforeAnythingIsWritten) {
  const fs::path run = trained();
  const struct {
    std::string args, expect;
  } cases[] = {
      {"llc " + run.string() + " optim.lr=1", "optim.lr is the run's own setting"},
      {"llc " + run.string() + " --steps 7",
       "no checkpoint at step 7 (valid: all, last, or steps "
       "among 0,300)"},
      {"llc " + run.string() + " llc.chains=0", "llc.chains = 0"},
      {"llc " + run.string() + " llc.nbeta_from=m", "llc.nbeta_from"},
      {"--device cuda llc " + run.string(), "runs on the cpu only"},
      {"llc " + (dir_ / "none").string(), "none"},
  };
  for (const auto& c : cases) {
    const Result r = run_cmd(c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(run / "llc")) << c.args;
  }
}

}  // namespace
