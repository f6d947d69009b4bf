// The device backend against the CPU. Built twice: gpu_tests (GS_TEST_DEVICE "cuda", label gpu,
// skipped where no GPU is) and emulated_tests ("emulated": the same code path on the host, in
// every `make test`). Sizes shrink on the emulated device, whose kernels run one index at a time.
//
//   oracle      every model configuration of tests/oracle/fixtures/models.json: logits, loss and
//               every gradient on the device against the CPU, per tensor max|dev - cpu| /
//               max|cpu| (1e-4 float32, 1e-10 float64)
//   trajectory  a 200-step float64 nanda run on both: every parameter within 1e-9
//   determinism two identical device runs give byte-identical metrics and checkpoints; a run
//               killed with SIGKILL and resumed on the device gives the same metrics again; a
//               run started on the cpu resumes on the device
//   coverage    every model family, task family and optimizer feature: 20 float64 steps on the
//               device against the cpu, every parameter within 1e-10
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_fixture.h"
#include "device_skip.h"
#include "fixture_config.h"
#include "gradscope/config/config.h"
#include "gradscope/cuda/device.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/run/metric_columns.h"

namespace {

namespace fs = std::filesystem;
using namespace gradscope;
using namespace gradscope_it;
using json = nlohmann::json;

const Device kDevice = device_from_name(GS_TEST_DEVICE);
const bool kGpu = kDevice == Device::cuda;

// ---- oracle ----

struct Compared {
  double worst = 0;
  std::string name;
};

// max |dev - cpu| / max |cpu| of one tensor. A gradient that is zero in exact arithmetic (a key
// bias: softmax ignores what it adds to every score) holds only rounding, so its scale is taken
// as that of the case's largest gradient (`floor`) when it is below `noise` times that (rounding
// in T: 1e-5 for float32, 1e-12 for float64).
void compare(const std::string& name, const std::vector<double>& cpu,
             const std::vector<double>& dev, Compared& c, double floor = 0, double noise = 0) {
  ASSERT_EQ(cpu.size(), dev.size()) << name;
  double num = 0, den = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    num = std::max(num, std::abs(dev[i] - cpu[i]));
    den = std::max(den, std::abs(cpu[i]));
  }
  const bool rounding_only = den < noise * floor;
  const double rel = num / std::max(rounding_only ? floor : den, 1e-300);
  if (rel > c.worst || c.name.empty()) c = {rel, name};
  std::printf("  %-40s %.3e%s\n", name.c_str(), rel,
              rounding_only ? " (zero in exact arithmetic: relative to the largest gradient)" : "");
}

double largest(const std::vector<std::vector<double>>& tensors) {
  double m = 0;
  for (const auto& t : tensors)
    for (double v : t) m = std::max(m, std::abs(v));
  return m;
}

// Logits, loss and gradients of one fixture case on a tape (host or device), as doubles.
template <class T>
struct Outcome {
  std::vector<double> logits, loss;
  std::vector<std::vector<double>> grads;
  std::vector<std::string> names;  // of the gradients' parameters
};

template <class T>
std::vector<double> to_host(DeviceContext* d, const T* p, int64_t n) {
  std::vector<T> h(static_cast<size_t>(n));
  if (d)
    d->download(h.data(), p, h.size() * sizeof(T));
  else
    std::memcpy(h.data(), p, h.size() * sizeof(T));
  return std::vector<double>(h.begin(), h.end());
}

template <class T>
Outcome<T> run_case(const json& c, DeviceContext* d) {
  const Config cfg = fixture_config(c);
  const ModelShape shape{c.at("vocab").get<int64_t>(), c.at("classes").get<int64_t>(),
                         c.at("length").get<int64_t>()};
  auto model = make_model<T>(model_options(cfg), shape, 0);
  ParamStore<T>& ps = model->params();
  for (auto& [name, values] : c.at("params").items()) {
    Tensor<T> w = ps.value(ps.index(name));
    for (size_t i = 0; i < values.size(); ++i)
      w[i] = static_cast<T>(values[i].template get<double>());
  }
  if (d) ps.to_device(d);
  auto inputs = c.at("inputs").get<std::vector<int32_t>>();
  auto targets = c.at("targets").get<std::vector<int32_t>>();
  const int64_t N = static_cast<int64_t>(targets.size());
  DeviceBuffer<int32_t> din, dtg;
  const int32_t* in = inputs.data();
  const int32_t* tg = targets.data();
  if (d) {
    din = DeviceBuffer<int32_t>(*d, static_cast<int64_t>(inputs.size()));
    dtg = DeviceBuffer<int32_t>(*d, N);
    din.upload(inputs.data(), din.size());
    dtg.upload(targets.data(), N);
    in = din.data(), tg = dtg.data();
  }
  Arena arena(size_t{1} << 20, d);
  Tape<T> t(arena, d);
  ps.zero_grad();
  Var logits = model->logits(t, in, N);
  Var loss = cross_entropy(t, logits, tg);
  t.backward(loss);
  Outcome<T> o;
  o.logits = to_host(d, t.value(logits).data, t.value(logits).numel());
  o.loss = to_host(d, t.value(loss).data, 1);
  for (int i = 0; i < ps.count(); ++i) o.names.push_back(ps.info(i).name);
  for (int i = 0; i < ps.count(); ++i)
    o.grads.push_back(
        to_host(d, ps.training_grads() + ps.info(i).offset, ps.info(i).shape.numel()));
  return o;
}

template <class T>
void oracle(double tolerance) {
  std::ifstream in(kSourceDir + "/tests/oracle/fixtures/models.json");
  ASSERT_TRUE(in.good());
  const json fx = json::parse(in);
  auto dev = DeviceContext::create(kDevice);
  int cases = 0;
  for (const json& c : fx.at("cases")) {
    std::printf("%s (%s):\n", c.at("name").get<std::string>().c_str(),
                sizeof(T) == 4 ? "float32" : "float64");
    const Outcome<T> cpu = run_case<T>(c, nullptr), gpu = run_case<T>(c, dev.get());
    Compared worst;
    compare("logits", cpu.logits, gpu.logits, worst);
    compare("loss", cpu.loss, gpu.loss, worst);
    for (size_t i = 0; i < cpu.grads.size(); ++i)
      compare("d " + cpu.names[i], cpu.grads[i], gpu.grads[i], worst, largest(cpu.grads),
              sizeof(T) == 4 ? 1e-5 : 1e-12);
    EXPECT_LE(worst.worst, tolerance) << c.at("name") << ": " << worst.name;
    ++cases;
  }
  EXPECT_GE(cases, 6);
}

TEST(DeviceOracle, Float32LogitsLossAndGradientsMatchTheCpu) {
  SKIP_WITHOUT_DEVICE();
  oracle<float>(1e-4);
}

TEST(DeviceOracle, Float64LogitsLossAndGradientsMatchTheCpu) {
  SKIP_WITHOUT_DEVICE();
  oracle<double>(1e-10);
}

// ---- runs through the executable ----

// The nanda example at full size on a GPU; a small variant on the emulated device.
std::string nanda(const std::string& extra) {
  const std::string small =
      kGpu ? "" : " task.p=23 model.d_model=32 model.d_mlp=64 train.log_every=20";
  return kExamples + "nanda-grokking.toml" + small + " " + extra;
}

// Every parameter buffer of a checkpoint (the payload after the JSON header), as doubles.
std::vector<double> checkpoint_values(const fs::path& file, std::vector<json>& params) {
  std::ifstream in(file, std::ios::binary);
  char magic[8];
  uint64_t len = 0;
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(&len), 8);
  std::string header(len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(len));
  const json h = json::parse(header);
  params = h.at("params").get<std::vector<json>>();
  const int64_t n = h.at("buffers")[0].at("elements").get<int64_t>();
  std::vector<double> v(static_cast<size_t>(n));
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(double)));
  return v;
}

// The worst parameter of two float64 checkpoints of one model: max |dev - cpu| / max |cpu| per
// parameter (printed when `print`). A parameter whose gradient is zero in exact arithmetic (a
// key bias: softmax ignores what it adds to every score) moves only by rounding, which Adam
// scales up to full steps: one below 1e-8 of the model's largest value is measured on that scale.
double worst_parameter(const fs::path& cpu_file, const fs::path& dev_file, bool print) {
  std::vector<json> params;
  const auto c = checkpoint_values(cpu_file, params);
  const auto g = checkpoint_values(dev_file, params);
  EXPECT_EQ(c.size(), g.size());
  double largest = 0, worst = 0;
  for (double v : c) largest = std::max(largest, std::abs(v));
  for (const json& p : params) {
    int64_t n = 1;
    for (int64_t d : p.at("shape")) n *= d;
    const int64_t o = p.at("offset").get<int64_t>();
    double num = 0, den = 0;
    for (int64_t i = o; i < o + n && i < int64_t(g.size()); ++i)
      num = std::max(num, std::abs(g[i] - c[i])), den = std::max(den, std::abs(c[i]));
    const double e = num / (den < 1e-8 * largest ? largest : den);
    if (print) std::printf("  %-28s %.3e\n", p.at("name").get<std::string>().c_str(), e);
    worst = std::max(worst, e);
  }
  return worst;
}

TEST_F(Cli, DeviceFloat64TrajectoryMatchesTheCpu) {
  SKIP_WITHOUT_DEVICE();
  const std::string exp = nanda("precision=float64 train.steps=200 probe.spectra=false");
  ASSERT_EQ(run("--threads 8 run " + exp + " --out " + (dir_ / "cpu").string()).code, 0);
  const Result r = run(std::string("--device ") + GS_TEST_DEVICE + " run " + exp + " --out " +
                       (dir_ / "dev").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const double worst = worst_parameter(dir_ / "cpu/checkpoints/step_00000200.ckpt",
                                       dir_ / "dev/checkpoints/step_00000200.ckpt", true);
  EXPECT_LE(worst, 1e-9);
  std::printf("trajectory (200 steps, float64): worst parameter %.3e\n", worst);
}

// The Fourier progress measures of a device run read the host copy at the probe steps: float64
// runs agree with the cpu's to the trajectory's precision.
TEST_F(Cli, FourierMeasuresOfADeviceRunMatchTheCpu) {
  SKIP_WITHOUT_DEVICE();
  const std::string exp = nanda(
      "precision=float64 task.p=23 train.steps=100 probe.spectra=false probe.every=50 "
      "probe.fourier=true probe.restricted_loss=true");
  ASSERT_EQ(run("run " + exp + " --out " + (dir_ / "cpu").string()).code, 0);
  const Result r = run(std::string("--device ") + GS_TEST_DEVICE + " run " + exp + " --out " +
                       (dir_ / "dev").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const json c = summary(dir_ / "cpu")["final"], g = summary(dir_ / "dev")["final"];
  for (const char* k :
       {"fourier.W_E.gini", "fourier.W_L.gini", "fourier.sum_sq_weights", "fourier.restricted_loss",
        "fourier.restricted_loss_train", "fourier.excluded_loss_train"}) {
    ASSERT_TRUE(c[k].is_number()) << k;
    EXPECT_NEAR(g[k].get<double>(), c[k].get<double>(), 1e-8 * std::abs(c[k].get<double>())) << k;
  }
}

TEST_F(Cli, DeviceRunsAreDeterministicAndResumeExactly) {
  SKIP_WITHOUT_DEVICE();
  const std::string dev = std::string("--device ") + GS_TEST_DEVICE + " ";
  const std::string exp = nanda(std::string("train.steps=") + (kGpu ? "3000" : "300") +
                                " train.checkpoint_every=100 train.log_every=10");
  const fs::path a = dir_ / "a", b = dir_ / "b", killed = dir_ / "killed";
  ASSERT_EQ(run(dev + "run " + exp + " --out " + a.string()).code, 0);
  ASSERT_EQ(run(dev + "run " + exp + " --out " + b.string()).code, 0);
  EXPECT_EQ(slurp(a / "metrics.jsonl"), slurp(b / "metrics.jsonl"));
  ASSERT_TRUE(run_and_kill(dev + exp, killed, kGpu ? 150 : 15));
  const Result r = run(dev + "run --resume " + killed.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(a / "metrics.jsonl"), slurp(killed / "metrics.jsonl"));
}

TEST_F(Cli, ARunStartedOnTheCpuResumesOnTheDevice) {
  SKIP_WITHOUT_DEVICE();
  const std::string exp = nanda("train.steps=60 train.checkpoint_every=20");
  const fs::path out = dir_ / "moved";
  ASSERT_EQ(run("run " + exp + " train.steps=40 --out " + out.string()).code, 0);
  const Result r = run(std::string("--device ") + GS_TEST_DEVICE + " run --resume " + out.string() +
                       " train.steps=60");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(summary(out)["steps_done"], 60);
}

// Every model family, task family and optimizer feature on the device: a 20-step float64 run
// against the cpu's, every parameter of the last checkpoint within 1e-10 (max |dev - cpu| / max
// |cpu| per parameter).
struct Trajectory {
  const char* name;
  std::string experiment;  // file and overrides
};

std::vector<Trajectory> every_family_and_feature() {
  const std::string mlp = kExamples + "grok-mlp-small.toml ";
  return {
      {"transformer", nanda("task.p=13")},
      {"mlp-pair", kExamples + "pair-mlp.toml"},
      {"diagonal", kExamples + "diag-stages.toml"},
      {"diag-attention", kExamples + "diag-attention.toml"},
      {"deep-linear", kExamples + "saxe-deep-linear.toml"},
      {"matrix-factorization", kExamples + "arora-completion.toml"},
      {"parity-hinge", kExamples + "parity-n20-k3.toml"},
      {"multitask", kExamples + "multitask-parity.toml"},
      {"incontext-regression",
       kExamples + "icl-fresh-tasks.toml optim.warmup_steps=5 model.n_layers=1 model.d_model=16 "
                   "model.d_mlp=32 task.n_test=64 train.batch_size=8"},
      {"text",
       kExamples + "text-induction-1layer.toml task.n_eval=4 model.d_model=16 train.batch_size=4"},
      {"arrays", kExamples + "arrays-grok-mlp.toml"},
      {"grokfast-ema", mlp + "optim.grad_filter=ema"},
      {"grokfast-ma", mlp + "optim.grad_filter=ma optim.filter_window=4"},
      {"weight-norm", kExamples + "omnigrok-fixed-norm.toml"},
      {"epoch-batches", mlp + "train.batch_size=100 train.batch_order=epoch"},
      {"clip-cosine-sgd", mlp + "optim.name=sgd optim.momentum=0.9 optim.lr=0.1 "
                                "optim.clip_norm=0.5 optim.decay=cosine"},
      // Prieto et al.'s model and controls (probes/numerics.h; examples/prieto-*.toml).
      {"onehot-stablemax", mlp + "model.mlp_form=onehot model.mlp_bias=false model.init=uniform "
                                 "train.loss=stablemax optim.weight_decay=0"},
      {"orthogonal-torch-float64",
       mlp + "model.mlp_form=onehot model.init=uniform "
             "optim.orthogonal=true train.softmax_numerics=torch_float64"},
      {"torch-float32", mlp + "train.softmax_numerics=torch_float32"},
  };
}

TEST_F(Cli, EveryFamilyAndFeatureFollowsTheCpuOnTheDevice) {
  SKIP_WITHOUT_DEVICE();
  const std::string common =
      " precision=float64 train.steps=20 train.log_every=10 probe.spectra=false --out ";
  for (const Trajectory& c : every_family_and_feature()) {
    const fs::path cpu = dir_ / c.name / "cpu", dev = dir_ / c.name / "dev";
    const Result a = run("run " + c.experiment + common + cpu.string());
    ASSERT_EQ(a.code, 0) << c.name << ": " << a.err;
    const Result b = run(std::string("--device ") + GS_TEST_DEVICE + " run " + c.experiment +
                         common + dev.string());
    ASSERT_EQ(b.code, 0) << c.name << ": " << b.err;
    const double worst = worst_parameter(cpu / "checkpoints/step_00000020.ckpt",
                                         dev / "checkpoints/step_00000020.ckpt", false);
    std::printf("  %-22s worst parameter %.3e\n", c.name, worst);
    EXPECT_LE(worst, 1e-10) << c.name;
    // Every column the run logged is one its config declares (what claim files are checked
    // against, run/metric_columns.h).
    const std::vector<std::string> declared =
        gradscope::declared_columns(gradscope::Config::from_file(cpu / "config.toml"));
    std::ifstream rows(cpu / "metrics.jsonl");
    std::string first;
    std::getline(rows, first);
    const nlohmann::json row = nlohmann::json::parse(first);
    for (const auto& [column, value] : row.items())
      EXPECT_TRUE(gradscope::column_declared(declared, column)) << c.name << ": " << column;
  }
}

}  // namespace
