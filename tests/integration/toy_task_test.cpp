// Extending gradscope from outside: the README's "How to extend" examples (a task family, a model,
// a measure and a probe measure) registered at run time from this test binary (no gradscope file
// changed) and trained end to end through the normal trainer. The toy task: pairs (a, b) of 0..7
// with class (a + b) mod task.toy_classes, a key the family brings along; the toy model (BagModel):
// the sum of the two tokens' embeddings through a ReLU and a linear readout; the measure: the norm
// of that embedding; the probe measure (UpdateNorms, on with probe.update_norms): ||theta_t -
// theta_0|| at probe steps, kept in update_norms/ and summarized. Also: train.flush_subnormals as
// a step sees it (a measure reading each kernel thread's arithmetic mode).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "gradscope/nn/model_registry.h"
#include "gradscope/probes/measures.h"
#include "gradscope/run/trainer.h"
#include "gradscope/run/validate.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/summary_file.h"
#include "gradscope/tasks/task_family.h"
#include "gradscope/tensor/npy.h"
#include "gradscope/tensor/rng.h"
#include "gradscope/tensor/threads.h"

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

namespace gradscope {
namespace {

namespace fs = std::filesystem;

// Shape legend: N = examples, L = 2 tokens, V = 8 token values, H = d_hidden, C = classes.
template <class T>
class BagModel final : public Model<T> {
 public:
  BagModel(const ModelConfig& c, const ModelShape& s, uint64_t seed) : s_(s), H_(c.d_hidden) {
    ParamStore<T>& ps = this->params_;
    E_ = ps.add("bag.E", {s.vocab, H_});        // [V, H]
    W_ = ps.add("bag.W", {H_, s.num_classes});  // [H, C]
    ps.finalize();
    Rng rng(seed, "init");
    for (int i : {E_, W_}) rng.fill_normal(ps.value(i).data, ps.value(i).numel(), 0.0, 0.5);
    ps.save_initial();
  }
  int64_t outputs() const override { return s_.num_classes; }
  Var forward(Tape<T>& t, const Batch& b) override {
    ParamStore<T>& ps = this->params_;
    Var x = embedding(t, b.ids, Shape{b.n, 2}, ps.on(t, E_));      // [N, 2, H]
    Var sum = add(t, slice(t, x, 1, 0, 1), slice(t, x, 1, 1, 1));  // [N, 1, H]
    Var h = relu(t, reshape(t, sum, Shape{b.n, H_}));              // [N, H]
    return linear(t, h, ps.on(t, W_));                             // [N, C]
  }

 private:
  ModelShape s_;
  int64_t H_;
  int E_ = -1, W_ = -1;
};

TaskData toy_data(const Config& c) {
  const int64_t classes = c.integer("task.toy_classes");
  TaskData d;
  d.vocab = 8;
  d.num_classes = classes;
  d.description = "toy (a + b) mod " + std::to_string(classes);
  for (Dataset* s : {&d.train, &d.test}) s->length = 2;
  for (int32_t a = 0; a < 8; ++a)
    for (int32_t b = 0; b < 8; ++b) {
      Dataset& s = (a * 8 + b) % 3 == 0 ? d.test : d.train;  // a fixed split
      s.inputs.insert(s.inputs.end(), {a, b});
      s.targets.push_back(static_cast<int32_t>((a + b) % classes));
    }
  return d;
}

template <class T>
void embedding_norm(Model<T>& model, Tape<T>&, const TaskData&, MetricValues& row) {
  ParamStore<T>& ps = model.params();
  const Tensor<T> e = ps.value(ps.index("bag.E"));
  double sq = 0;
  for (int64_t i = 0; i < e.numel(); ++i) sq += double(e.data[i]) * double(e.data[i]);
  row.emplace_back("toy.embedding_norm", std::sqrt(sq));
}

// A probe measure: ||theta_t - theta_0|| at each probe step, kept as update_norms/steps.npy and
// update_norms/norms.npy [n_probed]; its summary section holds the last value.
template <class T>
class UpdateNorms final : public ProbeMeasure<T> {
 public:
  UpdateNorms(Model<T>&, const Config&, const TaskData&) {}
  std::vector<std::string> metric_names() const override { return {"update_norm"}; }
  std::vector<double> measure(int64_t step, ParamStore<T>& ps, Tape<T>&) override {
    const std::span<const T> now = ps.values(), start = ps.initial_values();
    double sq = 0;
    for (size_t i = 0; i < now.size(); ++i) sq += std::pow(double(now[i]) - double(start[i]), 2);
    steps_.push_back(float(step));
    norms_.push_back(float(std::sqrt(sq)));
    return {std::sqrt(sq)};
  }
  ProbeFiles files() override {
    const auto n = static_cast<int64_t>(steps_.size());
    return {{"steps.npy", encode_npy_f32(steps_, n, 0)},
            {"norms.npy", encode_npy_f32(norms_, n, 0)}};
  }
  void restore(const std::map<std::string, std::string>& files, int64_t keep_before) override {
    if (!files.contains("steps.npy")) return;
    int64_t n = 0, one = 0;
    steps_ = decode_npy_f32(files.at("steps.npy"), n, one, "update_norms/steps.npy");
    norms_ = decode_npy_f32(files.at("norms.npy"), n, one, "update_norms/norms.npy");
    size_t keep = 0;
    while (keep < steps_.size() && steps_[keep] < float(keep_before)) ++keep;
    steps_.resize(keep);
    norms_.resize(keep);
  }
  void summarize(std::span<const MetricValues>, std::optional<int64_t>,
                 nlohmann::ordered_json& sections) const override {
    sections["update_norms"] = {{"probed", steps_.size()}, {"last", norms_.back()}};
  }

 private:
  std::vector<float> steps_, norms_;
};

// Registers the toys once per process (each test may run alone).
void register_toys() {
  static bool done = false;
  if (done) return;
  done = true;
  Config::register_key({"task.toy_classes", int64_t{4}, "toy task: classes", kSchemaVersion + 1});
  Config::register_key(
      {"probe.update_norms", false, "toy probe: ||theta_t - theta_0||", kSchemaVersion + 1});
  register_measure(
      probe_measure<UpdateNorms>("update_norms", "probe.update_norms", "update_norms"));
  register_model_family(model_entry<BagModel>("bag", [](const ModelConfig&) {}));
  register_measure(GRADSCOPE_MODEL_MEASURE("embedding_norm", embedding_norm));
  TaskFamily toy;
  toy.name = "toy_sum";
  toy.models = {"bag"};
  toy.validate = [](const Config& c) {
    if (c.integer("task.toy_classes") < 2)
      throw ConfigError("task.toy_classes = " + std::to_string(c.integer("task.toy_classes")) +
                        " (valid: an integer >= 2)");
  };
  toy.build = toy_data;
  toy.measures = {"embedding_norm"};
  toy.monitored = {"test_acc", "toy.*"};
  toy.summary_line = [](const nlohmann::ordered_json& s) {
    return "toy line: final test accuracy " + s["final"]["test_acc"].dump();
  };
  register_task_family(toy);
}

TEST(Registries, AToyTaskModelAndMeasureTrainThroughTheNormalTrainer) {
  register_toys();
  Config c;
  for (const char* kv :
       {"name=toy", "task.name=toy_sum", "model.type=bag", "model.d_hidden=16",
        "task.toy_classes=4", "train.steps=60", "train.log_every=20", "optim.weight_decay=0.1"})
    c.apply_override(kv);
  RunOptions o;
  o.dir = fs::temp_directory_path() / ("gradscope_toy_" + std::to_string(::getpid()));
  o.force = true;
  testing::internal::CaptureStdout();
  const int code = run_experiment(c, o);
  const std::string out = testing::internal::GetCapturedStdout();
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("toy (a + b) mod 4"), std::string::npos) << out;  // the family's data
  EXPECT_NE(out.find("toy: completed; toy line: final test accuracy"), std::string::npos) << out;
  const std::vector<MetricsRow> rows = read_metrics(o.dir);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.back().step(), 60);
  EXPECT_TRUE(std::isfinite(rows.back().get("toy.embedding_norm")));         // the measure
  EXPECT_TRUE(std::isfinite(rows.back().get("spectra.bag.E.stable_rank")));  // probed as usual
  const std::optional<Summary> s = read_summary(o.dir);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->phase_changes.contains("test_acc"));  // the family's monitored metrics
  EXPECT_TRUE(s->phase_changes.contains("toy.embedding_norm"));
  EXPECT_FALSE(s->phase_changes.contains("train_loss"));
  fs::remove_all(o.dir);

  // Its key is validated like any other, and the trainer refuses a model that does not fit.
  c.apply_override("task.toy_classes=1");
  EXPECT_THROW(run_experiment(c, o), ConfigError);
  c.apply_override("task.toy_classes=4");
  c.apply_override("model.type=transformer");
  EXPECT_THROW(run_experiment(c, o), ConfigError);
  EXPECT_FALSE(fs::exists(o.dir));
}

// The probe measure: off by default; on, its column is measured at probe steps only, its files
// and summary section are written, and a run resumed (extended from 60 to 100 steps) ends with
// the files and metrics of a run that went to 100 at once.
TEST(Registries, AToyProbeMeasureWritesFilesAndResumesExactly) {
  register_toys();
  Config c;
  for (const char* kv : {"name=toy", "task.name=toy_sum", "model.type=bag", "model.d_hidden=16",
                         "train.steps=100", "train.log_every=10", "probe.every=20"})
    c.apply_override(kv);
  const fs::path root =
      fs::temp_directory_path() / ("gradscope_toyprobe_" + std::to_string(::getpid()));
  RunOptions whole;
  whole.dir = root / "whole";
  testing::internal::CaptureStdout();
  ASSERT_EQ(run_experiment(c, whole), 0);
  EXPECT_FALSE(fs::exists(whole.dir / "update_norms"));  // off unless its key is true
  EXPECT_TRUE(std::isnan(read_metrics(whole.dir).back().get("update_norm")));

  c.apply_override("probe.update_norms=true");
  whole.force = true;
  ASSERT_EQ(run_experiment(c, whole), 0);
  const std::vector<MetricsRow> rows = read_metrics(whole.dir);
  for (const MetricsRow& r : rows)  // probe steps: 0, 20, ..., 100
    EXPECT_EQ(std::isfinite(r.get("update_norm")), r.step() % 20 == 0) << r.step();
  EXPECT_GT(rows.back().get("update_norm"), 0);
  const std::optional<Summary> s = read_summary(whole.dir);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->extra.contains("update_norms")) << summary_to_json(*s).dump();
  EXPECT_EQ(s->extra["update_norms"]["probed"], 6);
  EXPECT_FLOAT_EQ(s->extra["update_norms"]["last"].get<float>(),
                  float(rows.back().get("update_norm")));

  RunOptions part;
  part.dir = root / "part";
  c.apply_override("train.steps=60");
  c.apply_override("train.checkpoint_every=30");
  ASSERT_EQ(run_experiment(c, part), 0);
  c.apply_override("train.steps=100");
  part.resume = true;
  ASSERT_EQ(run_experiment(c, part), 0);
  testing::internal::GetCapturedStdout();
  for (const char* f : {"metrics.jsonl", "update_norms/steps.npy", "update_norms/norms.npy"})
    EXPECT_EQ(read_file(part.dir / f), read_file(whole.dir / f)) << f;
  fs::remove_all(root);
}

}  // namespace
}  // namespace gradscope

namespace gradscope {
namespace {

#if defined(__SSE2__)
bool flushing_here() {
  return (_mm_getcsr() & 0x8040) == 0x8040;  // MXCSR's FTZ and DAZ
}

// The share of the kernels' threads (one parallel_for chunk each) whose arithmetic flushes
// subnormals, and whether the calling thread's does: the mode a step's evaluation runs in.
template <class T>
void flush_mode(Model<T>&, Tape<T>&, const TaskData&, MetricValues& row) {
  const int n = num_threads();
  std::vector<int> on(static_cast<size_t>(n), 0);
  parallel_for(n, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) on[i] = flushing_here();
  });
  double share = 0;
  for (int v : on) share += v / double(n);
  row.emplace_back("toy.flush_threads", share);
  row.emplace_back("toy.flush_here", flushing_here());
}

// train.flush_subnormals: on, every kernel thread of every step flushes (the toy trained on two
// threads); off, none does; and the mode ends with the run (this thread's is IEEE's again).
TEST(Registries, FlushSubnormalsHoldsOnEveryKernelThreadDuringTheRunOnly) {
  register_toys();
  static bool done = false;
  if (!done) {
    done = true;
    register_measure(GRADSCOPE_MODEL_MEASURE("flush_mode", flush_mode));
    TaskFamily toy = find_task_family("toy_sum");
    toy.name = "toy_flush";
    toy.measures = {"flush_mode"};
    toy.summary_line = nullptr;
    register_task_family(toy);
  }
  set_num_threads(2);
  for (const bool flush : {true, false}) {
    Config c;
    for (const char* kv : {"name=toy", "task.name=toy_flush", "model.type=bag", "model.d_hidden=16",
                           "train.steps=20", "train.log_every=10"})
      c.apply_override(kv);
    c.apply_override(flush ? "train.flush_subnormals=true" : "train.flush_subnormals=false");
    RunOptions o;
    o.dir = fs::temp_directory_path() / ("gradscope_toyflush_" + std::to_string(::getpid()));
    o.force = true;
    testing::internal::CaptureStdout();
    const int code = run_experiment(c, o);
    const std::string out = testing::internal::GetCapturedStdout();
    ASSERT_EQ(code, 0) << out;
    const std::vector<MetricsRow> rows = read_metrics(o.dir);
    ASSERT_GE(rows.size(), 3u);  // steps 0, 10, 20 and the probe steps
    for (const MetricsRow& r : rows) {
      EXPECT_EQ(r.get("toy.flush_threads"), flush ? 1.0 : 0.0) << r.step();
      EXPECT_EQ(r.get("toy.flush_here"), flush ? 1.0 : 0.0) << r.step();
    }
    EXPECT_FALSE(flushing_here());
    fs::remove_all(o.dir);
  }
  set_num_threads(1);

  // Off the cpu it is refused in one line, before anything is written.
  Config c;
  for (const char* kv : {"name=toy", "task.name=toy_flush", "model.type=bag",
                         "train.flush_subnormals=true", "device=emulated"})
    c.apply_override(kv);
  try {
    validate_experiment(c);
    ADD_FAILURE() << "device = emulated with train.flush_subnormals was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("train.flush_subnormals"), std::string::npos);
  }
}
#endif

}  // namespace
}  // namespace gradscope
