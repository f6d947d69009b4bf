// The local learning coefficient by SGLD: see llc.h.
#include "gradscope/run/llc.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "gradscope/run/batches.h"
#include "gradscope/run/checkpoint_measures.h"
#include "gradscope/run/steps.h"
#include "gradscope/run/trainer.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/tensor/npy.h"
#include "gradscope/tensor/rng.h"
#include "gradscope/tensor/threads.h"

namespace gradscope {
namespace {

// The integrated autocorrelation time of x[0, n) (Sokal's automatic window: sum the
// autocorrelations up to the first lag M >= 5 tau), at least 1.
double autocorrelation_time(const double* x, int64_t n) {
  const double mean = std::accumulate(x, x + n, 0.0) / double(n);
  auto cov = [&](int64_t lag) {
    double c = 0;
    for (int64_t i = 0; i + lag < n; ++i) c += (x[i] - mean) * (x[i + lag] - mean);
    return c / double(n);
  };
  const double c0 = cov(0);
  if (!(c0 > 0)) return 1;
  double tau = 1;
  for (int64_t lag = 1; lag < n && double(lag) < 5 * tau; ++lag) tau += 2 * cov(lag) / c0;
  return std::max(1.0, tau);
}

}  // namespace

bool chain_settled(const std::vector<double>& trace) {
  const int64_t n = static_cast<int64_t>(trace.size()) / 2;
  if (n < 40) return true;  // too few draws to tell
  const double* x = trace.data() + (trace.size() - n);
  const double mean = std::accumulate(x, x + n, 0.0) / double(n);
  double stt = 0, sxt = 0;  // t centred on the half's middle
  for (int64_t i = 0; i < n; ++i) {
    const double t = double(i) - double(n - 1) / 2;
    stt += t * t;
    sxt += t * (x[i] - mean);
  }
  const double slope = sxt / stt;
  std::vector<double> residual(static_cast<size_t>(n));
  double var = 0;
  for (int64_t i = 0; i < n; ++i) {
    residual[i] = x[i] - mean - slope * (double(i) - double(n - 1) / 2);
    var += residual[i] * residual[i] / double(n - 2);
  }
  const double error = std::sqrt(var * autocorrelation_time(residual.data(), n) / stt);
  return std::abs(slope) <= 4 * error;
}

// Compiled for 512-bit vectors where the build's CPU has them (GCC prefers 256 bits): the float
// and double conversions of sgld_range go 8 lanes at a time instead of 4 (not inlined: inlined,
// the caller's width applies).
#if defined(__AVX512F__) && defined(__GNUC__) && !defined(__clang__)
#define GS_WIDE_VECTORS __attribute__((target("prefer-vector-width=512"), noinline))
#else
#define GS_WIDE_VECTORS
#endif

// sgld_update's step of elements [0, n) of w from their gradients g, w* and the noise z.
template <class T>
GS_WIDE_VECTORS void sgld_range(T* __restrict w, const T* __restrict g, const T* __restrict w_star,
                                const T* __restrict z, int64_t n, double eps, double nbeta,
                                double gamma) {
  for (int64_t k = 0; k < n; ++k) {
    const double drift = nbeta * double(g[k]) + gamma * (double(w[k]) - double(w_star[k]));
    w[k] = static_cast<T>(double(w[k]) - 0.5 * eps * drift + double(z[k]));
  }
}

template <class T>
void sgld_update(ParamStore<T>& ps, const std::vector<T>& w_star, double eps, double nbeta,
                 double gamma, Rng& noise, std::vector<T>& z) {
  const std::span<T> w = ps.values();
  const std::span<T> g = ps.grads();
  // Each tensor's noise is drawn in chunks that stay in L1 and used at once: a whole number of
  // the generator's 256-counter blocks (4 normals a counter in float, 2 in double), so the
  // same numbers as one draw over the tensor. (A chain that has the kernel threads to itself
  // draws each tensor whole, over the threads.)
  const int64_t chunk = num_threads() > 1 ? std::numeric_limits<int64_t>::max() : 4096;
  for (const ParamInfo& p : ps.params()) {
    const int64_t n = p.shape.numel();
    z.resize(static_cast<size_t>(std::min(chunk, n)));
    for (int64_t at = 0; at < n; at += chunk) {
      const int64_t m = std::min(chunk, n - at), base = p.offset + at;
      noise.fill_normal_pairs(z.data(), m, static_cast<T>(std::sqrt(eps)));
      sgld_range(w.data() + base, g.data() + base, w_star.data() + base, z.data(), m, eps, nbeta,
                 gamma);
    }
  }
}

template void sgld_update<float>(ParamStore<float>&, const std::vector<float>&, double, double,
                                 double, Rng&, std::vector<float>&);
template void sgld_update<double>(ParamStore<double>&, const std::vector<double>&, double, double,
                                  double, Rng&, std::vector<double>&);

LlcConfig llc_options(const Config& c) {
  return options_from<LlcConfig>(c);
}

nlohmann::ordered_json llc_settings(const LlcConfig& c, double nbeta, const std::string& how) {
  nlohmann::ordered_json j;
  j["step_size"] = c.step_size;
  j["localization"] = c.localization;
  j["nbeta"] = nbeta;
  j["nbeta_how"] = how;
  j["chains"] = c.chains;
  j["draws"] = c.draws;
  j["burn_in"] = c.burn_in;
  j["draw_every"] = c.draw_every;
  j["batch_size"] = c.batch_size;
  j["seed"] = c.seed;
  j["flush_subnormals"] = c.flush_subnormals;
  return j;
}

std::vector<std::pair<std::string, int64_t>> llc_columns(const LlcConfig& c) {
  return {{"init_loss.npy", 1}, {"llc.npy", c.chains}};
}

std::vector<std::vector<float>> llc_row(const LlcEstimate& e) {
  return {{static_cast<float>(e.init_loss)}, std::vector<float>(e.llc.begin(), e.llc.end())};
}

std::pair<std::string, std::string> llc_trace_npy(int64_t step, const LlcEstimate& e) {
  std::vector<float> trace;
  for (const auto& t : e.traces) trace.insert(trace.end(), t.begin(), t.end());
  const int64_t draws = e.traces.empty() ? 0 : static_cast<int64_t>(e.traces[0].size());
  return {rundir::llc_trace_file("", step).filename().string(),
          encode_npy_f32(trace, static_cast<int64_t>(e.traces.size()), draws)};
}

double llc_nbeta(const LlcConfig& c, int64_t n, std::string& how) {
  if (c.nbeta > 0) {
    how = "llc.nbeta";
    return c.nbeta;
  }
  const int64_t of =
      c.nbeta_from == NbetaFrom::n || c.batch_size == 0 ? n : std::min(c.batch_size, n);
  if (of < 2)
    throw ConfigError(
        fmt::format("n beta = n / log n needs n >= 2 examples ({} here); set llc.nbeta", of));
  how = fmt::format("{} / log {}", of, of);
  return double(of) / std::log(double(of));
}

namespace {

// One chain's draws and what they say, kept until every chain has run (then read in chain order).
struct ChainOutcome {
  std::vector<double> trace;  // [draws] (NaN after a divergence)
  double llc = NAN;
  std::string diverged;  // the warning, when it diverged
};

// What every chain of one estimate reads: the settings, w*, n beta, L_n(w*) and the parameter
// count (a chain whose n beta (L - L_n(w*)) passes 100 d has diverged).
template <class T>
struct ChainInputs {
  const LlcConfig& c;
  const std::vector<T>& w_star;
  double nbeta, init_loss;
  int64_t d;
};

// The chains one thread runs: its model, the full-batch step on it, its minibatches, its noise
// buffer.
template <class T>
class ChainRunner {
 public:
  ChainRunner(Experiment<T>& x, const LlcConfig& c)
      : x_(x),
        steps_(x, x.data.train.size()),
        batches_(x.data, c.batch_size, static_cast<uint64_t>(c.seed)) {}

  // The loss on the whole train split at the model's parameters.
  double full_loss() { return steps_.gradient(Examples{}, true); }

  // Chain `chain` from w*: its noise is Rng(seed, "llc").substream(chain), its minibatches those
  // of steps chain * S ... (S its SGLD steps).
  ChainOutcome run(int64_t chain, const ChainInputs<T>& in) {
    const LlcConfig& c = in.c;
    ParamStore<T>& ps = x_.model->params();
    std::copy(in.w_star.begin(), in.w_star.end(), ps.values().begin());
    Rng noise = Rng(static_cast<uint64_t>(c.seed), "llc").substream(static_cast<uint64_t>(chain));
    const int64_t total = c.burn_in + c.draws * c.draw_every;  // SGLD steps of a chain
    ChainOutcome o;
    o.trace.assign(static_cast<size_t>(c.draws), NAN);
    for (int64_t i = 0; i < total; ++i) {
      if (stop_requested()) break;  // estimate() throws ProbeInterrupted
      const double loss = batches_.full() ? steps_.gradient(Examples{}, true)
                                          : steps_.gradient(batches_.at(chain * total + i), false);
      if (!std::isfinite(loss) || in.nbeta * (loss - in.init_loss) > 100.0 * double(in.d)) {
        o.diverged = fmt::format(
            "chain {} diverged at SGLD step {} (loss {:.4g}): lower llc.step_size", chain, i, loss);
        o.trace.assign(o.trace.size(), NAN);
        break;
      }
      const int64_t after = i - c.burn_in;
      if (after >= 0 && after % c.draw_every == 0) o.trace[after / c.draw_every] = loss;
      sgld_update(ps, in.w_star, c.step_size, in.nbeta, c.localization, noise, z_);
    }
    const double mean = std::accumulate(o.trace.begin(), o.trace.end(), 0.0) / double(c.draws);
    o.llc = in.nbeta * (mean - in.init_loss);
    return o;
  }

 private:
  Experiment<T>& x_;
  Steps<T> steps_;
  Batches batches_;
  std::vector<T> z_;  // the noise, in the run's precision
};

}  // namespace

template <class T>
LlcChains<T>::LlcChains(const Config& config) {
  const int64_t threads = std::clamp<int64_t>(num_threads(), 1, llc_options(config).chains);
  for (int64_t t = 0; t < threads; ++t) models_.push_back(fixed_set_experiment<T>(config));
}

template <class T>
LlcChains<T>::~LlcChains() = default;

template <class T>
LlcEstimate LlcChains<T>::estimate(const LlcConfig& c) {
  Experiment<T>& x = experiment();
  if (x.context) throw ConfigError("gradscope llc runs on the cpu (device = cpu)");
  const FlushSubnormals flush(c.flush_subnormals);  // L_n(w*) and the chains alike
  ParamStore<T>& ps = x.model->params();
  const std::vector<T> w_star(ps.values().begin(), ps.values().end());
  const int64_t n = x.data.train.size();
  LlcEstimate e;
  e.nbeta = llc_nbeta(c, n, e.nbeta_how);
  const int64_t d = ps.elements();  // parameters
  const size_t threads = std::min<size_t>(
      models_.size(), static_cast<size_t>(std::clamp<int64_t>(num_threads(), 1, c.chains)));
  std::vector<std::unique_ptr<ChainRunner<T>>> runners;
  for (size_t t = 0; t < threads; ++t)
    runners.push_back(std::make_unique<ChainRunner<T>>(*models_[t], c));
  e.init_loss = runners[0]->full_loss();  // at w*, which experiment() holds
  const ChainInputs<T> in{c, w_star, e.nbeta, e.init_loss, d};
  std::vector<ChainOutcome> chains(static_cast<size_t>(c.chains));
  for_each_alone(c.chains, static_cast<int>(threads),
                 [&](int64_t i, int t) { chains[i] = runners[t]->run(i, in); });
  if (stop_requested()) {
    std::copy(w_star.begin(), w_star.end(), ps.values().begin());
    throw ProbeInterrupted();
  }
  std::copy(w_star.begin(), w_star.end(), ps.values().begin());
  for (size_t chain = 0; chain < chains.size(); ++chain) {
    const ChainOutcome& o = chains[chain];
    if (!o.diverged.empty()) {
      e.warnings.push_back(o.diverged);
      ++e.diverged;
    }
    e.llc.push_back(o.llc);
    if (std::isfinite(o.llc) && o.llc < 0) {
      ++e.negative;
      e.warnings.push_back(fmt::format(
          "chain {}: lambda-hat {:.4g} < 0: w* is not a local minimum of the loss (train longer, "
          "or raise llc.localization)",
          chain, o.llc));
    }
    if (std::isfinite(o.llc) && !chain_settled(o.trace)) {
      ++e.unsettled;
      e.warnings.push_back(fmt::format(
          "chain {} has not settled: its last half of draws still trends (slope beyond 4 standard "
          "errors; more llc.burn_in or llc.draws, or another llc.step_size)",
          chain));
    }
    e.traces.push_back(o.trace);
  }
  std::vector<double> ok;
  for (double v : e.llc)
    if (std::isfinite(v)) ok.push_back(v);
  e.mean = ok.empty() ? NAN : std::accumulate(ok.begin(), ok.end(), 0.0) / double(ok.size());
  double v = 0;
  for (double l : ok) v += (l - e.mean) * (l - e.mean);
  e.std = ok.size() > 1 ? std::sqrt(v / double(ok.size() - 1)) : NAN;
  return e;
}

template class LlcChains<float>;
template class LlcChains<double>;

}  // namespace gradscope
