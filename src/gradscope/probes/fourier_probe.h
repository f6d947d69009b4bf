// The Fourier probe (probe.fourier = true, modular tasks): at the spectral probe's steps, the norm
// per frequency k = 1..(p-1)/2 (probes/fourier.h) of
//   W_E  the embedding's rows of the p residues ('=' and op tokens dropped)          [p, d]
//   W_L  the neuron-logit map, one row per residue's logit: W_out W_U of the last block for the
//        transformer (W_U = W_E^T when tied), W_out for the concatenating MLP, W_out W_E^T for
//        PAIR's tied MLP; absent for an attention-only transformer                     [p, F]
// kept as rows of fourier/<matrix>.npy (float32 [n_probed, (p-1)/2]) with fourier/steps.npy, and
// metric columns: per matrix fourier.<matrix>.gini (Gini coefficient of the norms) and
// fourier.<matrix>.key_count (frequencies holding at least probe.key_freq_threshold of the
// squared norm), and fourier.sum_sq_weights (the total sum of squared parameters). With
// probe.restricted_loss (a+b, a-b) the model is also run on all p*p pairs and the restricted loss
// (all pairs and train) and excluded loss (train) of its logits are columns
// fourier.restricted_loss, fourier.restricted_loss_train and fourier.excluded_loss_train; the key
// frequencies are probe.key_frequencies, or W_E's at that step. A probe measure
// (probes/measures.h: "fourier", on with probe.fourier, files in fourier/): its summary.json
// section "fourier" holds the key frequencies at the last probed step, probe.key_freq_threshold
// and the three phases of grokking (probes/fourier_phases.h).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/autograd/tape.h"
#include "gradscope/nn/models.h"
#include "gradscope/probes/fourier.h"
#include "gradscope/probes/measures.h"
#include "gradscope/probes/spectra.h"
#include "gradscope/tasks/algorithmic.h"

namespace gradscope {

// The probe.fourier keys' checks on a config (a task of residues; the restricted loss only for
// a+b and a-b; key frequencies in 1..(p-1)/2). Throws ConfigError naming the key.
void validate_fourier_probe(const Config& config);

template <class T>
class FourierProbe final : public ProbeMeasure<T> {
 public:
  // `train`: the task's train split (the train pairs of the losses). Throws
  // std::invalid_argument when p is even or below 3, or the model has no embed.W_E.
  FourierProbe(Model<T>& model, const AlgorithmicTaskConfig& task, const Dataset& train,
               const ProbeConfig& probe);
  FourierProbe(Model<T>& model, const Config& config, const TaskData& data)
      : FourierProbe(model, algorithmic_options(config), data.train, probe_options(config)) {}

  const std::vector<std::string>& names() const { return names_; }
  // Measures at `step` (one row per matrix; the losses run the model on `host`, a tape over the
  // model's host values) and returns the metric values in column order.
  std::vector<double> measure(int64_t step, std::span<const T> values, Tape<T>& host);
  std::vector<double> measure(int64_t step, ParamStore<T>& params, Tape<T>& host) override {
    return measure(step, params.values(), host);
  }
  std::vector<std::string> metric_names() const override;

  // Key frequencies per matrix at the last probed step.
  std::map<std::string, std::vector<int64_t>> key_frequencies() const;

  // Files (name under fourier/, .npy bytes) with every row so far; restore keeps steps below
  // keep_before from earlier files (resume).
  ProbeFiles files() override;
  void restore(const std::map<std::string, std::string>& files, int64_t keep_before) override;
  void summarize(std::span<const MetricValues> rows, std::optional<int64_t> memorized_step,
                 nlohmann::ordered_json& sections) const override;

 private:
  // Matrix `m` of names() as row-major doubles [p, cols] from a flat parameter buffer.
  std::vector<double> matrix(size_t m, std::span<const T> values, int64_t& cols) const;
  const T* param(std::span<const T> values, const std::string& name, Shape* shape) const;

  // Restricted and excluded loss of the model's logits on the grid at this step's keys.
  FourierLosses losses(Tape<T>& host, const std::vector<double>& embed_norms);

  Model<T>& model_;
  int64_t p_;
  double threshold_;
  bool restricted_;
  int sign_ = 1;                     // +1: a+b, -1: a-b
  std::vector<int64_t> fixed_keys_;  // probe.key_frequencies
  Dataset grid_;                     // every pair (a, b), row a * p + b (restricted_ only)
  std::vector<char> train_;          // [p*p] the train pairs
  std::vector<std::string> names_;   // W_E, then W_L where the model has one
  std::string W_out_, W_U_;          // parameter names of the neuron-logit map's factors
  bool transpose_out_ = false;       // W_L = W_out itself (concatenating MLP)
  std::vector<int64_t> steps_;
  std::vector<std::vector<std::vector<float>>> rows_;  // [matrix][probed][(p-1)/2]
};

}  // namespace gradscope
