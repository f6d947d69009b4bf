// Models: the Model base class, ModelConfig (the model.* keys) and the models' contracts. Each
// model owns a ParamStore with stable, named parameters and maps a batch to outputs [N, C].
// Models are found by model.type in the registry (nn/model_registry.h); each lives in a file of
// its own (transformer.cpp, mlp.cpp, linear_models.cpp).
//
//   transformer  (transformer.cpp) Nanda et al. / Power et al. decoder: token + position
//                embeddings, n_layers blocks of multi-head attention and an MLP (norm none / pre /
//                post; d_mlp = 0: no MLP, the attention-only models of Olsson et al.), unembedding
//                read at the last position (or at every position for next-token tasks: logits [N *
//                L, V]). Parameter names follow TransformerLens ("embed.W_E", "blocks.0.attn.W_Q",
//                "unembed.W_U"); W_Q/W_K/W_V are stored [D, H*Dh] with head h in columns h*Dh ..
//                (h+1)*Dh, W_O [H*Dh, D]. Real inputs (in-context regression: the shape has
//                features, L positions of Din = F / L each): a linear read-in "embed.W_E"
//                [Din, D] in place of the token embedding and a read-out "unembed.W_U" [D, 1]
//                at every (L / K)-th position from 0 (the x positions), outputs [N, K]; Garg et
//                al.'s and Raventós et al.'s GPT-2 with norm = "pre", activation = "gelu".
//   mlp (mlp.cpp), form "pair"  the PAIR explorable: tied embedding E [C, De];
//                       h = act(E[a] W_in + E[b] W_in) (one bias-free W_in shared by both
//                       operands, summed), logits = (h W_out) E^T.
//   mlp, form "concat"  embedding [V, De] of each operand, concatenated, one hidden layer with
//                       biases, linear readout to C classes.
//   mlp, form "dense"   real inputs x [N, F] (parity tasks): `depth` hidden layers of width
//                       d_hidden with biases ("layers.0.W" [F, Dhid], "layers.0.b", ...), then a
//                       linear readout ("readout.W", "readout.b") to C outputs (1 for the hinge
//                       loss). init "uniform" is PyTorch's nn.Linear default, U(+-1/sqrt(fan_in))
//                       for weights and biases (Barak et al.); "normal" N(0, 1/fan_in), biases 0.
//
//   diagonal, diag_attention, deep_linear, matrix_factorization: the models of the rank-dynamics
//   experiments (REFERENCES 2), in linear_models.cpp; see linear_models.h.
//
// Shape legend: N = examples, L = ids per example, D = d_model, H = heads, Dh = d_head,
// F = d_mlp, V = vocabulary, C = classes, De = d_embed, Dhid = d_hidden.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gradscope/autograd/ops.h"
#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/nn/param_store.h"
#include "gradscope/tensor/model_shape.h"

namespace gradscope {

// The enum-valued model.* keys' values, in the schema's order.
enum class Activation { relu, gelu, gelu_tanh, square };
enum class NormPlacement { none, pre, post };
enum class Positions { learned, sinusoidal };
enum class MlpForm { pair, concat, dense, onehot };
enum class InitScheme { normal, haiku, identity, uniform };

// The model.* keys (config/options.h: defaults, valid values and help in config/schema.cpp).
struct ModelConfig {
  std::string type = option<std::string>("model.type");  // the registry's name
  // transformer
  int64_t n_layers = option<int64_t>("model.n_layers");
  int64_t d_model = option<int64_t>("model.d_model");
  int64_t n_heads = option<int64_t>("model.n_heads");
  int64_t d_mlp = option<int64_t>("model.d_mlp");
  int64_t d_head = option<int64_t>("model.d_head");                // 0: d_model / n_heads
  Activation activation = option<Activation>("model.activation");  // square: mlp only
  NormPlacement norm = option<NormPlacement>("model.norm");
  Positions positions = option<Positions>("model.positions");
  bool attn_bias = option<bool>("model.attn_bias");
  bool mlp_bias = option<bool>("model.mlp_bias");
  bool tied_unembed = option<bool>("model.tied_unembed");
  bool causal = option<bool>("model.causal");
  // mlp
  MlpForm mlp_form = option<MlpForm>("model.mlp_form");
  int64_t d_embed = option<int64_t>("model.d_embed");
  int64_t d_hidden = option<int64_t>("model.d_hidden");
  // rank-dynamics models: factors (diagonal, matrix_factorization), layers (deep_linear); hidden
  // layers of mlp dense
  int64_t depth = option<int64_t>("model.depth");
  int64_t width = option<int64_t>("model.width");  // deep_linear hidden width (0: input dim)
  // normal: N(0, 1/fan_in) (Nanda et al.); identity: every factor init_scale * I
  InitScheme init = option<InitScheme>("model.init");
  double init_scale = option<double>("model.init_scale");  // multiplies every initial weight
  // Computes the last block's MLP and the unembedding only at the last position (the only one
  // the loss reads). Exact; off only to test it against the plain path.
  bool last_position_only = true;
  // Runs the first block's per-position work (embeddings, first norm, Q/K/V projections) once per
  // (token, position) and gathers the rows, when the vocabulary is smaller than the batch; for the
  // PAIR MLP, computes E W_in and W_out E^T once per step and gathers (the factored form).
  // Exact; off only to test it against the plain path.
  bool token_tables = true;

  // Throws std::invalid_argument naming "model.<key>": init_scale, then the model family's checks.
  void validate() const;
  bool operator==(const ModelConfig&) const = default;
};

// The model.* keys of a config (last_position_only and token_tables keep their defaults).
ModelConfig model_options(const Config& config);

// One example batch: ids [N, L] and/or real inputs x [N, F] (a tape constant).
struct Batch {
  const int32_t* ids = nullptr;
  Var x;
  int64_t n = 0;
};

// A matrix the spectral probe reads: a parameter of rank 2, or a product the model defines (a
// head's W_Q W_K^T, a linear model's end-to-end matrix).
struct ProbedMatrix {
  std::string name;
  int64_t rows = 0, cols = 0;
  int param = -1;  // ParamStore index for parameters; -1 for products
};

// Sees each named activation of a forward pass (TransformerLens's names: "hook_embed",
// "blocks.0.attn.hook_q", ...) and returns the Var to continue with: the same one, or a
// replacement of the same shape (ablation, patching).
using ActivationHook = std::function<Var(const std::string& name, Var value)>;

template <class T>
class Model {
 public:
  virtual ~Model() = default;
  ParamStore<T>& params() { return params_; }
  // Outputs [N, outputs()]: logits of classification models, predictions of regression models.
  virtual Var forward(Tape<T>& t, const Batch& b) = 0;
  // logits [N, outputs()] for id inputs [N, L].
  Var logits(Tape<T>& t, const int32_t* inputs, int64_t n) { return forward(t, {inputs, {}, n}); }
  virtual int64_t outputs() const = 0;

  // Transformers: each layer's attention probabilities [N, H, L, L] for id inputs [N, L] (a forward
  // pass on the tape; the views live until its reset). Other models: empty.
  virtual std::vector<Tensor<T>> attention_patterns(Tape<T>& t, const int32_t* ids, int64_t n);

  // The plain path (none of training's shortcuts) with `hook` called at every named activation
  // (docs/PYTHON.md lists each family's; the transformer's are TransformerLens's), and the
  // outputs: the transformer's logits at every position [N * L, outputs()] (row n * L + l), any
  // other model's [N, outputs()].
  virtual Var forward_with_hooks(Tape<T>& t, const Batch& b, const ActivationHook& hook);

  // Every matrix parameter, then the model's products.
  std::vector<ProbedMatrix> probed_matrices() const;
  // Matrix `m` of probed_matrices() as row-major doubles [rows, cols], computed from a flat
  // parameter buffer laid out as params() (the current values or W_0).
  void probed_matrix(const ProbedMatrix& m, std::span<const T> buffer, double* out) const;

 protected:
  // Products the model defines, beyond its matrix parameters.
  virtual std::vector<ProbedMatrix> products() const { return {}; }
  virtual void product(const ProbedMatrix& m, std::span<const T> buffer, double* out) const;
  // A named activation ("<group>.<layer>.<name>", or "<name>" for layer < 0), passed through the
  // hook while forward_with_hooks runs; the name is only spelled then.
  Var named(Var v, const char* name, int64_t layer = -1, const char* group = "blocks") const;

  ParamStore<T> params_;
  const ActivationHook* hook_ = nullptr;  // set while forward_with_hooks runs
};

}  // namespace gradscope
