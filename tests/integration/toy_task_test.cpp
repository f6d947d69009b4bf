// Extending gradscope from outside: a task family, a model and a measure registered at run time
// from this test binary (no gradscope file changed) and trained end to end through the normal
// trainer. The toy task: pairs (a, b) of 0..7 with class (a + b) mod task.toy_classes, a key the
// family brings along; the toy model: the sum of the two tokens' embeddings through a ReLU and a
// linear readout; the toy measure: the norm of that embedding.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "gradscope/nn/model_registry.h"
#include "gradscope/probes/measures.h"
#include "gradscope/run/trainer.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/summary_file.h"
#include "gradscope/tasks/task_family.h"
#include "gradscope/tensor/rng.h"

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

void register_toys() {
  Config::register_key({"task.toy_classes", int64_t{4}, "toy task: classes", kSchemaVersion + 1});
  register_model_family(model_entry<BagModel>("toy_bag", [](const ModelConfig&) {}));
  register_measure(GRADSCOPE_MODEL_MEASURE("toy_embedding_norm", embedding_norm));
  TaskFamily toy;
  toy.name = "toy_sum";
  toy.models = {"toy_bag"};
  toy.validate = [](const Config& c) {
    if (c.integer("task.toy_classes") < 2)
      throw ConfigError("task.toy_classes = " + std::to_string(c.integer("task.toy_classes")) +
                        " (valid: an integer >= 2)");
  };
  toy.build = toy_data;
  toy.measures = {"toy_embedding_norm"};
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
       {"name=toy", "task.name=toy_sum", "model.type=toy_bag", "model.d_hidden=16",
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

}  // namespace
}  // namespace gradscope
