// The Fourier probe (probe.fourier = true, modular tasks): at the spectral probe's steps, the norm
// per frequency k = 1..(p-1)/2 (probes/fourier.h) of
//   W_E  the embedding's rows of the p residues ('=' and op tokens dropped)          [p, d]
//   W_L  the neuron-logit map, one row per residue's logit: W_out W_U of the last block for the
//        transformer (W_U = W_E^T when tied), W_out for the concatenating MLP, W_out W_E^T for
//        PAIR's tied MLP; absent for an attention-only transformer                     [p, F]
// kept as rows of fourier/<matrix>.npy (float32 [n_probed, (p-1)/2]) with fourier/steps.npy, and
// per matrix two metric columns: fourier.<matrix>.gini (Gini coefficient of the norms) and
// fourier.<matrix>.key_count (frequencies holding at least probe.key_freq_threshold of the
// squared norm). The summary names the key frequencies at the last probed step.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/nn/models.h"

namespace gradscope {

template <class T>
class FourierProbe {
 public:
  // Throws std::invalid_argument when p is even or below 3, or the model has no embed.W_E.
  FourierProbe(Model<T>& model, int64_t p, double key_threshold);

  const std::vector<std::string>& names() const { return names_; }
  // Measures at `step` (one row per matrix) and returns the metric values in column order.
  std::vector<double> measure(int64_t step, std::span<const T> values);
  std::vector<std::string> metric_names() const;
  std::vector<double> missing() const;  // NaNs for a row without the probe

  // Key frequencies per matrix at the last probed step.
  std::map<std::string, std::vector<int64_t>> key_frequencies() const;

  // Files (name under fourier/, .npy bytes) with every row so far; restore keeps steps below
  // keep_before from earlier files (resume).
  std::vector<std::pair<std::string, std::string>> files() const;
  void restore(const std::map<std::string, std::string>& files, int64_t keep_before);

 private:
  // Matrix `m` of names() as row-major doubles [p, cols] from a flat parameter buffer.
  std::vector<double> matrix(size_t m, std::span<const T> values, int64_t& cols) const;
  const T* param(std::span<const T> values, const std::string& name, Shape* shape) const;

  Model<T>& model_;
  int64_t p_;
  double threshold_;
  std::vector<std::string> names_;  // W_E, then W_L where the model has one
  std::string W_out_, W_U_;         // parameter names of the neuron-logit map's factors
  bool transpose_out_ = false;      // W_L = W_out itself (concatenating MLP)
  std::vector<int64_t> steps_;
  std::vector<std::vector<std::vector<float>>> rows_;  // [matrix][probed][(p-1)/2]
};

}  // namespace gradscope
