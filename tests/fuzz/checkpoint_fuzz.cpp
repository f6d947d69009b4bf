// Fuzz target: checkpoints (rundir/checkpoint.h): the header reader, the layout reader of the
// Python module, and the loader into a model and optimizer, those of tests/fixtures/tiny.toml
// (the seed corpus holds its real checkpoints: tests/fuzz/make_corpus.sh). Each input is read as
// it is (the checksum rejects almost every mutation) and again resealed: its last 4 bytes
// replaced by the CRC-32 of the rest, so that the parser behind the checksum is fuzzed too.
#include <zlib.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "fuzz_support.h"
#include "gradscope/config/config.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/run/training_state.h"
#include "gradscope/rundir/files.h"
#include "gradscope/tasks/task_family.h"

namespace {

struct Target {
  gradscope::OptimizerConfig optim;
  std::unique_ptr<gradscope::Model<float>> model;
  std::unique_ptr<gradscope::Optimizer<float>> optimizer;
};

Target& target() {
  static Target t = [] {
    const auto c = gradscope::Config::from_string(
        gradscope::read_file(GRADSCOPE_SOURCE_DIR "/tests/fixtures/tiny.toml"), "tiny.toml");
    const auto& family = gradscope::find_task_family("modular");
    const auto shape = gradscope::task_shape(family, c, family.build(c));
    Target t;
    t.model = gradscope::make_model<float>(gradscope::model_options(c), shape, 0);
    t.optim = gradscope::optimizer_options(c);
    t.optimizer = gradscope::make_optimizer<float>(t.optim, t.model->params().size());
    return t;
  }();
  return t;
}

void read_all(const std::filesystem::path& file) {
  Target& t = target();
  try {
    (void)gradscope::read_checkpoint_info(file);
  } catch (const std::runtime_error&) {
  }
  try {
    (void)gradscope::read_checkpoint_layout(file);
  } catch (const std::runtime_error&) {
  }
  try {
    (void)gradscope::restore_training_state(file, t.optim, t.model->params(), *t.optimizer);
  } catch (const std::runtime_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  read_all(gradscope_fuzz::write_input("step.ckpt", data, size));
  if (size < 4) return 0;
  std::string sealed(reinterpret_cast<const char*>(data), size);
  const auto crc = static_cast<uint32_t>(
      crc32_z(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(data), size - 4));
  std::memcpy(sealed.data() + size - 4, &crc, 4);
  read_all(gradscope_fuzz::write_input(
      "sealed.ckpt", reinterpret_cast<const uint8_t*>(sealed.data()), sealed.size()));
  return 0;
}
