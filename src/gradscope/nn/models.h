// Models for the algorithmic tasks. Each owns a ParamStore with stable, named parameters and maps
// N examples of L integer ids to logits [N, C].
//
//   transformer  Nanda et al. / Power et al. decoder: token + position embeddings, n_layers blocks
//                of multi-head attention and an MLP (norm none / pre / post), unembedding read at
//                the last position. Parameter names follow TransformerLens ("embed.W_E",
//                "blocks.0.attn.W_Q", "unembed.W_U"); W_Q/W_K/W_V are stored [D, H*Dh] with head h
//                in columns h*Dh .. (h+1)*Dh, W_O [H*Dh, D].
//   mlp, form "pair"    the PAIR explorable: tied embedding E [C, De]; h = act(E[a] W_in + E[b]
//   W_in)
//                       (one bias-free W_in shared by both operands, summed), logits = (h W_out)
//                       E^T.
//   mlp, form "concat"  embedding [V, De] of each operand, concatenated, one hidden layer with
//                       biases, linear readout to C classes.
//
// Shape legend: N = examples, L = ids per example, D = d_model, H = heads, Dh = d_head,
// F = d_mlp, V = vocabulary, C = classes, De = d_embed, Dhid = d_hidden.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gradscope/autograd/ops.h"
#include "gradscope/nn/param_store.h"

namespace gradscope {

struct ModelConfig {
  std::string type = "transformer";  // transformer | mlp
  // transformer
  int64_t n_layers = 1, d_model = 128, n_heads = 4, d_mlp = 512;
  int64_t d_head = 0;                 // 0: d_model / n_heads
  std::string activation = "relu";    // relu | gelu (transformer); relu | square | gelu (mlp)
  std::string norm = "none";          // none | pre | post
  std::string positions = "learned";  // learned | sinusoidal
  bool attn_bias = false, mlp_bias = true, tied_unembed = false, causal = true;
  // mlp
  std::string mlp_form = "pair";  // pair | concat
  int64_t d_embed = 500, d_hidden = 24;
  // initialization
  std::string init = "normal";  // normal (N(0, 1/fan_in) scheme of Nanda et al.) | haiku (PAIR)
  double init_scale = 1.0;      // multiplies every initial weight
  // Computes the last block's MLP and the unembedding only at the last position (the only one
  // the loss reads). Exact; off only to test it against the plain path.
  bool last_position_only = true;
  // Runs the first block's per-position work (embeddings, first norm, Q/K/V projections) once per
  // (token, position) and gathers the rows, when the vocabulary is smaller than the batch.
  // Exact; off only to test it against the plain path.
  bool token_tables = true;

  void validate() const;  // throws std::invalid_argument naming "model.<key>"
};

// What a model needs to know about its task.
struct ModelShape {
  int64_t vocab = 0;        // distinct input ids
  int64_t num_classes = 0;  // targets; transformers output `vocab` logits (targets < vocab)
  int64_t length = 0;       // ids per example
};

template <class T>
class Model {
 public:
  virtual ~Model() = default;
  ParamStore<T>& params() { return params_; }
  // logits [N, outputs()] for inputs [N, L].
  virtual Var logits(Tape<T>& t, const int32_t* inputs, int64_t n) = 0;
  virtual int64_t outputs() const = 0;

 protected:
  ParamStore<T> params_;
};

// Builds the model and draws its initial weights from Rng(seed, "init"); saves W_0.
template <class T>
std::unique_ptr<Model<T>> make_model(const ModelConfig& config, const ModelShape& shape,
                                     uint64_t seed);

}  // namespace gradscope
