// gradscope llc and gradscope hessian end to end. llc: on a regular model (linear regression, d =
// 10 parameters, 10,000 gaussian examples, trained to its minimum) the SGLD estimate of the local
// learning coefficient is d / 2 within 10%; its files, a rerun that skips what exists, settings
// that replace it, a chain that diverges, and bad input refused before anything is written.
// hessian: a float32 run's checkpoints measured in float64 into hessian/ (the linear model's
// Hessian is the inputs' second moment, whose eigenvalues a whitened design fixes), skipped on a
// rerun. probe.llc and probe.hessian: the same measures at probe steps during training, also for
// a task that draws fresh samples (measured on its fixed train sample), and a signal that stops a
// long probe midway.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <regex>
#include <set>
#include <thread>

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
  // A step size so small that the chains are still climbing from w* after 400 draws (lambda-hat
  // near 1 of 5): the warning reaches the user. Whether a given chain's climb stands out of its
  // noise is a matter of its draws (the detector itself: LlcSettling in tests/unit).
  again = run_cmd("llc " + run.string() +
                  " --steps 300 llc.step_size=1e-6 llc.burn_in=0 llc.draws=400 llc.chains=2");
  EXPECT_NE(again.err.find(" has not settled"), std::string::npos) << again.err;

  // --calibrate: a 5 x 3 grid at one checkpoint, each setting marked; the largest step size at the
  // largest n beta (0.01 x 3,257, past the curvature's limit) diverges; llc.npy is left alone.
  const std::string before = slurp(run / "llc" / "llc.npy");
  const Result cal =
      run_cmd("llc " + run.string() + " --calibrate llc.step_size=1e-3 llc.draws=100 llc.chains=2");
  ASSERT_EQ(cal.code, 0) << cal.err;
  EXPECT_NE(cal.out.find("at step 300"), std::string::npos) << cal.out;
  EXPECT_NE(cal.out.find(" of 15 settings"), std::string::npos) << cal.out;
  const auto grid = nlohmann::json::parse(slurp(run / "llc" / "calibration_00000300.json"))["grid"];
  ASSERT_EQ(grid.size(), 15u);
  EXPECT_EQ(grid[14]["step_size"].get<double>(), 1e-2);
  EXPECT_EQ(grid[14]["diverged"], 2) << grid[14];
  EXPECT_FALSE(grid[14]["stable"].get<bool>());
  EXPECT_EQ(slurp(run / "llc" / "llc.npy"), before);
  const Result two = run_cmd("llc " + run.string() + " --calibrate --steps 0,300");
  EXPECT_EQ(two.code, 2);
  EXPECT_NE(two.err.find("calibration maps one checkpoint"), std::string::npos) << two.err;
}

// A singular model: reduced-rank regression with M = N = 5, H = 3 and a rank-1 teacher
// (examples/llc-deep-linear.toml, case B), whose learning coefficient is Aoyagi and Watanabe's 8
// (a regular model of its 30 parameters would give 15): within 15%, as fixed in the example.
TEST_F(Llc, AReducedRankRegressionGivesAoyagisCoefficient) {
  const fs::path run = dir_ / "rrr";
  Result r = run_cmd("run " + kExamples +
                     "llc-deep-linear.toml task.dim=5 'task.target=[1.0]' model.width=3 --out " +
                     run.string());
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cmd("llc " + run.string() + " --steps last");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NEAR(printed(r.out, 5000), 8.0, 0.15 * 8.0) << r.out;
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
      {"llc " + run.string() + " --steps ''", "--steps '': no steps given"},
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
  // Adam's preconditioned sharpness during training needs an Adam run: refused before the run.
  const fs::path gd = dir_ / "gd";
  const Result r =
      run_cmd("run " + kExamples + "eos-mlp.toml hessian.preconditioned=true --out " + gd.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("needs an adam or adamw run (optim.name = \"sgd\")"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(gd));
}

// diag-stages' teacher (d = 4) with its whitened inputs (the rows of sqrt(d) I) and a plain linear
// model, in float32: the mean squared error's Hessian is a multiple of the identity, the same at
// every step, so its eigenvalues are equal and the trace is 4 times one of them.
TEST_F(Llc, HessianOfALinearModelAtItsCheckpoints) {
  const fs::path run = dir_ / "lin";
  Result r = run_cmd("run " + kExamples +
                     "diag-stages.toml model.type=deep_linear model.depth=1 precision=float32 "
                     "train.steps=20 'train.checkpoint_steps=\"every:10\"' --out " +
                     run.string());
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cmd("hessian " + run.string() + " hessian.top_k=3 hessian.trace_probes=50");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto files = gradscope::read_probe_files(run / "hessian");
  int64_t rows = 0, cols = 0;
  const auto steps = gradscope::decode_npy_f32(files.at("steps.npy"), rows, cols, "steps");
  EXPECT_EQ(steps, (std::vector<float>{0, 10, 20}));
  const auto top = gradscope::decode_npy_f32(files.at("top.npy"), rows, cols, "top");
  EXPECT_EQ(rows, 3);
  EXPECT_EQ(cols, 3);
  const auto trace = gradscope::decode_npy_f32(files.at("trace.npy"), rows, cols, "trace");
  EXPECT_EQ(rows, 3);
  EXPECT_EQ(cols, 2);  // trace, standard error
  // The inputs are 2 e_i (d = N = 4) and the loss 0.5 x the mean squared error: H = (1/N)
  // sum x x^T = I, at every step (a quadratic), so every eigenvalue is 1 and the trace 4.
  for (int64_t s = 0; s < 3; ++s) {
    EXPECT_NEAR(top[s * 3], 1.0, 1e-5);
    EXPECT_NEAR(top[s * 3 + 2], 1.0, 1e-3) << "a multiple of I";
    EXPECT_NEAR(trace[s * 2], 4.0, 4e-3) << "d = 4 equal eigenvalues";
  }
  const auto tensor =
      gradscope::decode_npy_f32(files.at("tensor.layers.0.W.npy"), rows, cols, "tensor.layers.0.W");
  ASSERT_EQ(rows, 3);
  ASSERT_EQ(cols, 3);                // the tensor's top eigenvalue, trace, standard error
  for (int64_t s = 0; s < 3; ++s) {  // the model's only tensor: the whole Hessian
    EXPECT_NEAR(tensor[s * 3], 1.0, 1e-5);
    EXPECT_NEAR(tensor[s * 3 + 1], 4.0, 4e-3);
  }
  // gradscope plot draws the command's sharpness (no probe column) beside 2 / lr.
  ASSERT_EQ(run_cmd("plot " + run.string()).code, 0);
  const std::string svg = slurp(run / "geometry.svg");
  EXPECT_NE(svg.find("sharpness (top eigenvalue)"), std::string::npos);
  EXPECT_NE(svg.find("2 / lr"), std::string::npos);
  r = run_cmd("hessian " + run.string() + " --steps 10 hessian.top_k=3 hessian.trace_probes=50");
  EXPECT_NE(r.out.find("step 10: measured before"), std::string::npos) << r.out;
  r = run_cmd("hessian " + run.string() + " hessian.preconditioned=true");  // a run without Adam
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("hessian.preconditioned = true needs an adam or adamw run"),
            std::string::npos)
      << r.err;
  EXPECT_NE(slurp(run / "hessian" / "settings.json").find("\"trace_probes\": 50"),
            std::string::npos)
      << "the refused command left the folder as it was";
  r = run_cmd("hessian " + run.string() + " optim.lr=1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("optim.lr is the run's own setting"), std::string::npos) << r.err;
  // One measured step (other settings replace the folder): drawn as a dot, not left out.
  fs::remove(run / "geometry.svg");
  ASSERT_EQ(run_cmd("hessian " + run.string() + " --steps last hessian.trace_probes=10").code, 0);
  ASSERT_EQ(run_cmd("plot " + run.string()).code, 0);
  EXPECT_NE(slurp(run / "geometry.svg").find("<circle"), std::string::npos);
}

// A checkpoint's payload: its buffers (values, initial values, optimizer state) without the header,
// which holds the config and the time, and without the trailer.
std::string checkpoint_payload(const fs::path& file) {
  const std::string bytes = slurp(file);
  uint64_t len = 0;
  std::memcpy(&len, bytes.data() + 8, 8);
  const auto header = nlohmann::json::parse(bytes.substr(16, len));
  const size_t end = header.value("checksum", "") == "crc32" ? bytes.size() - 4 : bytes.size();
  return bytes.substr(16 + len, end - 16 - len);
}

// The last row of a folder's [S, width] array.
std::vector<float> last_row(const fs::path& folder, const std::string& name) {
  int64_t rows = 0, cols = 0;
  auto a = gradscope::decode_npy_f32(slurp(folder / name), rows, cols, name);
  cols = std::max<int64_t>(cols, 1);
  return {a.end() - cols, a.end()};
}

// probe.llc and probe.hessian during training (pair-mlp, a probe every 25 steps): the run trains as
// it would without them (every other metric and every checkpoint's buffers byte for byte); their
// folders hold what gradscope llc and gradscope hessian compute at the same step from the
// checkpoint (Adam's preconditioned sharpness from the optimizer's state as gradscope hessian reads
// it from the checkpoint), which those commands then skip; a run resumed and extended from its
// middle ends with the same files as the run made whole.
TEST_F(Llc, ProbesDuringTrainingMeasureWithoutChangingTheRun) {
  const std::string run_args = "run " + kExamples +
                               "pair-mlp.toml train.log_every=25 probe.every=25 "
                               "'train.checkpoint_steps=\"every:25\"' ";
  const std::string probes =
      "probe.llc=true probe.hessian=true llc.draws=20 hessian.iterations=8 "
      "hessian.trace_probes=4 hessian.per_tensor=false hessian.preconditioned=true ";
  const fs::path plain = dir_ / "plain", probed = dir_ / "probed", half = dir_ / "half";
  ASSERT_EQ(run(run_args + "train.steps=100 --out " + plain.string()).code, 0);
  const Result r = run(run_args + probes + "train.steps=100 --out " + probed.string());
  ASSERT_EQ(r.code, 0) << r.err;

  auto a = rows(plain), b = rows(probed);
  ASSERT_EQ(a.size(), b.size());
  const double last_top = b.back()["hessian.top"], last_lr = b.back()["lr"];
  const double last_adam = b.back()["hessian.preconditioned"];
  for (size_t i = 0; i < b.size(); ++i) {
    EXPECT_TRUE(std::isfinite(b[i]["llc.mean"].get<double>())) << b[i];
    EXPECT_GT(b[i]["hessian.top"].get<double>(), 0) << b[i];
    // Adam's preconditioned sharpness from the optimizer's state (none before the first update).
    EXPECT_EQ(b[i]["hessian.preconditioned"].is_null(), i == 0) << b[i];
    for (const char* k :
         {"llc.mean", "llc.std", "hessian.top", "hessian.trace", "hessian.preconditioned"})
      b[i].erase(k);
    EXPECT_EQ(a[i].dump(), b[i].dump());
  }
  for (const auto& f : fs::directory_iterator(plain / "checkpoints"))
    EXPECT_EQ(checkpoint_payload(f.path()),
              checkpoint_payload(probed / "checkpoints" / f.path().filename()))
        << f.path();
  const auto s = summary(probed);
  EXPECT_EQ(s["llc"]["probed"], 5) << s;
  EXPECT_EQ(s["hessian"]["last"]["value"].get<double>(), last_top) << s;
  EXPECT_DOUBLE_EQ(s["hessian"]["last"]["over_2_over_lr"].get<double>(), last_top * last_lr / 2);

  // The commands at the last checkpoint of a copy without the folders: the same numbers, the
  // LLC's chains spread over two threads (each chain computed as alone).
  const fs::path copy = dir_ / "copy";
  fs::copy(probed, copy, fs::copy_options::recursive);
  fs::remove_all(copy / "llc");
  fs::remove_all(copy / "hessian");
  ASSERT_EQ(run("--threads 2 llc " + copy.string() + " --steps last").code, 0);
  ASSERT_EQ(run("hessian " + copy.string() + " --steps last").code, 0);
  EXPECT_EQ(last_row(copy / "llc", "llc.npy"), last_row(probed / "llc", "llc.npy"));
  EXPECT_EQ(slurp(copy / "llc" / "trace_00000100.npy"),
            slurp(probed / "llc" / "trace_00000100.npy"));
  EXPECT_EQ(last_row(copy / "hessian", "top.npy"), last_row(probed / "hessian", "top.npy"));
  EXPECT_EQ(last_row(copy / "hessian", "preconditioned.npy"),
            last_row(probed / "hessian", "preconditioned.npy"));
  ASSERT_EQ(run("plot " + probed.string()).code, 0);  // geometry.svg: its panel and threshold
  EXPECT_NE(slurp(probed / "geometry.svg").find("(2 + 2 beta1) / ((1 - beta1) lr)"),
            std::string::npos);
  const double adam_edge = s["hessian"]["preconditioned"]["last"]["over_threshold"];
  EXPECT_NEAR(adam_edge, last_adam * last_lr * 0.1 / 3.8, 1e-12 * adam_edge);  // 38 / lr
  EXPECT_EQ(slurp(copy / "llc" / "settings.json"), slurp(probed / "llc" / "settings.json"));
  EXPECT_NE(run("llc " + probed.string() + " --steps last").out.find("estimated before"),
            std::string::npos);
  EXPECT_NE(run("hessian " + probed.string() + " --steps 50").out.find("measured before"),
            std::string::npos);

  // Half the run, then resumed to its end on two threads (the probe's chains spread over them).
  ASSERT_EQ(run(run_args + probes + "train.steps=50 --out " + half.string()).code, 0);
  ASSERT_EQ(run("--threads 2 run --resume " + half.string() + " train.steps=100").code, 0);
  for (const char* folder : {"llc", "hessian"})
    for (const auto& f : fs::directory_iterator(probed / folder))
      EXPECT_EQ(slurp(f.path()), slurp(half / folder / f.path().filename())) << f.path();
}

// A task that draws fresh samples every step (in-context regression) is measured on its train
// split, the fixed sample its train_* metrics use: L_n(w*) is the train_loss the run logged, and
// gradscope llc on a checkpoint reads the same set as the probe did.
TEST_F(Llc, AStreamedTaskIsMeasuredOnItsTrainSample) {
  const fs::path probed = dir_ / "icl", copy = dir_ / "icl-copy";
  const Result r = run("run " + kExamples +
                       "icl-fresh-tasks.toml train.steps=20 optim.warmup_steps=5 task.n_test=64 "
                       "train.log_every=10 probe.every=10 'train.checkpoint_steps=\"every:10\"' "
                       "probe.llc=true probe.hessian=true llc.draws=10 llc.chains=2 "
                       "hessian.iterations=5 hessian.trace_probes=2 hessian.per_tensor=false "
                       "--out " +
                       probed.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto logged = rows(probed);
  int64_t n = 0, cols = 0;
  const auto init = gradscope::decode_npy_f32(slurp(probed / "llc" / "init_loss.npy"), n, cols, "");
  ASSERT_EQ(n, static_cast<int64_t>(logged.size()));
  for (size_t i = 0; i < logged.size(); ++i) {
    EXPECT_EQ(init[i], logged[i]["train_loss"].get<float>()) << logged[i];
    EXPECT_TRUE(std::isfinite(logged[i]["llc.mean"].get<double>())) << logged[i];
    EXPECT_GT(logged[i]["hessian.top"].get<double>(), 0) << logged[i];
  }
  fs::copy(probed, copy, fs::copy_options::recursive);
  fs::remove_all(copy / "llc");
  // --calibrate on a run without llc/ makes the folder for its table.
  const Result cal = run("llc " + copy.string() + " --calibrate llc.draws=5 llc.chains=1");
  ASSERT_EQ(cal.code, 0) << cal.err;
  const auto table = nlohmann::json::parse(slurp(copy / "llc" / "calibration_00000020.json"));
  EXPECT_EQ(table["step"], 20);
  const auto& grid = table["grid"];  // step sizes outer, n betas inner: the full product
  std::set<double> sizes, nbetas;
  for (const auto& g : grid) {
    sizes.insert(g["step_size"].get<double>());
    nbetas.insert(g["nbeta"].get<double>());
    EXPECT_TRUE(g.contains("llc") && g.contains("stable")) << g;
  }
  EXPECT_GT(sizes.size(), 1u);
  EXPECT_GT(nbetas.size(), 1u);
  EXPECT_EQ(grid.size(), sizes.size() * nbetas.size());
  ASSERT_EQ(run("llc " + copy.string() + " --steps last").code, 0);
  EXPECT_EQ(slurp(copy / "llc" / "trace_00000020.npy"),
            slurp(probed / "llc" / "trace_00000020.npy"));
}

// The LLC and Hessian probes beside the Fourier probe's restricted loss: their own copy of the
// config turns the Fourier probe off, and with it the keys that need it.
TEST_F(Llc, ProbesRunBesideTheRestrictedLoss) {
  const Result r =
      run("run " + kExamples +
          "grok-mlp-small.toml train.steps=20 probe.every=10 probe.fourier=true "
          "probe.restricted_loss=true probe.llc=true probe.hessian=true llc.draws=5 "
          "hessian.iterations=5 hessian.trace_probes=2 hessian.per_tensor=false --out " +
          (dir_ / "r").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto logged = rows(dir_ / "r");
  EXPECT_TRUE(std::isfinite(logged.back()["llc.mean"].get<double>())) << logged.back();
  EXPECT_TRUE(std::isfinite(logged.back()["hessian.top"].get<double>())) << logged.back();
}

// SIGTERM in the middle of a long probe stops the run within a gradient or an SGLD step, not at
// the probe's end: the step's row is dropped and the run checkpoints there, interrupted.
TEST_F(Llc, ASignalStopsALongProbe) {
  const fs::path out = dir_ / "r";
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    const std::string cmd = kBinary + " run " + kExamples +
                            "grok-mlp-small.toml train.steps=20 probe.llc=true llc.draws=1000000 "
                            "--out " +
                            out.string();
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Once the run has started (its config written), the probe at step 0 is under way or next.
  const auto started = std::chrono::steady_clock::now();
  while (!fs::exists(out / "config.toml") &&
         std::chrono::steady_clock::now() - started < std::chrono::seconds(30))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // The signal handler goes in once the run has started: 2 s on, the probe (minutes) is running.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ::kill(pid, SIGTERM);
  const auto sent = std::chrono::steady_clock::now();
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() - sent > std::chrono::seconds(30)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL() << "the run went on for 30 s after SIGTERM (its probe: minutes)";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const nlohmann::json summary = nlohmann::json::parse(slurp(out / "summary.json"));
  EXPECT_EQ(summary["status"], "interrupted") << summary;
  EXPECT_EQ(rows(out).size(), 0u);  // the probed step's row is measured again on resume
  EXPECT_TRUE(fs::exists(out / "checkpoints" / "step_00000000.ckpt"));
}

// The probes read the host copy of the parameters, so they run beside training on any device: on
// the emulated device (the cuda path's logic) a float64 run's probes give the cpu run's numbers.
TEST_F(Llc, ProbesRunBesideTrainingOnTheEmulatedDevice) {
  const std::string args = "run " + kExamples +
                           "pair-mlp.toml precision=float64 train.steps=40 train.log_every=20 "
                           "probe.every=20 probe.llc=true probe.hessian=true llc.draws=10 "
                           "hessian.iterations=5 hessian.trace_probes=2 hessian.per_tensor=false "
                           "hessian.preconditioned=true";
  const fs::path cpu = dir_ / "cpu", emulated = dir_ / "emulated";
  ASSERT_EQ(run(args + " --out " + cpu.string()).code, 0);
  const Result r = run("--device emulated " + args + " --out " + emulated.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto a = rows(cpu), b = rows(emulated);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    for (const char* k : {"llc.mean", "hessian.top", "hessian.trace", "hessian.preconditioned"}) {
      if (i == 0 && std::string(k) == "hessian.preconditioned") continue;  // null: no update yet
      const double x = a[i][k], y = b[i][k];
      EXPECT_NEAR(y, x, 1e-6 * std::abs(x)) << k << " at row " << i;
    }
}

}  // namespace
