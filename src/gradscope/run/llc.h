// The local learning coefficient (LLC, Lau et al. 2023; shared/REFERENCES.md 5) of a model at a
// checkpoint w*, estimated as devinterp estimates it: chains of SGLD sampling
// exp(-n beta L_n(w) - (gamma / 2) |w - w*|^2) from w*, each step
//   w <- w - (epsilon / 2) (n beta grad L_m(w) + gamma (w - w*)) + N(0, epsilon I),
// with L_m the training objective's mean loss over the step's examples (the whole train split, or
// llc.batch_size drawn without replacement). A draw is the loss of the step's own examples at w
// before that step's update, taken after llc.burn_in steps and then every llc.draw_every steps.
// Per chain lambda-hat = n beta (mean of its draws - L_n(w*)), L_n(w*) the loss on the whole train
// split at w*; the estimate is their mean over chains and their standard deviation (n - 1).
// n beta defaults to n / log n of the training examples (llc.nbeta_from = n, Lau et al.'s beta* =
// 1 / log n), or of the minibatch (batch, devinterp's default); llc.nbeta sets it outright.
// The chains' noise is Rng(llc.seed, "llc").substream(chain), normals in the run's precision at
// vector speed (Rng::fill_normal_pairs: in float for float runs, four per counter, as PyTorch's
// SGLD draws its noise in the parameters' float; in double for double runs); chain c's minibatches
// are those of steps c * S ... of Batches(train, llc.batch_size, llc.seed), S the steps per chain.
// The padding between parameters stays zero. It runs on the cpu backend, in the run's precision,
// with subnormal numbers flushed to zero (llc.flush_subnormals; tensor/threads.h). The chains are
// independent copies of one model: they spread over the threads, each chain alone on one thread
// with a model of its own, so every chain computes exactly what it computes alone and an estimate
// is the same at any --threads.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/run/experiment.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {

enum class NbetaFrom { n, batch };

// The llc.* keys (config/options.h: defaults, valid values and help in config/schema.cpp).
struct LlcConfig {
  double step_size = option<double>("llc.step_size");
  double localization = option<double>("llc.localization");
  double nbeta = option<double>("llc.nbeta");  // 0: from nbeta_from
  NbetaFrom nbeta_from = option<NbetaFrom>("llc.nbeta_from");
  int64_t chains = option<int64_t>("llc.chains");
  int64_t draws = option<int64_t>("llc.draws");
  int64_t burn_in = option<int64_t>("llc.burn_in");
  int64_t draw_every = option<int64_t>("llc.draw_every");
  int64_t batch_size = option<int64_t>("llc.batch_size");  // 0: the whole train split
  int64_t seed = option<int64_t>("llc.seed");
  bool flush_subnormals = option<bool>("llc.flush_subnormals");  // tensor/threads.h
  bool operator==(const LlcConfig&) const = default;
};
LlcConfig llc_options(const Config& config);

struct LlcEstimate {
  double nbeta = 0;         // the n beta used
  std::string nbeta_how;    // "n / log n, n = 911 (llc.nbeta_from = n)", or "llc.nbeta"
  double init_loss = 0;     // L_n(w*)
  std::vector<double> llc;  // [chains] lambda-hat of each chain (NaN: it diverged)
  std::vector<std::vector<double>> traces;  // [chains][draws] the draws' losses (NaN after a
                                            // divergence)
  double mean = 0, std = 0;                 // over the chains that did not diverge
  std::vector<std::string> warnings;        // a chain that diverged, did not settle, or gave < 0
  int diverged = 0, unsettled = 0, negative = 0;  // how many chains of each
};

// The models an estimate's chains run on, one for each thread it may use (num_threads() when it
// is built, tensor/threads.h, at most llc.chains), all built from one config (on the cpu; a
// streamed task's stream dropped: fixed_set_experiment in run/checkpoint_measures.h).
// experiment() holds w*: load the checkpoint (or copy the run's parameters) there. estimate()
// spreads the chains over those models' threads (fewer where num_threads() is smaller then, e.g.
// in a replica group's worker).
template <class T>
class LlcChains {
 public:
  explicit LlcChains(const Config& config);
  ~LlcChains();
  LlcChains(const LlcChains&) = delete;
  LlcChains& operator=(const LlcChains&) = delete;
  Experiment<T>& experiment() { return *models_[0]; }
  // Estimates the LLC at experiment()'s parameters, leaving them as they were.
  LlcEstimate estimate(const LlcConfig& c);

 private:
  std::vector<std::unique_ptr<Experiment<T>>> models_;  // [threads], [0] holds w*
};

// llc/settings.json: the settings, the n beta used and how it was set (gradscope llc and
// probe.llc write the same, so either skips the other's steps).
nlohmann::ordered_json llc_settings(const LlcConfig& c, double nbeta, const std::string& how);
// llc/'s columns by step (run/checkpoint_measures.h StepRows): init_loss.npy [S] (L_n(w*)) and
// llc.npy [S, chains]; and an estimate's row of them.
std::vector<std::pair<std::string, int64_t>> llc_columns(const LlcConfig& c);
std::vector<std::vector<float>> llc_row(const LlcEstimate& e);
// trace_<step>.npy: float32 [chains, draws], every draw's loss (NaN after a divergence).
std::pair<std::string, std::string> llc_trace_npy(int64_t step, const LlcEstimate& e);

// Whether a chain's draws have settled: the slope of a least-squares line through their last half
// is within 4 standard errors of zero, the error from the residuals' variance and autocorrelation
// time (Sokal's window). Fewer than 80 draws: true (too few to tell).
bool chain_settled(const std::vector<double>& trace);

// One SGLD step of every parameter element (not the padding) from the gradient in ps:
// w <- w - (eps / 2) (nbeta g + gamma (w - w*)) + sqrt(eps) z, in double and rounded to T once,
// z of each parameter tensor from noise.fill_normal_pairs in T (`z` its buffer).
template <class T>
void sgld_update(ParamStore<T>& ps, const std::vector<T>& w_star, double eps, double nbeta,
                 double gamma, Rng& noise, std::vector<T>& z);

// The n beta of a run with n training examples, and how it was set ("10000 / log 10000" or
// "llc.nbeta").
double llc_nbeta(const LlcConfig& c, int64_t n, std::string& how);

}  // namespace gradscope
