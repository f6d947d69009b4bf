// The spectral probe: at chosen steps, the singular values of Delta W = W_t - W_0 for every matrix
// the model exposes (its matrix parameters and products such as each head's W_Q W_K^T and
// W_V W_O, or a linear model's end-to-end matrix), kept as rows of spectra/<name>.npy
// (float32 [n_logged, k], k = min(rows, cols)) with spectra/steps.npy, and five scalars per
// matrix for metrics.jsonl. SVDs come from LAPACK (tensor/lapack.h).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/nn/models.h"
#include "gradscope/probes/measures.h"

namespace gradscope {

// probe.key_frequencies as whole frequencies. Throws std::invalid_argument naming the key.
std::vector<int64_t> key_frequencies_from(const std::vector<double>& values);

// The probe.* keys (config/options.h: defaults, valid values and help in config/schema.cpp).
struct ProbeConfig {
  bool spectra = option<bool>("probe.spectra");
  int64_t every = option<int64_t>("probe.every");  // spectra every this many steps; 0: log-spaced
  int64_t per_decade = option<int64_t>("probe.per_decade");
  std::string params = option<std::string>("probe.params");  // matrix names; empty: every one
  double rank_eps = option<double>("probe.rank_eps");
  bool fourier = option<bool>("probe.fourier");  // modular tasks; probes/fourier_probe.h
  double key_freq_threshold = option<double>("probe.key_freq_threshold");
  bool restricted_loss = option<bool>("probe.restricted_loss");  // a+b, a-b; with fourier
  std::vector<int64_t> key_frequencies =  // fixed keys for those losses; empty: W_E's per step
      key_frequencies_from(option<std::vector<double>>("probe.key_frequencies"));

  void validate() const;  // throws std::invalid_argument naming "probe.<key>"
  // Whether the probe runs at `step` of a run of `total` steps (always at 0 and at total).
  bool is_probe_step(int64_t step, int64_t total) const;
  bool operator==(const ProbeConfig&) const = default;
};
ProbeConfig probe_options(const Config& config);  // the probe.* keys

// Scalars of one spectrum sigma (descending).
struct SpectrumStats {
  double stable_rank = 0;     // ||A||_F^2 / ||A||_2^2
  double effective_rank = 0;  // exp(-sum p_i ln p_i), p_i = sigma_i / sum_j sigma_j (Roy-Vetterli)
  double numerical_rank = 0;  // #{sigma_i > eps * sigma_max}
  double frobenius = 0;       // ||A||_F
  double top = 0;             // sigma_max
};
SpectrumStats spectrum_stats(const std::vector<double>& sigma, double eps);

// The suffixes of the metric names "spectra.<matrix>.<suffix>", in column order.
const std::vector<std::string>& spectrum_stat_names();

// The spectral probe as a probe measure (probes/measures.h: "spectra", on with probe.spectra,
// files in spectra/, summary section spectral_jump_steps: matrix -> spectral_jump_steps()).
template <class T>
class SpectralProbe final : public ProbeMeasure<T> {
 public:
  // Selects the matrices (probe.params, or all). Throws std::invalid_argument listing the valid
  // names when one does not exist.
  SpectralProbe(const Model<T>& model, const ProbeConfig& config);
  SpectralProbe(Model<T>& model, const Config& config, const TaskData&)
      : SpectralProbe(model, probe_options(config)) {}
  const std::vector<ProbedMatrix>& matrices() const { return matrices_; }
  // Measures at `step`: appends one row per matrix and returns the metric values in column order
  // (names from metric_names()).
  std::vector<double> measure(int64_t step, std::span<const T> values, std::span<const T> initial);
  std::vector<double> measure(int64_t step, ParamStore<T>& params, Tape<T>&) override {
    return measure(step, params.values(), params.initial_values());
  }
  // "spectra.<matrix>.<stat>" for every matrix and stat, in the order measure() returns them.
  std::vector<std::string> metric_names() const override;
  // Files (name under spectra/, .npy bytes) holding every row measured so far.
  ProbeFiles files() override;
  // Loads rows from earlier files (name -> bytes), keeping the steps < keep_before (resume).
  void restore(const std::map<std::string, std::string>& files, int64_t keep_before) override;
  void summarize(std::span<const MetricValues> rows, std::optional<int64_t> memorized_step,
                 nlohmann::ordered_json& sections) const override;
  // Logged steps and, per matrix, the rows of singular values [n_logged][k].
  const std::vector<int64_t>& steps() const { return steps_; }
  const std::vector<std::vector<float>>& rows(size_t matrix) const { return rows_[matrix]; }

 private:
  const Model<T>& model_;
  ProbeConfig config_;
  std::vector<ProbedMatrix> matrices_;
  std::vector<int64_t> steps_;
  std::vector<std::vector<std::vector<float>>> rows_;  // [matrix][logged][k]
};

// The step at which each singular value of a matrix first reaches half its final value, for
// the values whose final size is above eps * sigma_max (the spectral "jump" times).
std::vector<int64_t> spectral_jump_steps(const std::vector<int64_t>& steps,
                                         const std::vector<std::vector<float>>& rows, double eps);

}  // namespace gradscope
