// The local learning coefficient by SGLD: see llc.h.
#include "gradscope/run/llc.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "gradscope/run/batches.h"
#include "gradscope/run/steps.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/tensor/npy.h"
#include "gradscope/tensor/rng.h"

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

namespace {

// The SGLD update of every parameter element (not the padding) from the gradient in ps.
template <class T>
void sgld_update(ParamStore<T>& ps, const std::vector<T>& w_star, double eps, double nbeta,
                 double gamma, Rng& noise, std::vector<double>& z) {
  const std::span<T> w = ps.values();
  const std::span<T> g = ps.grads();
  for (const ParamInfo& p : ps.params()) {
    const int64_t n = p.shape.numel();
    z.resize(static_cast<size_t>(n));
    noise.fill_normal_pairs(z.data(), n, std::sqrt(eps));
    for (int64_t k = p.offset; k < p.offset + n; ++k) {
      const double drift = nbeta * double(g[k]) + gamma * (double(w[k]) - double(w_star[k]));
      w[k] = static_cast<T>(double(w[k]) - 0.5 * eps * drift + z[k - p.offset]);
    }
  }
}

}  // namespace

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

template <class T>
LlcEstimate estimate_llc(Experiment<T>& x, const LlcConfig& c) {
  if (x.context) throw ConfigError("gradscope llc runs on the cpu (device = cpu)");
  if (x.data.sample)
    throw ConfigError(
        "the task draws fresh samples every step; the LLC needs a fixed training set (build the "
        "experiment with fixed_set_experiment)");
  ParamStore<T>& ps = x.model->params();
  const std::vector<T> w_star(ps.values().begin(), ps.values().end());
  const int64_t n = x.data.train.size();
  LlcEstimate e;
  e.nbeta = llc_nbeta(c, n, e.nbeta_how);
  int64_t d = 0;  // parameters
  for (const ParamInfo& p : ps.params()) d += p.shape.numel();
  Batches batches(x.data, c.batch_size, static_cast<uint64_t>(c.seed));
  Steps<T> steps(x, n);  // the full batch, the largest of its steps
  e.init_loss = steps.gradient(Examples{}, true);
  const int64_t total = c.burn_in + c.draws * c.draw_every;  // SGLD steps of a chain
  std::vector<double> z;
  for (int64_t chain = 0; chain < c.chains; ++chain) {
    std::copy(w_star.begin(), w_star.end(), ps.values().begin());
    Rng noise = Rng(static_cast<uint64_t>(c.seed), "llc").substream(static_cast<uint64_t>(chain));
    std::vector<double> trace(static_cast<size_t>(c.draws), NAN);
    for (int64_t i = 0; i < total; ++i) {
      const double loss = batches.full() ? steps.gradient(Examples{}, true)
                                         : steps.gradient(batches.at(chain * total + i), false);
      if (!std::isfinite(loss) || e.nbeta * (loss - e.init_loss) > 100.0 * double(d)) {
        e.warnings.push_back(
            fmt::format("chain {} diverged at SGLD step {} (loss {:.4g}): lower llc.step_size",
                        chain, i, loss));
        trace.assign(trace.size(), NAN);
        ++e.diverged;
        break;
      }
      const int64_t after = i - c.burn_in;
      if (after >= 0 && after % c.draw_every == 0) trace[after / c.draw_every] = loss;
      sgld_update(ps, w_star, c.step_size, e.nbeta, c.localization, noise, z);
    }
    const double mean = std::accumulate(trace.begin(), trace.end(), 0.0) / double(c.draws);
    e.llc.push_back(e.nbeta * (mean - e.init_loss));
    if (std::isfinite(e.llc.back()) && e.llc.back() < 0) {
      ++e.negative;
      e.warnings.push_back(fmt::format(
          "chain {}: lambda-hat {:.4g} < 0: w* is not a local minimum of the loss (train longer, "
          "or raise llc.localization)",
          chain, e.llc.back()));
    }
    if (std::isfinite(e.llc.back()) && !chain_settled(trace)) {
      ++e.unsettled;
      e.warnings.push_back(fmt::format(
          "chain {} has not settled: its last half of draws still trends (slope beyond 4 standard "
          "errors; more llc.burn_in or llc.draws, or another llc.step_size)",
          chain));
    }
    e.traces.push_back(std::move(trace));
  }
  std::copy(w_star.begin(), w_star.end(), ps.values().begin());
  std::vector<double> ok;
  for (double v : e.llc)
    if (std::isfinite(v)) ok.push_back(v);
  e.mean = ok.empty() ? NAN : std::accumulate(ok.begin(), ok.end(), 0.0) / double(ok.size());
  double v = 0;
  for (double l : ok) v += (l - e.mean) * (l - e.mean);
  e.std = ok.size() > 1 ? std::sqrt(v / double(ok.size() - 1)) : NAN;
  return e;
}

template LlcEstimate estimate_llc(Experiment<float>&, const LlcConfig&);
template LlcEstimate estimate_llc(Experiment<double>&, const LlcConfig&);

}  // namespace gradscope
