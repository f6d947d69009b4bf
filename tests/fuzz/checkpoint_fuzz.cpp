// Fuzz target: checkpoints (rundir/checkpoint.h): the header reader, the layout reader of the
// Python module, and the loader into a model and optimizer, those of kTinyExperiment (the seed
// corpus holds its real checkpoints: tests/fuzz/make_corpus.sh).
#include <memory>
#include <stdexcept>

#include "fuzz_support.h"
#include "gradscope/config/config.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/rundir/checkpoint.h"
#include "gradscope/tasks/task_family.h"

namespace {

// Kept in step with tests/fuzz/make_corpus.sh.
const char* kTinyExperiment = R"(
[task]
p = 5
train_fraction = 0.6
[model]
type = "mlp"
mlp_form = "concat"
d_embed = 4
d_hidden = 8
)";

struct Target {
  std::unique_ptr<gradscope::Model<float>> model;
  std::unique_ptr<gradscope::Optimizer<float>> optimizer;
};

Target& target() {
  static Target t = [] {
    const auto c = gradscope::Config::from_string(kTinyExperiment, "tiny");
    const auto& family = gradscope::find_task_family("modular");
    const auto shape = gradscope::task_shape(family, c, family.build(c));
    Target t;
    t.model = gradscope::make_model<float>(gradscope::model_options(c), shape, 0);
    t.optimizer =
        gradscope::make_optimizer<float>(gradscope::optimizer_options(c), t.model->params().size());
    return t;
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Target& t = target();
  const auto file = gradscope_fuzz::write_input("step.ckpt", data, size);
  try {
    (void)gradscope::read_checkpoint_info(file);
  } catch (const std::runtime_error&) {
  }
  try {
    (void)gradscope::read_checkpoint_layout(file);
  } catch (const std::runtime_error&) {
  }
  try {
    (void)gradscope::load_checkpoint(file, "adamw", t.model->params(), *t.optimizer);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
