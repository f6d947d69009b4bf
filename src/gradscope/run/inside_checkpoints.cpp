// The inside view over a run's checkpoints: see inside_checkpoints.h.
#include "gradscope/run/inside_checkpoints.h"

#include <fmt/core.h>

#include "gradscope/autograd/tape.h"
#include "gradscope/probes/inside.h"
#include "gradscope/run/experiment.h"
#include "gradscope/run/training_state.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/spectra_files.h"

namespace gradscope {

namespace fs = std::filesystem;

namespace {

// Frames already in `folder` fix the layout (windows, examples, kept indices): settings that
// would give the new frames another one are refused before anything is written. (The neurons
// come from inside/neurons.npy; the probe refuses another inside.neurons at its first pass.)
void check_same_layout(nlohmann::ordered_json now, const fs::path& folder) {
  const fs::path index = folder / "inside.json";
  if (!fs::exists(index)) return;
  nlohmann::ordered_json before = nlohmann::ordered_json::parse(read_file(index));
  for (nlohmann::ordered_json* j : {&now, &before}) {
    j->erase("every");  // the training schedule, not what a frame holds
    j->erase("neurons");
  }
  if (now != before)
    throw ConfigError(fmt::format(
        "inside.*: {} holds frames taken with other inside settings (their windows or examples "
        "differ); use the settings of its frames, or take these into a copy of the run without "
        "inside/",
        folder.string()));
}

template <class T>
int frames_at(const CheckpointMeasureRequest& r, const Config& config,
              const std::vector<int64_t>& steps, std::FILE* out) {
  const fs::path folder = r.run / "inside";
  const auto x = Experiment<T>::build(config);
  ParamStore<T>& ps = x->model->params();
  Arena arena;
  Tape<T> tape(arena);
  InsideProbe<T> probe(*x->model, config, x->data);
  auto load = [&](int64_t s) {
    restore_training_state(rundir::checkpoint_file(r.run, s), x->optim, ps, *x->optimizer);
  };
  const std::map<std::string, std::string> before = read_probe_files(folder);
  const int64_t last = rundir::list_checkpoints(r.run).back();
  load(last);
  if (before.count("neurons.npy")) {
    probe.restore(before, 0);
    probe.check_restored_neurons(tape);
  } else {
    probe.choose_neurons_by_activation(last, tape);
  }
  check_same_layout(probe.layout(), folder);  // every setting checked before a line is printed
  fmt::print(out, "gradscope inside {}: frames at {} checkpoints into inside/\n", r.run.string(),
             steps.size());
  int64_t taken = 0;
  for (int64_t s : steps) {
    if (fs::exists(folder / std::to_string(s) / "frame.json")) {
      fmt::print(out, "step {}: taken before (inside/{}/)\n", s, s);
      continue;
    }
    load(s);
    probe.measure(s, ps, tape);
    write_probe_files(folder, probe.files());
    fmt::print(out, "step {}: frame written (inside/{}/)\n", s, s);
    std::fflush(out);
    ++taken;
  }
  fmt::print(out, "gradscope inside {}: {} frames written, {} taken before\n", r.run.string(),
             taken, int64_t(steps.size()) - taken);
  return 0;
}

}  // namespace

int inside_over_checkpoints(const CheckpointMeasureRequest& r, std::FILE* out) {
  const Config config =
      checkpoint_measure_config(r.run, "inside", "inside.", r.overrides, r.device);
  const std::vector<int64_t> steps = chosen_checkpoint_steps(r.run, r.steps);
  return config.string("precision") == "float64" ? frames_at<double>(r, config, steps, out)
                                                 : frames_at<float>(r, config, steps, out);
}

}  // namespace gradscope
