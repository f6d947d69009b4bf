// The curvature of a run's training loss at its parameters (probes/curvature.h's operators on the
// run's model): the top eigenvalues and the trace of the Hessian of the training objective on the
// whole train split, for the whole model and for each parameter tensor's diagonal block, from
// central differences of float64 gradients. A float32 run's checkpoint is read into a float64
// copy of its model (load_values_as_double), so the differences never see float32 rounding.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/nn/param_store.h"
#include "gradscope/probes/curvature.h"
#include "gradscope/run/experiment.h"

namespace gradscope {

// The hessian.* keys (config/options.h: defaults, valid values and help in config/schema.cpp).
struct HessianConfig {
  int64_t top_k = option<int64_t>("hessian.top_k");
  int64_t iterations = option<int64_t>("hessian.iterations");
  int64_t trace_probes = option<int64_t>("hessian.trace_probes");
  double fd_step = option<double>("hessian.fd_step");
  bool per_tensor = option<bool>("hessian.per_tensor");
  bool preconditioned = option<bool>("hessian.preconditioned");
  int64_t seed = option<int64_t>("hessian.seed");
  bool operator==(const HessianConfig&) const = default;
};
HessianConfig hessian_options(const Config& config);

// hessian/settings.json (gradscope hessian and probe.hessian write the same, so either skips the
// other's steps).
nlohmann::ordered_json hessian_settings(const HessianConfig& c);

struct TensorCurvature {
  std::string name;
  double top = 0;  // the block's largest eigenvalue
  TraceEstimate trace;
};

struct HessianEstimate {
  std::vector<double> top;  // [top_k] descending
  TraceEstimate trace;
  std::vector<TensorCurvature> tensors;  // per parameter tensor, in the store's order
  double preconditioned = NAN;           // lambda_1(P^-1 H), with a preconditioner
  int64_t gradients = 0;                 // gradient evaluations it took
};

// hessian/'s columns by step (run/checkpoint_measures.h StepRows): top.npy [S, top_k], trace.npy
// [S, 2] (trace, standard error) and with per_tensor tensor.<name>.npy [S, 3] (top, trace, error);
// and an estimate's row of them.
std::vector<std::pair<std::string, int64_t>> hessian_columns(const HessianConfig& c,
                                                             ParamStore<double>& ps);
std::vector<std::vector<float>> hessian_row(const HessianConfig& c, const HessianEstimate& e);

// Every parameter element in the store's order, without the padding: [d].
std::vector<double> packed_values(ParamStore<double>& ps);
// Sets the parameters from packed values w [d] (packed_values' order).
void set_packed_values(ParamStore<double>& ps, const double* w);
// The gradient over packed parameters: sets them, runs `backward` (which must zero the
// gradients, record the loss and run backward on the store's tape) and packs the gradient.
GradientFunction packed_gradient(ParamStore<double>& ps, std::function<void()> backward);

// The Hessian at w [d] of a loss whose gradient `gradient` takes by forward passes on `tape`:
// central differences with step h (probes/curvature.h), every kink held on w's side
// (autograd/tape.h KinkPatterns), recorded by one gradient at w and replayed at each w + h u. On
// a model with relus or the hinge loss this is the Hessian autograd gives (relu'' = 0); a
// difference across a kink would instead be the gradient's jump over 2 h. The tape runs with the
// patterns until this is destroyed.
class KinkHeldHessian {
 public:
  KinkHeldHessian(Tape<double>& tape, GradientFunction gradient, std::vector<double> w, double h);
  ~KinkHeldHessian() { tape_.set_kinks(nullptr); }
  KinkHeldHessian(const KinkHeldHessian&) = delete;
  KinkHeldHessian& operator=(const KinkHeldHessian&) = delete;
  const LinearOperator& op() const { return op_; }

 private:
  Tape<double>& tape_;
  KinkPatterns kinks_;
  LinearOperator op_;
};

// The curvature at the experiment's current parameters (left as they were), on the cpu. With
// `preconditioner` P (packed [d], every element > 0) also lambda_1(P^-1 H), as the largest
// eigenvalue of the symmetric P^-1/2 H P^-1/2 (the same spectrum) by Lanczos.
HessianEstimate estimate_hessian(Experiment<double>& x, const HessianConfig& c,
                                 const std::vector<double>* preconditioner = nullptr);

// Throws ConfigError for a run that is not adam or adamw (hessian.preconditioned needs one).
void check_adam_run(const Config& config);
// Adam's preconditioner (Cohen et al. 2022, "Adaptive gradient methods at the edge of stability")
// from packed second moments v [d] after t optimizer steps: P = (1 - beta1^t) (sqrt(v / (1 -
// beta2^t)) + eps), packed [d] (the update that produced the weights used it, its first moment's
// bias correction folded in). Empty at t = 0. Throws as check_adam_run.
std::vector<double> adam_preconditioner(std::vector<double> v, int64_t t, const Config& config);
// The same at a checkpoint: v its optim.exp_avg_sq, t its optimizer steps.
std::vector<double> adam_preconditioner(const std::filesystem::path& checkpoint,
                                        ParamStore<double>& ps, const Config& config);

// Reads a checkpoint's parameter values (float32 or float64) into `ps` by name, converting to
// double. Throws std::runtime_error naming the file and a parameter that does not match.
void load_values_as_double(const std::filesystem::path& checkpoint, ParamStore<double>& ps);
// A checkpoint buffer (values, exp_avg_sq, ...) of `ps`'s parameters, packed in the store's order
// as doubles [d]. Throws std::runtime_error naming the file and what is missing.
std::vector<double> packed_buffer(const std::filesystem::path& checkpoint, const std::string& name,
                                  ParamStore<double>& ps);

}  // namespace gradscope
