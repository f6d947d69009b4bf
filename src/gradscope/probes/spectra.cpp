// The spectral probe: see spectra.h.
#include "gradscope/probes/spectra.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "gradscope/tensor/lapack.h"
#include "gradscope/tensor/npy.h"

namespace gradscope {

void ProbeConfig::validate() const {
  if (restricted_loss && !fourier)
    throw std::invalid_argument(
        "probe.restricted_loss = true needs probe.fourier = true (its key frequencies)");
  if (!key_frequencies.empty() && !restricted_loss)
    throw std::invalid_argument(
        "probe.key_frequencies is set but probe.restricted_loss = false (the keys are its)");
}

std::vector<int64_t> key_frequencies_from(const std::vector<double>& values) {
  std::vector<int64_t> out;
  for (double k : values) {
    if (k != std::floor(k) || k < 1)
      throw std::invalid_argument(
          fmt::format("probe.key_frequencies has {} (valid: whole frequencies k >= 1)", k));
    out.push_back(static_cast<int64_t>(k));
  }
  return out;
}

ProbeConfig probe_options(const Config& c) {
  return options_from<ProbeConfig>(c);
}

bool ProbeConfig::is_probe_step(int64_t step, int64_t total) const {
  if (step == 0 || step == total) return true;
  if (every > 0) return step % every == 0;
  // Log-spaced: the steps round(10^(j / per_decade)), j = 0, 1, ... (deduplicated).
  const double j = std::log10(double(step)) * double(per_decade);
  for (double c : {std::floor(j), std::ceil(j)})
    if (std::llround(std::pow(10.0, c / double(per_decade))) == step) return true;
  return false;
}

SpectrumStats spectrum_stats(const std::vector<double>& sigma, double eps) {
  SpectrumStats s;
  if (sigma.empty() || !(sigma.front() > 0)) return s;
  double sq = 0, sum = 0;
  for (double v : sigma) sq += v * v, sum += v;
  s.top = sigma.front();
  s.frobenius = std::sqrt(sq);
  s.stable_rank = sq / (s.top * s.top);
  double h = 0;
  for (double v : sigma)
    if (v > 0) h -= v / sum * std::log(v / sum);
  s.effective_rank = std::exp(h);
  for (double v : sigma) s.numerical_rank += v > eps * s.top;
  return s;
}

const std::vector<std::string>& spectrum_stat_names() {
  static const std::vector<std::string> names = {"stable_rank", "effective_rank", "numerical_rank",
                                                 "fro", "top"};
  return names;
}

template <class T>
SpectralProbe<T>::SpectralProbe(const Model<T>& model, const ProbeConfig& config)
    : model_(model), config_(config) {
  const std::vector<ProbedMatrix> all = model.probed_matrices();
  if (config.params.empty()) {
    matrices_ = all;
  } else {
    std::stringstream list(config.params);
    for (std::string name; std::getline(list, name, ',');) {
      name.erase(0, name.find_first_not_of(' '));
      name.erase(name.find_last_not_of(' ') + 1);
      auto it = std::find_if(all.begin(), all.end(),
                             [&](const ProbedMatrix& m) { return m.name == name; });
      if (it == all.end()) {
        std::string valid;
        for (const ProbedMatrix& m : all) valid += (valid.empty() ? "" : ", ") + m.name;
        throw std::invalid_argument("probe.params: no matrix named \"" + name +
                                    "\" (valid: " + valid + ")");
      }
      matrices_.push_back(*it);
    }
  }
  rows_.resize(matrices_.size());
}

template <class T>
std::vector<std::string> SpectralProbe<T>::metric_names() const {
  std::vector<std::string> names;
  for (const ProbedMatrix& m : matrices_)
    for (const std::string& s : spectrum_stat_names())
      names.push_back("spectra." + m.name + "." + s);
  return names;
}

template <class T>
std::vector<double> SpectralProbe<T>::measure(int64_t step, std::span<const T> values,
                                              std::span<const T> initial) {
  std::vector<double> out;
  std::vector<double> now, start;
  for (size_t i = 0; i < matrices_.size(); ++i) {
    const ProbedMatrix& m = matrices_[i];
    now.resize(static_cast<size_t>(m.rows * m.cols));
    start.resize(now.size());
    model_.probed_matrix(m, values, now.data());
    model_.probed_matrix(m, initial, start.data());
    for (size_t j = 0; j < now.size(); ++j) now[j] -= start[j];  // Delta W [rows, cols]
    const std::vector<double> sigma = singular_values(now.data(), m.rows, m.cols);
    rows_[i].emplace_back(sigma.begin(), sigma.end());
    const SpectrumStats s = spectrum_stats(sigma, config_.rank_eps);
    out.insert(out.end(), {s.stable_rank, s.effective_rank, s.numerical_rank, s.frobenius, s.top});
  }
  steps_.push_back(step);
  return out;
}

template <class T>
ProbeFiles SpectralProbe<T>::files() {
  ProbeFiles out;
  const auto n = static_cast<int64_t>(steps_.size());
  std::vector<float> steps(steps_.begin(), steps_.end());
  out.emplace_back("steps.npy", encode_npy_f32(steps, n, 0));
  for (size_t i = 0; i < matrices_.size(); ++i) {
    const int64_t k = std::min(matrices_[i].rows, matrices_[i].cols);
    std::vector<float> flat;
    flat.reserve(static_cast<size_t>(n * k));
    for (const auto& r : rows_[i]) flat.insert(flat.end(), r.begin(), r.end());
    out.emplace_back(matrices_[i].name + ".npy", encode_npy_f32(flat, n, k));
  }
  return out;
}

template <class T>
void SpectralProbe<T>::restore(const std::map<std::string, std::string>& files,
                               int64_t keep_before) {
  auto it = files.find("steps.npy");
  if (it == files.end()) return;  // nothing measured before
  int64_t n = 0, one = 0;
  const std::vector<float> steps = decode_npy_f32(it->second, n, one, "spectra/steps.npy");
  int64_t keep = 0;
  while (keep < n && int64_t(steps[keep]) < keep_before) ++keep;
  steps_.assign(steps.begin(), steps.begin() + keep);
  for (size_t i = 0; i < matrices_.size(); ++i) {
    rows_[i].clear();
    const std::string name = matrices_[i].name + ".npy";
    auto f = files.find(name);
    if (f == files.end())
      throw std::runtime_error("spectra/" + name + " is missing; cannot resume");
    int64_t r = 0, k = 0;
    const std::vector<float> flat = decode_npy_f32(f->second, r, k, "spectra/" + name);
    if (r < keep) throw std::runtime_error("spectra/" + name + " has fewer rows than steps.npy");
    for (int64_t j = 0; j < keep; ++j)
      rows_[i].emplace_back(flat.begin() + j * k, flat.begin() + (j + 1) * k);
  }
}

std::vector<int64_t> spectral_jump_steps(const std::vector<int64_t>& steps,
                                         const std::vector<std::vector<float>>& rows, double eps) {
  std::vector<int64_t> out;
  if (rows.empty()) return out;
  const std::vector<float>& last = rows.back();
  if (last.empty() || !(last.front() > 0)) return out;
  for (size_t i = 0; i < last.size() && last[i] > eps * last.front(); ++i) {
    int64_t at = -1;
    for (size_t j = 0; j < rows.size() && at < 0; ++j)
      if (rows[j][i] >= 0.5f * last[i]) at = steps[j];
    out.push_back(at);
  }
  return out;
}

template <class T>
void SpectralProbe<T>::summarize(std::span<const MetricValues>, std::optional<int64_t>,
                                 nlohmann::ordered_json& sections) const {
  nlohmann::ordered_json& jumps = sections["spectral_jump_steps"] =
      nlohmann::ordered_json::object();
  for (size_t i = 0; i < matrices_.size(); ++i)
    jumps[matrices_[i].name] = spectral_jump_steps(steps_, rows_[i], config_.rank_eps);
}

template class SpectralProbe<float>;
template class SpectralProbe<double>;

Measure spectra_measure() {
  return with_columns(probe_measure<SpectralProbe>("spectra", "probe.spectra", "spectra"),
                      {"spectra.*.stable_rank", "spectra.*.effective_rank",
                       "spectra.*.numerical_rank", "spectra.*.fro", "spectra.*.top"});
}

}  // namespace gradscope
