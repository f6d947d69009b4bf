// The Fourier probe: see fourier_probe.h.
#include "gradscope/probes/fourier_probe.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "gradscope/probes/fourier.h"
#include "gradscope/probes/fourier_phases.h"
#include "gradscope/probes/objective.h"
#include "gradscope/tasks/task_family.h"
#include "gradscope/tensor/npy.h"

namespace gradscope {
namespace {

// The highest-numbered block's "blocks.<i>.mlp.W_out", or "" when there is none.
std::string last_block_w_out(const std::vector<std::string>& names) {
  std::string best;
  int64_t best_i = -1;
  for (const std::string& n : names) {
    if (n.rfind("blocks.", 0) != 0 || n.size() < 10 || n.substr(n.size() - 10) != ".mlp.W_out")
      continue;
    const int64_t i = std::stoll(n.substr(7, n.find('.', 7) - 7));
    if (i > best_i) best_i = i, best = n;
  }
  return best;
}

}  // namespace

template <class T>
FourierProbe<T>::FourierProbe(Model<T>& model, const AlgorithmicTaskConfig& task,
                              const Dataset& train, const ProbeConfig& probe)
    : model_(model),
      p_(task.p),
      threshold_(probe.key_freq_threshold),
      restricted_(probe.restricted_loss),
      sign_(task.op == "a-b" ? -1 : 1),
      fixed_keys_(probe.key_frequencies) {
  check_modulus(p_);
  if (restricted_) {
    grid_ = modular_grid(task);
    train_.assign(p_ * p_, 0);
    for (int64_t i = 0; i < train.size(); ++i) {
      const auto [a, b] = operands(task, train, i);
      train_[a * p_ + b] = 1;
    }
  }
  ParamStore<T>& ps = model_.params();
  std::vector<std::string> params;
  for (int i = 0; i < ps.count(); ++i) params.push_back(ps.info(i).name);
  auto has = [&](const std::string& n) {
    return std::find(params.begin(), params.end(), n) != params.end();
  };
  if (!has("embed.W_E"))
    throw std::invalid_argument("probe.fourier = true needs a model with an embedding embed.W_E");
  names_ = {"W_E"};
  if (has("unembed.W_U") || has("blocks.0.attn.W_Q")) {  // a transformer
    W_out_ = last_block_w_out(params);
    W_U_ = has("unembed.W_U") ? "unembed.W_U" : "";  // "": tied, W_E^T
  } else if (has("mlp.W_out")) {
    W_out_ = "mlp.W_out";
    transpose_out_ = has("mlp.b_out");  // concat: W_out [Dhid, C] is the map itself
  }
  if (!W_out_.empty()) names_.push_back("W_L");
  rows_.resize(names_.size());
}

template <class T>
const T* FourierProbe<T>::param(std::span<const T> values, const std::string& name,
                                Shape* shape) const {
  ParamStore<T>& ps = model_.params();
  for (int i = 0; i < ps.count(); ++i)
    if (ps.info(i).name == name) {
      *shape = ps.info(i).shape;
      return values.data() + ps.info(i).offset;
    }
  throw std::logic_error("no parameter " + name);
}

template <class T>
std::vector<double> FourierProbe<T>::matrix(size_t m, std::span<const T> values,
                                            int64_t& cols) const {
  Shape se, so, su;
  const T* E = param(values, "embed.W_E", &se);  // [R, D], rows 0..p-1 the residues
  const int64_t D = se[1];
  if (names_[m] == "W_E") {
    cols = D;
    return std::vector<double>(E, E + p_ * D);
  }
  const T* O = param(values, W_out_, &so);  // [F, K]
  const int64_t F = so[0], K = so[1];
  cols = F;
  std::vector<double> out(p_ * F);  // [p, F]: row c = the neurons' weights on logit c
  if (transpose_out_) {             // W_L = W_out [F, C]
    for (int64_t c = 0; c < p_; ++c)
      for (int64_t f = 0; f < F; ++f) out[c * F + f] = double(O[f * K + c]);
    return out;
  }
  // W_L = W_out U with U [K, C]: W_U, or W_E^T (tied transformer, PAIR's MLP). Row c of U^T
  // (the residue's unembedding) is gathered once, so both factors are read contiguously.
  const T* U = W_U_.empty() ? nullptr : param(values, W_U_, &su);
  std::vector<double> u(K);  // [K] column c of U
  for (int64_t c = 0; c < p_; ++c) {
    for (int64_t k = 0; k < K; ++k) u[k] = double(U ? U[k * su[1] + c] : E[c * D + k]);
    for (int64_t f = 0; f < F; ++f) {
      const T* o = O + f * K;
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += double(o[k]) * u[k];
      out[c * F + f] = acc;
    }
  }
  return out;
}

template <class T>
std::vector<double> FourierProbe<T>::measure(int64_t step, std::span<const T> values,
                                             Tape<T>& host) {
  std::vector<double> out, embed_norms;
  steps_.push_back(step);
  for (size_t m = 0; m < names_.size(); ++m) {
    int64_t cols = 0;
    const std::vector<double> W = matrix(m, values, cols);
    const std::vector<double> norms = fourier_norms(W.data(), p_, cols);
    if (m == 0) embed_norms = norms;
    rows_[m].emplace_back(norms.begin(), norms.end());
    out.push_back(gini(norms));
    out.push_back(double(gradscope::key_frequencies(norms, threshold_).size()));
  }
  double sq = 0;
  for (T v : values) sq += double(v) * double(v);
  out.push_back(sq);
  if (restricted_) {
    const FourierLosses l = losses(host, embed_norms);
    out.insert(out.end(), {l.restricted, l.restricted_train, l.excluded_train});
  }
  return out;
}

template <class T>
FourierLosses FourierProbe<T>::losses(Tape<T>& host, const std::vector<double>& embed_norms) {
  host.reset();
  host.set_grad_enabled(false);
  const Tensor<T> out = host.value(model_outputs(host, model_, grid_, all_examples(grid_)));
  const int64_t C = out.shape[1];  // p residues, then '=' (and the op) where the head has them
  std::vector<double> logits(p_ * p_ * p_);  // [p*p, p]
  for (int64_t i = 0; i < p_ * p_; ++i)
    for (int64_t c = 0; c < p_; ++c) logits[i * p_ + c] = double(out.data[i * C + c]);
  host.set_grad_enabled(true);
  host.reset();
  const std::vector<int64_t> keys =
      fixed_keys_.empty() ? gradscope::key_frequencies(embed_norms, threshold_) : fixed_keys_;
  return fourier_losses(logits, p_, sign_, keys, train_);
}

template <class T>
std::vector<std::string> FourierProbe<T>::metric_names() const {
  std::vector<std::string> out;
  for (const std::string& n : names_) {
    out.push_back("fourier." + n + ".gini");
    out.push_back("fourier." + n + ".key_count");
  }
  out.push_back("fourier.sum_sq_weights");
  if (restricted_)
    out.insert(out.end(), {"fourier.restricted_loss", "fourier.restricted_loss_train",
                           "fourier.excluded_loss_train"});
  return out;
}

template <class T>
std::map<std::string, std::vector<int64_t>> FourierProbe<T>::key_frequencies() const {
  std::map<std::string, std::vector<int64_t>> out;
  for (size_t m = 0; m < names_.size(); ++m) {
    if (rows_[m].empty()) continue;
    const std::vector<double> last(rows_[m].back().begin(), rows_[m].back().end());
    out[names_[m]] = gradscope::key_frequencies(last, threshold_);
  }
  return out;
}

template <class T>
ProbeFiles FourierProbe<T>::files() {
  ProbeFiles out;
  const auto n = static_cast<int64_t>(steps_.size());
  const int64_t K = (p_ - 1) / 2;
  out.emplace_back("steps.npy",
                   encode_npy_f32(std::vector<float>(steps_.begin(), steps_.end()), n, 0));
  for (size_t m = 0; m < names_.size(); ++m) {
    std::vector<float> flat;
    for (const auto& r : rows_[m]) flat.insert(flat.end(), r.begin(), r.end());
    out.emplace_back(names_[m] + ".npy", encode_npy_f32(flat, n, K));
  }
  return out;
}

template <class T>
void FourierProbe<T>::restore(const std::map<std::string, std::string>& files,
                              int64_t keep_before) {
  auto it = files.find("steps.npy");
  if (it == files.end()) return;  // nothing probed before
  int64_t n = 0, one = 0;
  const std::vector<float> steps = decode_npy_f32(it->second, n, one, "fourier/steps.npy");
  int64_t keep = 0;
  while (keep < n && int64_t(steps[keep]) < keep_before) ++keep;
  steps_.assign(steps.begin(), steps.begin() + keep);
  for (size_t m = 0; m < names_.size(); ++m) {
    auto f = files.find(names_[m] + ".npy");
    if (f == files.end())
      throw std::runtime_error("fourier/" + names_[m] + ".npy is missing; cannot resume");
    int64_t r = 0, k = 0;
    const std::vector<float> flat = decode_npy_f32(f->second, r, k, "fourier/" + names_[m]);
    if (r < keep || k != (p_ - 1) / 2)
      throw std::runtime_error("fourier/" + names_[m] + ".npy does not match the run");
    rows_[m].clear();
    for (int64_t i = 0; i < keep; ++i)
      rows_[m].emplace_back(flat.begin() + i * k, flat.begin() + (i + 1) * k);
  }
}

template <class T>
void FourierProbe<T>::summarize(std::span<const MetricValues> rows,
                                std::optional<int64_t> memorized_step,
                                nlohmann::ordered_json& sections) const {
  nlohmann::ordered_json& out = sections["fourier"] = nlohmann::ordered_json::object();
  for (const auto& [name, keys] : key_frequencies()) out["key_frequencies"][name] = keys;
  out["key_freq_threshold"] = threshold_;
  out["phases"] = fourier_phases(rows, p_, memorized_step);
}

template class FourierProbe<float>;
template class FourierProbe<double>;

void validate_fourier_probe(const Config& c) {
  const ProbeConfig probe = probe_options(c);
  if (probe.fourier && !find_task_family(c.string("task.name")).residues)
    throw ConfigError(
        "probe.fourier = true needs task.name = \"modular\" (a task of residues mod task.p: "
        "the measures read them; task.name is \"" +
        c.string("task.name") + "\")");
  const std::string op = c.string("task.op");
  if (probe.restricted_loss && op != "a+b" && op != "a-b")
    throw ConfigError(
        "probe.restricted_loss = true needs task.op = \"a+b\" or \"a-b\" (the "
        "ops whose logits cos(w_k(a+-b-c)) describe; task.op is \"" +
        op + "\")");
  const int64_t half = (c.integer("task.p") - 1) / 2;
  for (int64_t k : probe.key_frequencies)
    if (k > half)
      throw ConfigError(fmt::format("probe.key_frequencies has {} (valid: 1..{} for task.p = {})",
                                    k, half, c.integer("task.p")));
}

Measure fourier_measure() {
  return with_columns(
      probe_measure<FourierProbe>("fourier", "probe.fourier", "fourier", &validate_fourier_probe),
      {"fourier.*.gini", "fourier.*.key_count", "fourier.sum_sq_weights", "fourier.restricted_loss",
       "fourier.restricted_loss_train", "fourier.excluded_loss_train"});
}

}  // namespace gradscope
