// The inside view (probe.inside = true; `gradscope inside RUN` over checkpoints): snapshots of what
// the model is at a step, for the viewer's inside page, the report and gs.Run.inside(step). Every
// inside.every steps (and at the run's last step) a frame goes into inside/<step>/, written from
// the host copy of the parameters (any device), outside the log rows: metrics.jsonl and
// summary.json stay as they are without it. A frame holds
//   param.<name>.npy   every matrix parameter, float32 [r, c], r, c <= 256: a fixed subset of
//                      rows and columns (evenly spaced indices, never averaged: a row stays one
//                      neuron), the indices in inside.json
//   modular tasks      (p <= 256; a larger p keeps the parameters alone)
//                      neurons.npy  float32 [k, p, p]: k fixed MLP neurons' activation (the last
//                                   MLP's, at the readout position) over every pair (a, b)
//                      embed_pca.npy float32 [p, 2]: the p residue rows of W_E (centred) on
//                                   their two leading principal components
//                      embed_key.npy float32 [p, 2]: the same rows on the plane of W_E's
//                                   dominant frequency k (cos and sin of 2 pi k a / p)
//                      attention.npy float32 [layers * heads, p, p, L]: the readout position's
//                                   attention over every pair (transformers)
//   sequence tasks     attention.npy float32 [layers * heads, W, T, T]: each head's pattern on W
//                      (text, induction)   fixed held-out windows, T <= 128 positions (causal: the
//                                   first T rows are exact)
//   regression tasks   predictions.npy float32 [S, Y]: the outputs on S fixed test examples
//   frame.json         written last (a frame is complete when it exists): the step, the key
//                      frequency, per neuron its top frequency and the share of its 2-D Fourier
//                      power there, per head its induction score on the windows (its attention
//                      on the token after the previous occurrence: inside.json's
//                      induction_targets, the task's copied segments where it marks them)
// and inside/inside.json the frames' fixed layout (kept indices, neurons, windows and, for text,
// their tokens as text, targets),
// inside/neurons.npy the chosen neurons (float32 [k], kept on resume).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/probes/measures.h"

namespace gradscope {

struct TextTaskConfig;

// The inside.* keys (config/options.h; defaults, valid values and help in config/schema.cpp).
struct InsideOptions {
  int64_t every = option<int64_t>("inside.every");  // 0: ceil(train.steps / 100)
  int64_t neurons = option<int64_t>("inside.neurons");
  int64_t sequences = option<int64_t>("inside.sequences");
  bool operator==(const InsideOptions&) const = default;
};
InsideOptions inside_options(const Config& config);
// The steps between frames of a run of `steps` steps.
int64_t inside_every(const InsideOptions& options, int64_t steps);

constexpr int64_t kInsideMaxDim = 256;     // rows and columns kept of a parameter matrix
constexpr int64_t kInsideMaxWindow = 128;  // positions kept of a window's attention pattern

// The share of a map M [p, p] (rows a, columns b) 2-D Fourier power (the constant term left out)
// in its top frequency k: the terms of the real basis 1, cos_k, sin_k on each axis but (1, 1).
// `top` receives that k (1..(p-1)/2).
double top_frequency_share(const double* map, int64_t p, int64_t* top = nullptr);

template <class T>
class InsideProbe final : public ProbeMeasure<T> {
 public:
  // Throws std::invalid_argument naming the key on a model it cannot look into.
  InsideProbe(Model<T>& model, const Config& config, const TaskData& data);

  std::vector<std::string> metric_names() const override { return {}; }
  bool own_schedule() const override { return true; }
  bool due(int64_t step, bool end) const override { return end || step % every_ == 0; }
  // Takes the frame at `step` (kept until files() hands it out).
  std::vector<double> measure(int64_t step, ParamStore<T>& params, Tape<T>& host) override;
  // The frames taken since the last call, and inside.json and neurons.npy when they changed.
  ProbeFiles files() override;
  // Keeps the neurons chosen before (neurons.npy).
  void restore(const std::map<std::string, std::string>& files, int64_t keep_before) override;

  // Chooses the k neurons of largest activation norm over the grid for the current parameters
  // (gradscope inside: at the last checkpoint). No-op without neuron maps.
  void choose_neurons_by_activation(int64_t step, Tape<T>& host);
  // One pass over the grid at the current parameters, which checks the neurons restored from
  // neurons.npy against inside.neurons (ConfigError when they differ). No-op without them.
  void check_restored_neurons(Tape<T>& host);
  bool has_neurons() const { return !neuron_hook_.empty(); }
  // The frames' fixed layout, as inside/inside.json holds it.
  nlohmann::ordered_json layout() const;

 private:
  struct Pass;  // what one forward pass over the probe inputs captured
  Pass run_pass(Tape<T>& host);
  void add_params(ParamStore<T>& ps, ProbeFiles& frame) const;
  void add_embedding(ParamStore<T>& ps, ProbeFiles& frame, nlohmann::ordered_json& info);
  void add_neurons(const Pass& pass, ProbeFiles& frame, nlohmann::ordered_json& info) const;
  void add_attention(const Pass& pass, ProbeFiles& frame, nlohmann::ordered_json& info) const;
  void induction_targets(const Dataset& held_out);
  void window_text(const TextTaskConfig& t);  // window_text_ of a text task's windows

  Model<T>& model_;
  std::string kind_;  // modular | sequence | regression | parameters
  int64_t every_ = 1, p_ = 0, length_ = 0;
  int64_t layers_ = 0, heads_ = 0;  // transformers
  Dataset inputs_;                  // the probe inputs: the (a, b) grid, windows or examples
  std::vector<int64_t> targets_;    // sequences [W, T]: each query's induction key (-1: none)
  std::string neuron_hook_;         // the activation the neuron maps read ("": none)
  int64_t neuron_width_ = 0;        // its neurons
  int64_t wanted_ = 0;              // inside.neurons
  std::vector<int64_t> neurons_;
  std::string neurons_chosen_;                         // how they were chosen
  std::vector<std::vector<std::string>> window_text_;  // text [W][T]: each token as text
  struct Kept {
    std::string name;
    int param = -1;
    int64_t rows = 0, cols = 0;
    std::vector<int64_t> row_index, col_index;  // empty: all
  };
  std::vector<Kept> kept_;
  ProbeFiles pending_;          // frames not yet handed out
  std::string written_layout_;  // inside.json as last handed out
};

}  // namespace gradscope
