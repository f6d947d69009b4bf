// The curvature of a run's loss: see hessian.h.
#include "gradscope/run/hessian.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "gradscope/run/steps.h"
#include "gradscope/run/trainer.h"
#include "gradscope/rundir/checkpoint.h"
#include "gradscope/tensor/threads.h"

namespace gradscope {

HessianConfig hessian_options(const Config& c) {
  return options_from<HessianConfig>(c);
}

nlohmann::ordered_json hessian_settings(const HessianConfig& c) {
  nlohmann::ordered_json j;
  j["top_k"] = c.top_k;
  j["iterations"] = c.iterations;
  j["trace_probes"] = c.trace_probes;
  j["fd_step"] = c.fd_step;
  j["per_tensor"] = c.per_tensor;
  j["seed"] = c.seed;
  if (c.preconditioned) j["preconditioned"] = true;  // absent when off: older folders still match
  return j;
}

std::vector<std::pair<std::string, int64_t>> hessian_columns(const HessianConfig& c,
                                                             ParamStore<double>& ps) {
  std::vector<std::pair<std::string, int64_t>> columns = {{"top.npy", c.top_k}, {"trace.npy", 2}};
  if (c.per_tensor)
    for (const ParamInfo& p : ps.params()) columns.emplace_back("tensor." + p.name + ".npy", 3);
  if (c.preconditioned) columns.emplace_back("preconditioned.npy", 1);
  return columns;
}

std::vector<std::vector<float>> hessian_row(const HessianConfig& c, const HessianEstimate& e) {
  std::vector<float> top(e.top.begin(), e.top.end());
  top.resize(static_cast<size_t>(c.top_k), NAN);  // fewer parameters than top_k
  std::vector<std::vector<float>> row = {
      top, {static_cast<float>(e.trace.trace), static_cast<float>(e.trace.error)}};
  for (const TensorCurvature& t : e.tensors)
    row.push_back({static_cast<float>(t.top), static_cast<float>(t.trace.trace),
                   static_cast<float>(t.trace.error)});
  if (c.preconditioned) row.push_back({static_cast<float>(e.preconditioned)});
  return row;
}

std::vector<double> packed_values(ParamStore<double>& ps) {
  std::vector<double> w;
  for (const ParamInfo& p : ps.params())
    w.insert(w.end(), ps.values().begin() + p.offset,
             ps.values().begin() + p.offset + p.shape.numel());
  return w;
}

void set_packed_values(ParamStore<double>& ps, const double* w) {
  for (const ParamInfo& p : ps.params()) {
    std::copy(w, w + p.shape.numel(), ps.values().begin() + p.offset);
    w += p.shape.numel();
  }
}

GradientFunction packed_gradient(ParamStore<double>& ps, std::function<void()> backward) {
  return [&ps, backward = std::move(backward)](const double* w, double* g) {
    set_packed_values(ps, w);
    backward();
    for (const ParamInfo& p : ps.params()) {
      std::copy(ps.grads().begin() + p.offset, ps.grads().begin() + p.offset + p.shape.numel(), g);
      g += p.shape.numel();
    }
  };
}

KinkHeldHessian::KinkHeldHessian(Tape<double>& tape, GradientFunction gradient,
                                 std::vector<double> w, double h)
    : tape_(tape) {
  tape_.set_kinks(&kinks_);
  std::vector<double> g(w.size());
  gradient(w.data(), g.data());  // records each kink's side at w
  kinks_.mode = KinkPatterns::Mode::replay;
  op_ = finite_difference_hessian(std::move(gradient), std::move(w), h);
}

HessianEstimate estimate_hessian(Experiment<double>& x, const HessianConfig& c,
                                 const std::vector<double>* preconditioner) {
  if (x.context) throw ConfigError("gradscope hessian runs on the cpu (device = cpu)");
  // IEEE arithmetic, as `gradscope hessian` runs it, also inside a run whose steps flush
  // subnormals (train.flush_subnormals): probe.hessian's rows equal the command's.
  const FlushSubnormals ieee(false);
  ParamStore<double>& ps = x.model->params();
  const std::vector<double> w = packed_values(ps);
  const int64_t d = static_cast<int64_t>(w.size());
  Steps<double> steps(x, x.data.train.size());
  HessianEstimate e;
  const GradientFunction gradient = packed_gradient(ps, [&] {
    if (stop_requested()) throw ProbeInterrupted();  // a run's signal: stop between gradients
    steps.gradient(Examples{}, true);
    ++e.gradients;
  });
  const KinkHeldHessian held(steps.host_tape(), gradient, w, c.fd_step);
  const LinearOperator& H = held.op();
  const auto seed = static_cast<uint64_t>(c.seed);
  e.top = top_eigenvalues(H, d, c.top_k, c.iterations, seed);
  e.trace = hutchinson_trace(H, d, c.trace_probes, seed);
  if (c.per_tensor) {
    int64_t offset = 0;
    for (const ParamInfo& p : ps.params()) {
      const int64_t n = p.shape.numel();
      const LinearOperator block = diagonal_block(H, d, offset, n);
      e.tensors.push_back({p.name, top_eigenvalues(block, n, 1, c.iterations, seed).at(0),
                           hutchinson_trace(block, n, c.trace_probes, seed)});
      offset += n;
    }
  }
  if (preconditioner) {  // P^-1/2 H P^-1/2 x
    std::vector<double> scale(preconditioner->size()), v(scale.size());
    for (size_t i = 0; i < scale.size(); ++i) scale[i] = 1 / std::sqrt((*preconditioner)[i]);
    const LinearOperator PH = [&](const double* in, double* out) {
      for (size_t i = 0; i < v.size(); ++i) v[i] = scale[i] * in[i];
      H(v.data(), out);
      for (size_t i = 0; i < v.size(); ++i) out[i] *= scale[i];
    };
    e.preconditioned = top_eigenvalues(PH, d, 1, c.iterations, seed).at(0);
  }
  set_packed_values(ps, w.data());  // the parameters back as they were
  return e;
}

std::vector<double> packed_buffer(const std::filesystem::path& file, const std::string& name,
                                  ParamStore<double>& ps) {
  const CheckpointLayout layout = read_checkpoint_layout(file);  // verifies the checksum
  const auto buffer = std::find_if(layout.buffers.begin(), layout.buffers.end(),
                                   [&](const auto& b) { return b.name == name; });
  if (buffer == layout.buffers.end()) throw std::runtime_error(file.string() + ": no " + name);
  std::ifstream in(file, std::ios::binary);
  std::vector<char> bytes(static_cast<size_t>(buffer->elements * layout.element_size));
  in.seekg(buffer->byte_offset);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    throw std::runtime_error(file.string() + ": cannot read its " + name);
  auto element = [&](int64_t i) {
    if (layout.element_size == 8) {
      double v;
      std::memcpy(&v, bytes.data() + i * 8, 8);
      return v;
    }
    float v;
    std::memcpy(&v, bytes.data() + i * 4, 4);
    return double(v);
  };
  std::vector<double> out;
  for (const ParamInfo& p : ps.params()) {
    const auto it = std::find_if(layout.params.begin(), layout.params.end(),
                                 [&](const CheckpointParam& q) { return q.name == p.name; });
    int64_t n = 1;
    if (it != layout.params.end())
      for (int64_t s : it->shape) n *= s;
    if (it == layout.params.end() || n != p.shape.numel())
      throw std::runtime_error(file.string() + ": parameter " + p.name +
                               " is missing or of another shape");
    for (int64_t i = 0; i < n; ++i) out.push_back(element(it->offset + i));
  }
  return out;
}

void load_values_as_double(const std::filesystem::path& file, ParamStore<double>& ps) {
  const std::vector<double> w = packed_buffer(file, "values", ps);
  set_packed_values(ps, w.data());
}

void check_adam_run(const Config& config) {
  const std::string name = config.string("optim.name");
  if (name != "adam" && name != "adamw")
    throw ConfigError("hessian.preconditioned = true needs an adam or adamw run (optim.name = \"" +
                      name + "\")");
}

std::vector<double> adam_preconditioner(const std::filesystem::path& file, ParamStore<double>& ps,
                                        const Config& config) {
  return adam_preconditioner(packed_buffer(file, "optim.exp_avg_sq", ps),
                             read_checkpoint_info(file).optimizer_steps, config);
}

std::vector<double> adam_preconditioner(std::vector<double> p, int64_t t, const Config& config) {
  check_adam_run(config);
  if (t == 0) return {};
  const double b1 = config.real("optim.beta1"), b2 = config.real("optim.beta2");
  const double eps = config.real("optim.eps");
  const double c1 = 1 - std::pow(b1, double(t)), c2 = 1 - std::pow(b2, double(t));
  for (double& v : p) v = c1 * (std::sqrt(v / c2) + eps);
  return p;
}

}  // namespace gradscope
