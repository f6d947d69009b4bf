// The inside view: see inside.h.
#include "gradscope/probes/inside.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "gradscope/probes/fourier.h"
#include "gradscope/probes/objective.h"
#include "gradscope/tasks/algorithmic.h"
#include "gradscope/tasks/emergence.h"
#include "gradscope/tasks/text.h"
#include "gradscope/tensor/lapack.h"
#include "gradscope/tensor/npy.h"

namespace gradscope {

using json = nlohmann::ordered_json;

InsideOptions inside_options(const Config& c) {
  return options_from<InsideOptions>(c);
}

int64_t inside_every(const InsideOptions& o, int64_t steps) {
  return o.every > 0 ? o.every : std::max<int64_t>(1, (steps + 99) / 100);
}

double top_frequency_share(const double* map, int64_t p, int64_t* top) {
  const std::vector<double> B = fourier_basis(p);  // [p, p], rows: 1, cos_1, sin_1, ...
  std::vector<double> BM(p * p, 0.0), C(p * p, 0.0);
  for (int64_t i = 0; i < p; ++i)  // BM = B M
    for (int64_t k = 0; k < p; ++k)
      for (int64_t j = 0; j < p; ++j) BM[i * p + j] += B[i * p + k] * map[k * p + j];
  for (int64_t i = 0; i < p; ++i)  // C = B M B^T: the map's coefficients [p, p]
    for (int64_t j = 0; j < p; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < p; ++k) sum += BM[i * p + k] * B[j * p + k];
      C[i * p + j] = sum;
    }
  double total = -C[0] * C[0];
  for (double c : C) total += c * c;
  double best = 0;
  int64_t best_k = 1;
  for (int64_t k = 1; k <= (p - 1) / 2; ++k) {
    const int64_t idx[3] = {0, 2 * k - 1, 2 * k};
    double sum = -C[0] * C[0];
    for (int64_t i : idx)
      for (int64_t j : idx) sum += C[i * p + j] * C[i * p + j];
    if (sum > best) best = sum, best_k = k;
  }
  if (top) *top = best_k;
  return total > 0 ? best / total : 0.0;
}

namespace {

// `count` indices spread evenly over [0, n) (all of them when n <= count).
std::vector<int64_t> evenly_spaced(int64_t n, int64_t count) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < std::min(n, count); ++i) out.push_back(i * n / std::min(n, count));
  return out;
}

// The coordinates [n, 2] of centred rows X [n, d] on their two leading principal components, and
// each component's share of the variance. Through the Gram matrix G = X X^T [n, n] (n residues is
// at most d in practice, and often far below it: pair-mlp's d is 500): its top eigenvectors u_i
// (subspace iteration, then the 2 x 2 Rayleigh-Ritz rotation) give the coordinates sqrt(l_i) u_i.
std::vector<double> principal_coordinates(const std::vector<double>& X, int64_t n, int64_t d,
                                          double shares[2]) {
  std::vector<double> G(n * n, 0.0), V(n * 2), W(n * 2);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b <= a; ++b) {
      double dot = 0;
      for (int64_t i = 0; i < d; ++i) dot += X[a * d + i] * X[b * d + i];
      G[a * n + b] = G[b * n + a] = dot;
    }
  for (int64_t a = 0; a < n; ++a) V[a * 2] = 1.0 + 0.01 * a, V[a * 2 + 1] = (a % 2 ? 1.0 : -1.0);
  auto times_gram = [&](const std::vector<double>& A, std::vector<double>& out) {
    for (int64_t a = 0; a < n; ++a) {
      double s0 = 0, s1 = 0;
      for (int64_t b = 0; b < n; ++b)
        s0 += G[a * n + b] * A[b * 2], s1 += G[a * n + b] * A[b * 2 + 1];
      out[a * 2] = s0, out[a * 2 + 1] = s1;
    }
  };
  for (int it = 0; it < 300 && n >= 2; ++it) {
    times_gram(V, W);
    V = orthonormal_columns(W.data(), n, 2);
  }
  times_gram(V, W);
  double a = 0, b = 0, c = 0, trace = 0;  // V^T G V = [[a, b], [b, c]]
  for (int64_t r = 0; r < n; ++r) {
    a += V[r * 2] * W[r * 2], b += V[r * 2] * W[r * 2 + 1], c += V[r * 2 + 1] * W[r * 2 + 1];
    trace += G[r * n + r];
  }
  const double theta = 0.5 * std::atan2(2 * b, a - c);  // rotates onto the eigenvectors
  const double cs = std::cos(theta), sn = std::sin(theta);
  const double l1 = cs * cs * a + 2 * cs * sn * b + sn * sn * c, l2 = a + c - l1;
  std::vector<double> out(n * 2);
  for (int64_t r = 0; r < n; ++r) {
    out[r * 2] = std::sqrt(std::max(l1, 0.0)) * (cs * V[r * 2] + sn * V[r * 2 + 1]);
    out[r * 2 + 1] = std::sqrt(std::max(l2, 0.0)) * (-sn * V[r * 2] + cs * V[r * 2 + 1]);
  }
  shares[0] = trace > 0 ? l1 / trace : 0, shares[1] = trace > 0 ? l2 / trace : 0;
  return out;
}

// Coordinates [n, 2] as float32, each axis's sign set so that the row farthest along it is
// positive (the same picture from frame to frame).
std::vector<float> signed_coordinates(std::vector<double> out, int64_t n) {
  for (int c = 0; c < 2; ++c) {
    int64_t far = 0;
    for (int64_t r = 0; r < n; ++r)
      if (std::abs(out[r * 2 + c]) > std::abs(out[far * 2 + c])) far = r;
    if (out[far * 2 + c] < 0)
      for (int64_t r = 0; r < n; ++r) out[r * 2 + c] = -out[r * 2 + c];
  }
  return {out.begin(), out.end()};
}

// Rows X [n, d] on directions U [d, 2] (signed_coordinates' signs).
std::vector<float> project(const std::vector<double>& X, int64_t n, int64_t d,
                           const std::vector<double>& U) {
  std::vector<double> out(n * 2, 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t i = 0; i < d; ++i)
      for (int c = 0; c < 2; ++c) out[r * 2 + c] += X[r * d + i] * U[i * 2 + c];
  return signed_coordinates(std::move(out), n);
}

// The unit plane of frequency k over rows X [p, d]: sum_a cos(2 pi k a / p) x_a and the sin
// sum, orthonormalized (Gram-Schmidt), as U [d, 2].
std::vector<double> frequency_plane(const std::vector<double>& X, int64_t p, int64_t d, int64_t k) {
  std::vector<double> U(d * 2, 0.0);
  for (int64_t a = 0; a < p; ++a) {
    const double w = 2 * M_PI * double(k * a % p) / double(p);
    for (int64_t i = 0; i < d; ++i)
      U[i * 2] += std::cos(w) * X[a * d + i], U[i * 2 + 1] += std::sin(w) * X[a * d + i];
  }
  auto norm = [&](int c) {
    double s = 0;
    for (int64_t i = 0; i < d; ++i) s += U[i * 2 + c] * U[i * 2 + c];
    return std::sqrt(s);
  };
  const double n0 = norm(0);
  for (int64_t i = 0; i < d && n0 > 0; ++i) U[i * 2] /= n0;
  double dot = 0;
  for (int64_t i = 0; i < d; ++i) dot += U[i * 2] * U[i * 2 + 1];
  for (int64_t i = 0; i < d; ++i) U[i * 2 + 1] -= dot * U[i * 2];
  const double n1 = norm(1);
  for (int64_t i = 0; i < d && n1 > 0; ++i) U[i * 2 + 1] /= n1;
  return U;
}

bool is_neuron_activation(const std::string& name) {
  const bool mlp = name.find("mlp.hook_post") != std::string::npos;
  return mlp || (name.rfind("layers.", 0) == 0 && name.ends_with(".hook_post"));
}

// The first `n` rows of dataset `d` (ids, x, targets, y) as a dataset of its layout.
Dataset first_rows(const Dataset& d, int64_t n) {
  Dataset out;
  out.length = d.length, out.features = d.features, out.outputs = d.outputs;
  out.targets_per_example = d.targets_per_example;
  n = std::min(n, d.size());
  auto prefix = [](const auto& v, int64_t count) {  // a split may leave a field empty
    return std::decay_t<decltype(v)>(v.begin(), v.begin() + std::min<int64_t>(count, v.size()));
  };
  out.inputs = prefix(d.inputs, n * d.length);
  out.x = prefix(d.x, n * d.features);
  out.y = prefix(d.y, n * d.outputs);
  out.targets = prefix(d.targets, n * d.targets_per_example);
  return out;
}

// A text token as the viewer shows it: the character (chars) or byte (bytes) itself where it is
// printable, else an escape (\n, \t, \xNN for other control characters and for bytes above
// 0x7f), so that every label is valid UTF-8 and visible.
std::string token_label(int32_t id, const TextTaskConfig& t) {
  const char32_t c = t.alphabet == Alphabet::bytes ? char32_t(id) : t.chars.at(size_t(id));
  if (c == '\n') return "\\n";
  if (c == '\t') return "\\t";
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (t.alphabet == Alphabet::bytes && c > 0x7f))
    return fmt::format("\\x{:02x}", uint32_t(c));
  return decode_tokens({id}, t);
}

}  // namespace

template <class T>
struct InsideProbe<T>::Pass {
  std::vector<float> hidden;                 // [N, width]: the neuron activation (readout position)
  std::vector<std::vector<float>> patterns;  // per layer [N, H, L, L]
  int64_t heads = 0;
  std::vector<float> outputs;  // regression: [N, Y]
};

template <class T>
InsideProbe<T>::InsideProbe(Model<T>& model, const Config& c, const TaskData& data)
    : model_(model) {
  const InsideOptions o = inside_options(c);
  every_ = inside_every(o, c.integer("train.steps"));
  const bool transformer = c.string("model.type") == "transformer";
  if (c.string("task.name") == "modular" && c.integer("task.p") <= kInsideMaxDim) {
    const AlgorithmicTaskConfig task = algorithmic_options(c);
    kind_ = "modular", p_ = task.p;
    inputs_ = modular_grid(task);
  } else if (c.string("task.name") == "modular") {
    kind_ = "parameters";  // p > 256: a grid map would be p * p floats per neuron and head
  } else if (data.regression) {
    kind_ = "regression";
    inputs_ = first_rows(data.test, o.sequences);
  } else if (transformer && data.test.length > 1) {
    kind_ = "sequence";
    const RepeatedTokens* repeated = family_data<RepeatedTokens>(data.extra);
    const Dataset& held_out =
        repeated && repeated->repeats.size() > 0 ? repeated->repeats : data.test;
    inputs_ = first_rows(held_out, o.sequences);
    induction_targets(held_out);
    if (c.string("task.name") == "text") window_text(text_options(c));
  } else {
    kind_ = "parameters";
  }
  length_ = inputs_.length;
  if (transformer) layers_ = c.integer("model.n_layers"), heads_ = c.integer("model.n_heads");
  const ParamStore<T>& ps = model.params();
  for (int i = 0; i < ps.count(); ++i) {
    const ParamInfo& info = ps.info(i);
    if (info.shape.rank != 2) continue;
    Kept k{info.name, i, info.shape[0], info.shape[1], {}, {}};
    if (k.rows > kInsideMaxDim) k.row_index = evenly_spaced(k.rows, kInsideMaxDim);
    if (k.cols > kInsideMaxDim) k.col_index = evenly_spaced(k.cols, kInsideMaxDim);
    kept_.push_back(std::move(k));
  }
  wanted_ = o.neurons;
}

template <class T>
typename InsideProbe<T>::Pass InsideProbe<T>::run_pass(Tape<T>& host) {
  Pass pass;
  const bool was = host.grad_enabled();
  host.set_grad_enabled(false);
  host.reset();
  const int64_t N = inputs_.size();
  if (kind_ == "regression") {
    const Tensor<T> out = host.value(model_outputs(host, model_, inputs_, all_examples(inputs_)));
    pass.outputs.assign(out.data, out.data + out.numel());
  } else {
    std::string hidden_name;
    const ActivationHook hook = [&](const std::string& name, Var v) -> Var {
      const Tensor<T> value = host.value(v);
      if (name.ends_with("attn.hook_pattern")) {  // [N, H, L, L]
        pass.heads = value.shape[1];
        pass.patterns.emplace_back(value.data, value.data + value.numel());
      } else if (is_neuron_activation(name)) {  // [N, L, W] or [N, W]: the readout position's
        const int64_t W = value.shape[value.shape.rank - 1];
        const int64_t P = value.shape.rank == 3 ? value.shape[1] : 1;
        pass.hidden.resize(N * W);
        for (int64_t n = 0; n < N; ++n)
          for (int64_t w = 0; w < W; ++w)
            pass.hidden[n * W + w] = float(value.data[(n * P + P - 1) * W + w]);
        hidden_name = name;
      }
      return v;
    };
    model_.forward_with_hooks(host, {inputs_.inputs.data(), {}, N}, hook);
    if (!hidden_name.empty() && neuron_hook_.empty()) {
      neuron_hook_ = hidden_name;
      neuron_width_ = static_cast<int64_t>(pass.hidden.size()) / std::max<int64_t>(N, 1);
      if (neurons_.empty()) {
        neurons_ = evenly_spaced(neuron_width_, wanted_);
        neurons_chosen_ = "evenly spaced over the layer";
      } else if (int64_t(neurons_.size()) != std::min(wanted_, neuron_width_)) {
        throw ConfigError(fmt::format(
            "inside.neurons = {}: inside/neurons.npy holds the {} neurons of the frames taken "
            "before; use {}, or take these into a copy of the run without inside/",
            wanted_, neurons_.size(), neurons_.size()));
      }
    }
  }
  host.reset();
  host.set_grad_enabled(was);
  return pass;
}

template <class T>
void InsideProbe<T>::add_params(ParamStore<T>& ps, ProbeFiles& frame) const {
  for (const Kept& k : kept_) {
    const Tensor<T> w = ps.value(k.param);
    const std::vector<int64_t> rows =
        k.row_index.empty() ? evenly_spaced(k.rows, k.rows) : k.row_index;
    const std::vector<int64_t> cols =
        k.col_index.empty() ? evenly_spaced(k.cols, k.cols) : k.col_index;
    std::vector<float> out;
    out.reserve(rows.size() * cols.size());
    for (int64_t r : rows)
      for (int64_t c : cols) out.push_back(float(w.data[r * k.cols + c]));
    frame.emplace_back("param." + k.name + ".npy",
                       encode_npy_f32(out, {int64_t(rows.size()), int64_t(cols.size())}));
  }
}

template <class T>
void InsideProbe<T>::add_embedding(ParamStore<T>& ps, ProbeFiles& frame, json& info) {
  int i = 0;
  while (i < ps.count() && ps.info(i).name != "embed.W_E") ++i;
  if (i == ps.count() || ps.info(i).shape[0] < p_) return;
  const int64_t p = p_, d = ps.info(i).shape[1];
  const Tensor<T> w = ps.value(i);
  std::vector<double> X(w.data, w.data + p * d);  // the residues' rows [p, d]
  const std::vector<double> norms = fourier_norms(X.data(), p, d);
  const int64_t key = 1 + std::max_element(norms.begin(), norms.end()) - norms.begin();
  for (int64_t j = 0; j < d; ++j) {  // centred
    double mean = 0;
    for (int64_t a = 0; a < p; ++a) mean += X[a * d + j] / double(p);
    for (int64_t a = 0; a < p; ++a) X[a * d + j] -= mean;
  }
  double shares[2] = {0, 0};
  frame.emplace_back(
      "embed_pca.npy",
      encode_npy_f32(signed_coordinates(principal_coordinates(X, p, d, shares), p), {p, 2}));
  frame.emplace_back("embed_key.npy",
                     encode_npy_f32(project(X, p, d, frequency_plane(X, p, d, key)), {p, 2}));
  double sq = 0;
  for (double v : norms) sq += v * v;
  info["key_frequency"] = key;
  info["key_frequency_share"] = sq > 0 ? norms[key - 1] * norms[key - 1] / sq : 0.0;
  info["pca_variance"] = {shares[0], shares[1]};
}

template <class T>
void InsideProbe<T>::add_neurons(const Pass& pass, ProbeFiles& frame, json& info) const {
  if (pass.hidden.empty() || kind_ != "modular") return;
  const int64_t p = p_, W = neuron_width_;
  std::vector<float> maps;
  std::vector<double> map(p * p);
  json tops = json::array(), shares = json::array();
  for (int64_t n : neurons_) {
    for (int64_t e = 0; e < p * p; ++e) map[e] = pass.hidden[e * W + n];
    maps.insert(maps.end(), map.begin(), map.end());
    int64_t top = 0;
    const double share = top_frequency_share(map.data(), p, &top);
    shares.push_back(share);
    if (share > 0)
      tops.push_back(top);
    else
      tops.push_back(nullptr);  // a dead neuron (its map all zero): no top frequency
  }
  frame.emplace_back("neurons.npy", encode_npy_f32(maps, {int64_t(neurons_.size()), p, p}));
  info["neuron_top_frequency"] = tops;
  info["neuron_top_share"] = shares;
}

template <class T>
void InsideProbe<T>::add_attention(const Pass& pass, ProbeFiles& frame, json& info) const {
  if (pass.patterns.empty()) return;
  const int64_t N = inputs_.size(), L = length_, H = pass.heads;
  const auto LH = static_cast<int64_t>(pass.patterns.size()) * H;
  std::vector<float> out;
  if (kind_ == "modular") {  // [LH, p, p, L]: the readout query's row
    out.reserve(LH * N * L);
    for (const std::vector<float>& pat : pass.patterns)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t n = 0; n < N; ++n)
          for (int64_t k = 0; k < L; ++k) out.push_back(pat[((n * H + h) * L + L - 1) * L + k]);
    frame.emplace_back("attention.npy", encode_npy_f32(out, {LH, p_, p_, L}));
    return;
  }
  const int64_t Tn = std::min(L, kInsideMaxWindow);
  json scores = json::array();
  for (const std::vector<float>& pat : pass.patterns)
    for (int64_t h = 0; h < H; ++h) {
      double score = 0;
      int64_t count = 0;
      for (int64_t n = 0; n < N; ++n) {
        for (int64_t i = 0; i < Tn; ++i) {
          for (int64_t j = 0; j < Tn; ++j) out.push_back(pat[((n * H + h) * L + i) * L + j]);
          const int64_t j = targets_[n * Tn + i];  // the token after the previous occurrence
          if (j >= 0) score += pat[((n * H + h) * L + i) * L + j], ++count;
        }
      }
      scores.push_back(count > 0 ? score / double(count) : 0.0);
    }
  frame.emplace_back("attention.npy", encode_npy_f32(out, {LH, N, Tn, Tn}));
  info["induction_score"] = scores;
}

// Per window position (the first kInsideMaxWindow) the key an induction head attends to: the task's
// (InductionTargets: a copied segment's next token), else the token after the most recent
// earlier occurrence of the query's token; -1 where there is none.
template <class T>
void InsideProbe<T>::induction_targets(const Dataset& held_out) {
  const InductionTargets* given = family_data<InductionTargets>(held_out.extra);
  const int64_t N = inputs_.size(), L = inputs_.length, Tn = std::min(L, kInsideMaxWindow);
  targets_.assign(N * Tn, -1);
  for (int64_t n = 0; n < N; ++n) {
    const int32_t* ids = inputs_.inputs.data() + n * L;
    for (int64_t i = 0; i < Tn; ++i) {
      int64_t j = -1;
      if (given && !given->prefix_target.empty()) {
        j = given->prefix_target[n * L + i];
      } else {
        for (int64_t k = i - 1; k >= 0 && j < 0; --k)
          if (ids[k] == ids[i]) j = k + 1;
      }
      targets_[n * Tn + i] = j >= 0 && j < Tn ? j : -1;
    }
  }
}

template <class T>
void InsideProbe<T>::window_text(const TextTaskConfig& t) {
  const int64_t L = inputs_.length, Tn = std::min(L, kInsideMaxWindow);
  for (int64_t n = 0; n < inputs_.size(); ++n) {
    std::vector<std::string> labels;
    for (int64_t i = 0; i < Tn; ++i) labels.push_back(token_label(inputs_.inputs[n * L + i], t));
    window_text_.push_back(std::move(labels));
  }
}

template <class T>
std::vector<double> InsideProbe<T>::measure(int64_t step, ParamStore<T>& ps, Tape<T>& host) {
  ProbeFiles frame;
  json info;
  info["step"] = step;
  add_params(ps, frame);
  if (kind_ == "modular") add_embedding(ps, frame, info);
  if (kind_ != "parameters") {
    const Pass pass = run_pass(host);
    add_neurons(pass, frame, info);
    add_attention(pass, frame, info);
    if (kind_ == "regression")
      frame.emplace_back("predictions.npy",
                         encode_npy_f32(pass.outputs, {inputs_.size(), inputs_.outputs}));
  }
  frame.emplace_back("frame.json", info.dump() + "\n");  // last: the frame is complete
  for (auto& [name, bytes] : frame) pending_.emplace_back(fmt::format("{}/{}", step, name), bytes);
  return {};
}

template <class T>
json InsideProbe<T>::layout() const {
  json j;
  j["kind"] = kind_;
  j["every"] = every_;
  if (p_ > 0) j["p"] = p_;
  if (layers_ > 0) j["layers"] = layers_, j["heads"] = heads_;
  json params = json::array();
  for (const Kept& k : kept_) {
    json e;
    e["name"] = k.name;
    e["shape"] = {k.rows, k.cols};
    e["rows"] = k.row_index.empty() ? json(nullptr) : json(k.row_index);
    e["cols"] = k.col_index.empty() ? json(nullptr) : json(k.col_index);
    params.push_back(e);
  }
  j["params"] = params;
  if (!neuron_hook_.empty() && kind_ == "modular")
    j["neurons"] = {{"activation", neuron_hook_},
                    {"width", neuron_width_},
                    {"indices", neurons_},
                    {"chosen", neurons_chosen_}};
  if (kind_ == "sequence") {
    json windows = json::array();
    for (int64_t n = 0; n < inputs_.size(); ++n)
      windows.push_back(std::vector<int32_t>(
          inputs_.inputs.begin() + n * length_,
          inputs_.inputs.begin() + n * length_ + std::min(length_, kInsideMaxWindow)));
    j["windows"] = windows;
    if (!window_text_.empty()) j["window_text"] = window_text_;
    const int64_t Tn = std::min(length_, kInsideMaxWindow);
    json targets = json::array();
    for (int64_t n = 0; n < inputs_.size(); ++n)
      targets.push_back(
          std::vector<int64_t>(targets_.begin() + n * Tn, targets_.begin() + (n + 1) * Tn));
    j["induction_targets"] = targets;
  }
  if (kind_ == "regression") {
    json targets = json::array();
    for (int64_t n = 0; n < inputs_.size(); ++n)
      targets.push_back(std::vector<double>(inputs_.y.begin() + n * inputs_.outputs,
                                            inputs_.y.begin() + (n + 1) * inputs_.outputs));
    j["targets"] = targets;
  }
  return j;
}

template <class T>
ProbeFiles InsideProbe<T>::files() {
  ProbeFiles out;
  std::string fixed = layout().dump() + "\n";
  if (fixed != written_layout_) {  // inside.json and neurons.npy only when they change
    out.emplace_back("inside.json", fixed);
    if (!neurons_.empty()) {
      const std::vector<float> idx(neurons_.begin(), neurons_.end());
      out.emplace_back("neurons.npy", encode_npy_f32(idx, int64_t(idx.size()), 0));
    }
    written_layout_ = std::move(fixed);
  }
  for (auto& f : pending_) out.push_back(std::move(f));
  pending_.clear();
  return out;
}

template <class T>
void InsideProbe<T>::restore(const std::map<std::string, std::string>& files, int64_t) {
  const auto it = files.find("neurons.npy");
  if (it == files.end()) return;
  int64_t n = 0, one = 0;
  const std::vector<float> idx = decode_npy_f32(it->second, n, one, "inside/neurons.npy");
  neurons_.assign(idx.begin(), idx.end());
  neurons_chosen_ = "as chosen before (inside/neurons.npy)";
}

template <class T>
void InsideProbe<T>::check_restored_neurons(Tape<T>& host) {
  if (!neurons_.empty()) run_pass(host);
}

template <class T>
void InsideProbe<T>::choose_neurons_by_activation(int64_t step, Tape<T>& host) {
  if (kind_ != "modular") return;
  const Pass pass = run_pass(host);
  if (pass.hidden.empty()) return;
  const int64_t W = neuron_width_, N = inputs_.size();
  std::vector<double> norm(W, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t w = 0; w < W; ++w)
      norm[w] += double(pass.hidden[n * W + w]) * pass.hidden[n * W + w];
  std::vector<int64_t> order(W);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return norm[a] > norm[b]; });
  neurons_.assign(order.begin(), order.begin() + std::min(W, wanted_));
  neurons_chosen_ = fmt::format("largest activation norm over the grid at step {}", step);
}

template class InsideProbe<float>;
template class InsideProbe<double>;

Measure inside_measure() {
  return probe_measure<InsideProbe>("inside", "probe.inside", "inside");
}

}  // namespace gradscope
