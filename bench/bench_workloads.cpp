// gradscope's side of the side-by-side benchmark (bench/compare/compare.py runs it interleaved
// with PyTorch's bench/compare/torch_workloads.py): one training step of a workload built from an
// example file, timed REPEATS times after 3 warm-up steps (text-eval: one evaluation, after one).
//
// Usage: bench_workloads WORKLOAD THREADS REPEATS [DEVICE] [KEY=VALUE ...]
// KEY=VALUE arguments override the text-gpt and text-eval workloads' example file (make bench's GPT
// rows at d_model 256 and 512 are text-gpt with the model's and the batch's sizes overridden).
// Prints one JSON line: {"workload", "threads", "median_s", "times_s", "gemm_gflop" (matrix FLOPs
// gradscope performs per step, counted at every GEMM), "peak_rss_mb"}.
//
// With DEVICE cuda (or emulated) the workloads nanda, pair-mlp, power and induction run as a run
// on that device runs them (run/steps.h: the step as CUDA graphs replayed), built from
// the example file with device = DEVICE; a step is timed from its start to the device's finish
// (gradient, loss read back, update, synchronize). There `replicas=K` times a replica group of K
// runs (seeds 0..K-1) taking one stacked step (cuda/replica_device.h); the JSON line then also
// gives per_replica_s, the step's time over K.
//
// Workloads: nanda (examples/nanda-grokking.toml with gradscope's exact shortcuts), nanda-plain
// (the same without them: every position through the last layer, no token tables), pair-mlp,
// power (examples/power-add.toml at batch 512), diag-attention, probe (the spectral probe on the
// nanda model), text-gpt (examples/text-gpt.toml's step: train.batch_size of its evaluation
// windows, every position's loss), text-eval (one evaluation of text-gpt's run: the time is an
// evaluation's, not a step's), sgemm (a 2048^3 single-precision GEMM through OpenBLAS at
// THREADS threads: the machine's rate in the same run).
#include <cblas.h>
#include <fmt/core.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/cuda/replica_device.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/nn/models.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/probes/objective.h"
#include "gradscope/probes/spectra.h"
#include "gradscope/run/batches.h"
#include "gradscope/run/evaluation.h"
#include "gradscope/run/experiment.h"
#include "gradscope/run/steps.h"
#include "gradscope/run/validate.h"
#include "gradscope/tasks/task_family.h"
#include "gradscope/tensor/blas.h"
#include "gradscope/tensor/rng.h"
#include "gradscope/tensor/threads.h"

extern "C" void openblas_set_num_threads(int);

namespace {

using namespace gradscope;

// Setup's batch_size that means "the resolved config's train.batch_size".
constexpr int64_t kConfigBatch = -1;

// Everything one training step needs, built as `gradscope run` builds it.
struct Setup {
  Config cfg;
  TaskData data;
  std::unique_ptr<Model<float>> model;
  std::unique_ptr<Optimizer<float>> opt;
  Arena arena;
  std::unique_ptr<Tape<float>> tape;
  Examples batch;

  Setup(const std::string& example, const std::vector<std::string>& overrides, int64_t batch_size,
        const std::function<void(ModelConfig&)>& adjust = {}) {
    cfg = Config::from_file(std::string(GRADSCOPE_SOURCE_DIR) + "/examples/" + example);
    for (const auto& o : overrides) cfg.apply_override(o);
    validate_experiment(cfg);
    const TaskFamily& family = find_task_family(cfg.string("task.name"));
    data = family.build(cfg);
    const ModelShape shape = task_shape(family, cfg, data);
    ModelConfig mc = model_options(cfg);
    if (adjust) adjust(mc);
    model = make_model<float>(mc, shape, 0);
    opt = make_optimizer<float>(optimizer_options(cfg), model->params().size());
    tape = std::make_unique<Tape<float>>(arena);
    batch = all_examples(data.train);
    if (batch_size == kConfigBatch) batch_size = cfg.integer("train.batch_size");
    if (batch_size > 0) batch.n = std::min(batch.n, batch_size);  // the first examples
  }

  void step() {
    ParamStore<float>& ps = model->params();
    tape->reset();
    ps.zero_grad();
    Var loss = objective(*tape, model_outputs(*tape, *model, data.train, batch), data.train, batch);
    tape->backward(loss);
    opt->step(ps.values(), ps.grads(), cfg.real("optim.lr"));
  }
};

// text-eval: examples/text-gpt.toml's run (with the overrides) as `gradscope run` builds it, one
// step taken; evaluate() is one of its evaluations (both splits, the model measures, the
// prefix-matching probe), as the run makes at every logged step.
struct EvaluationRun {
  std::unique_ptr<Experiment<float>> x;
  std::optional<Steps<float>> steps;
  explicit EvaluationRun(const std::vector<std::string>& overrides) {
    Config c = Config::from_file(std::string(GRADSCOPE_SOURCE_DIR) + "/examples/text-gpt.toml");
    for (const std::string& o : overrides) c.apply_override(o);
    x = Experiment<float>::build(c);
    Batches batches(x->data, x->train.batch_size, x->seed);
    steps.emplace(*x, batches.size());
    steps->gradient(batches.at(0), false);
    steps->update(1e-3);
  }
  void evaluate() {
    (void)gradscope::evaluate(*x, steps->eval_tape(), steps->host_tape(), 1, 1e-3, 0.0, true);
  }
};

// One replica's run on a device for device_bench: its experiment (seed = its index), batches and
// step.
struct DeviceReplica {
  std::unique_ptr<Experiment<float>> x;
  Batches batches;
  Steps<float> steps;
  DeviceReplica(const Config& c, std::unique_ptr<DeviceContext> device)
      : x(Experiment<float>::build(c, std::move(device))),
        batches(x->data, x->train.batch_size, x->seed),
        steps(*x, batches.size()) {}
  void queue(int64_t s) {
    steps.queue_gradient(batches.full() ? Examples{} : batches.at(s), batches.full());
  }
  void finish() {
    steps.loss();
    steps.update(1e-3);
  }
};

// One training step of workload w on a device, timed `repeats` times after warm-up (the eager
// first step and the captured second one). With replicas K > 0 the step is a replica group's
// (run/replicas.h): K runs of seeds 0..K-1 on one ReplicaDevice, each queueing its gradient, one
// stacked step, each reading its loss and preparing its update.
int device_bench(const std::string& w, const std::string& device, int repeats, int replicas) {
  std::string file;
  std::vector<std::string> overrides = {"device=" + device, "probe.spectra=false"};
  if (w == "nanda") file = "nanda-grokking.toml";
  if (w == "pair-mlp") file = "pair-mlp.toml";
  if (w == "power") file = "power-add.toml", overrides.push_back("train.batch_size=512");
  if (w == "induction") file = "induction-2layer.toml";
  if (file.empty()) {
    fmt::print(stderr,
               "bench_workloads: {} does not run on a device (valid: nanda, pair-mlp, "
               "power, induction)\n",
               w);
    return 2;
  }
  Config c = Config::from_file(std::string(GRADSCOPE_SOURCE_DIR) + "/examples/" + file);
  for (const std::string& o : overrides) c.apply_override(o);
  std::optional<ReplicaDevice> group;
  if (replicas > 0) group.emplace(device_from_name(device), replicas);
  std::vector<std::unique_ptr<DeviceReplica>> runs;
  for (int r = 0; r < std::max(replicas, 1); ++r) {
    Config rc = c;
    if (replicas > 0) rc.apply_override("seed=" + std::to_string(r));
    runs.push_back(std::make_unique<DeviceReplica>(rc, group ? group->member() : nullptr));
  }
  int64_t s = 0;
  auto step = [&] {
    for (auto& r : runs) r->queue(s);
    if (group) group->flush();
    for (auto& r : runs) r->finish();
    runs[0]->x->context->sync();
    ++s;
  };
  for (int i = 0; i < 5; ++i) step();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  std::string list;
  for (double t : times) list += (list.empty() ? "" : ", ") + fmt::format("{}", t);
  const double median = times[times.size() / 2];
  fmt::print(
      "{{\"workload\": \"{}\", \"device\": \"{}\", \"replicas\": {}, \"median_s\": {}, "
      "\"per_replica_s\": {}, \"times_s\": [{}]}}\n",
      w, device, replicas, median, median / std::max(replicas, 1), list);
  if (group) fmt::print(stderr, "{}\n", group->describe());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional, overrides;
  for (int i = 1; i < argc; ++i)
    (std::string(argv[i]).find('=') == std::string::npos ? positional : overrides)
        .push_back(argv[i]);
  if (positional.size() == 4 && positional[3] != "cpu") {
    int replicas = 0;
    for (const std::string& o : overrides)
      if (o.rfind("replicas=", 0) == 0) replicas = std::atoi(o.c_str() + 9);
    return device_bench(positional[0], positional[3], std::atoi(positional[2].c_str()), replicas);
  }
  if (positional.size() != 3 && positional.size() != 4) {
    fmt::print(stderr,
               "usage: bench_workloads WORKLOAD THREADS REPEATS [DEVICE] [KEY=VALUE ...]\n");
    return 2;
  }
  const std::string w = positional[0];
  const int threads = std::atoi(positional[1].c_str()), repeats = std::atoi(positional[2].c_str());
  if (!overrides.empty() && w != "text-gpt" && w != "text-eval") {
    fmt::print(stderr,
               "bench_workloads: KEY=VALUE overrides apply to text-gpt and text-eval only, not "
               "{}\n",
               w);
    return 2;
  }
  set_num_threads(threads);

  std::optional<Setup> s;
  std::function<void()> step;
  std::vector<float> A, B, C;
  std::optional<SpectralProbe<float>> probe;
  std::optional<EvaluationRun> eval_run;
  if (w == "nanda") {
    s.emplace("nanda-grokking.toml", std::vector<std::string>{}, 0);
  } else if (w == "nanda-plain") {
    s.emplace("nanda-grokking.toml", std::vector<std::string>{}, 0, [](ModelConfig& m) {
      m.last_position_only = false;
      m.token_tables = false;
    });
  } else if (w == "pair-mlp") {
    s.emplace("pair-mlp.toml", std::vector<std::string>{}, 0);
  } else if (w == "power") {
    s.emplace("power-add.toml", std::vector<std::string>{}, 512);
  } else if (w == "text-gpt") {
    s.emplace("text-gpt.toml", overrides, kConfigBatch);
  } else if (w == "text-eval") {
    eval_run.emplace(overrides);
    step = [&] { eval_run->evaluate(); };
  } else if (w == "diag-attention") {
    s.emplace("diag-attention.toml", std::vector<std::string>{}, 0);
  } else if (w == "probe") {
    s.emplace("nanda-grokking.toml", std::vector<std::string>{}, 0);
    for (int i = 0; i < 5; ++i) s->step();  // W_t != W_0
    probe.emplace(*s->model, ProbeConfig{});
    step = [&] {
      probe->measure(0, s->model->params().values(), s->model->params().initial_values());
    };
  } else if (w == "sgemm") {
    const int n = 2048;
    A.assign(size_t(n) * n, 1.0f);
    B.assign(size_t(n) * n, 0.5f);
    C.assign(size_t(n) * n, 0.0f);
    openblas_set_num_threads(threads);
    step = [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A.data(), n, B.data(),
                  n, 0.0f, C.data(), n);
    };
  } else {
    fmt::print(stderr,
               "bench_workloads: unknown workload {} (valid: nanda, nanda-plain, pair-mlp, power, "
               "diag-attention, probe, text-gpt, text-eval, sgemm)\n",
               w);
    return 2;
  }
  if (!step) step = [&] { s->step(); };

  for (int i = 0; i < (w == "text-eval" ? 1 : 3); ++i) step();  // an evaluation: seconds
  std::vector<double> times;
  const int64_t flops0 = gemm_flops();
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double gflop =
      w == "sgemm" ? 2.0 * 2048 * 2048 * 2048 / 1e9 : double(gemm_flops() - flops0) / repeats / 1e9;
  std::sort(times.begin(), times.end());
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::string list;
  for (double t : times) list += (list.empty() ? "" : ", ") + fmt::format("{}", t);
  fmt::print(
      "{{\"workload\": \"{}\", \"threads\": {}, \"median_s\": {}, \"times_s\": [{}], "
      "\"gemm_gflop\": {}, \"peak_rss_mb\": {}}}\n",
      w, threads, times[times.size() / 2], list, gflop, double(ru.ru_maxrss) / 1024);
  return 0;
}
