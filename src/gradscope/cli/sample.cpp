// `gradscope sample RUN_DIR --prompt TEXT`: text from a text run's checkpoint. The model is built
// from the run's config.toml alone (its alphabet: task.chars, or bytes), so the corpus need not
// be there; each new token is drawn from softmax(logits / temperature) at the last position of
// the window of the last task.seq_len tokens (temperature 0: the argmax), from
// Rng(seed, "sample"). With --device the model runs there (its parameters uploaded once, each
// window uploaded, the last position's logits read back); the draws stay on the host.
// Shape legend: L = task.seq_len, V = alphabet size.
#include <fmt/core.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "gradscope/cli/command.h"
#include "gradscope/cuda/device.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/run/training_state.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/tasks/task_family.h"
#include "gradscope/tasks/text.h"
#include "gradscope/tensor/rng.h"

namespace gradscope::cli {
namespace {

struct SampleArgs {
  std::string run, prompt;
  int64_t tokens = 200;
  double temperature = 1.0;
  uint64_t seed = 0;
  int64_t step = -1;   // -1: the last checkpoint
  std::string device;  // where the model runs (--device; empty: the cpu)
};

// The index of the next token, drawn from row `logits` [V].
template <class T>
int32_t draw(const T* logits, int64_t V, double temperature, Rng& rng) {
  int64_t best = 0;
  for (int64_t v = 1; v < V; ++v)
    if (logits[v] > logits[best]) best = v;
  if (temperature == 0) return static_cast<int32_t>(best);
  std::vector<double> p(static_cast<size_t>(V));
  double total = 0;
  for (int64_t v = 0; v < V; ++v)
    total += p[v] = std::exp((double(logits[v]) - double(logits[best])) / temperature);
  double u = rng.next_uniform() * total;
  for (int64_t v = 0; v < V; ++v)
    if ((u -= p[v]) < 0) return static_cast<int32_t>(v);
  return static_cast<int32_t>(best);
}

// The step of the checkpoint to read: `step`, or the run's last.
int64_t checkpoint_step(const std::filesystem::path& run, int64_t step) {
  const std::vector<int64_t> steps = rundir::list_checkpoints(run);
  if (steps.empty()) throw std::invalid_argument(run.string() + ": no checkpoint to sample from");
  if (step < 0) return steps.back();
  for (int64_t s : steps)
    if (s == step) return s;
  std::string valid;  // every step, or the first and last three of many
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps.size() > 8 && i == 3) valid += ", ...";
    if (steps.size() > 8 && i >= 3 && i + 3 < steps.size()) continue;
    valid += (valid.empty() ? "" : ", ") + std::to_string(steps[i]);
  }
  throw std::invalid_argument(
      fmt::format("--step {}: {} has no checkpoint at that step (valid: {}{})", step, run.string(),
                  valid, steps.size() > 8 ? fmt::format(", {} checkpoints", steps.size()) : ""));
}

template <class T>
std::string generate(const std::filesystem::path& run, const Config& c, const SampleArgs& a) {
  const TextTaskConfig text = text_options(c);
  const int64_t L = text.seq_len;
  const int64_t V =
      text.alphabet == Alphabet::bytes ? 256 : static_cast<int64_t>(text.chars.size());
  std::vector<int32_t> ids = encode_text(a.prompt, text);
  if (ids.empty()) throw std::invalid_argument("--prompt \"\" (valid: at least one character)");
  const ModelShape shape{V, V, L, 0, 0, 0, L};
  const std::unique_ptr<DeviceContext> dev = open_device(a.device);  // outlives the model
  auto model = make_model<T>(model_options(c), shape, static_cast<uint64_t>(c.integer("seed")));
  const OptimizerConfig optim = optimizer_options(c);
  auto optimizer =
      make_optimizer<T>(optim, model->params().size(), cpu_context(), model->params().spans());
  restore_training_state(rundir::checkpoint_file(run, checkpoint_step(run, a.step)), optim,
                         model->params(), *optimizer);
  if (dev) model->params().to_device(dev.get());
  Arena arena(size_t{1} << 20, dev.get());
  Tape<T> t(arena, dev.get());
  t.set_grad_enabled(false);
  Rng rng(a.seed, "sample");
  const size_t prompt = ids.size();
  std::vector<int32_t> window(static_cast<size_t>(L));  // [L]
  DeviceBuffer<int32_t> window_dev;                     // [L] on the device
  std::vector<T> row(static_cast<size_t>(V));           // [V] the last logits, read back
  if (dev) window_dev = DeviceBuffer<int32_t>(*dev, L);
  for (int64_t k = 0; k < a.tokens; ++k) {
    const int64_t n = std::min<int64_t>(L, static_cast<int64_t>(ids.size()));
    std::copy(ids.end() - n, ids.end(), window.begin());
    std::fill(window.begin() + n, window.end(), ids.back());  // causal: never read
    t.reset();
    if (dev) window_dev.upload(window.data(), L);
    const Tensor<T> logits =
        t.value(model->logits(t, dev ? window_dev.data() : window.data(), 1));  // [L, V]
    const T* last = logits.data + (n - 1) * V;
    if (dev) {
      dev->download(row.data(), last, static_cast<size_t>(V) * sizeof(T));  // waits
      last = row.data();
    }
    ids.push_back(draw(last, V, a.temperature, rng));
  }
  return decode_tokens(std::vector<int32_t>(ids.begin() + prompt, ids.end()), text);
}

int sample(const SampleArgs& a) {
  const Config c = read_run_config(a.run);
  if (!find_task_family(c.string("task.name")).text) {
    std::string valid;  // the families of text
    for (const TaskFamily& f : task_families())
      if (f.text) valid += (valid.empty() ? "task.name = \"" : ", \"") + f.name + "\"";
    throw std::invalid_argument(a.run + ": task.name = \"" + c.string("task.name") +
                                "\" (valid for gradscope sample: runs of " + valid + ")");
  }
  if (!(a.temperature >= 0) || !std::isfinite(a.temperature))
    throw std::invalid_argument(
        fmt::format("--temperature {} (valid: a number >= 0; 0: argmax)", a.temperature));
  const std::string text = c.string("precision") == "float64" ? generate<double>(a.run, c, a)
                                                              : generate<float>(a.run, c, a);
  fmt::print("{}{}\n", a.prompt, text);
  return 0;
}

Action define(CLI::App& sub, const Globals& g) {
  auto a = std::make_shared<SampleArgs>();
  sub.add_option("run_dir", a->run, "run directory")->required();
  sub.add_option("--prompt", a->prompt, "the text to continue")->required();
  sub.add_option("--tokens", a->tokens, "tokens to generate")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  sub.add_option("--temperature", a->temperature, "softmax temperature (0: argmax)")
      ->capture_default_str();
  sub.add_option("--seed", a->seed, "seed of the draws")->capture_default_str();
  sub.add_option("--step", a->step, "checkpoint step (default: the last)");
  return [a, &g] {
    a->device = g.device;
    return sample(*a);
  };
}

}  // namespace

Command sample_command() {
  return {"sample", "print text from a text run's checkpoint (task.name = text)", &define};
}

}  // namespace gradscope::cli
