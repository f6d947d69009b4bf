// The schema: every key of an experiment with its type (the default's), default, valid values,
// help and properties, in the order the resolved config.toml lists them. The one table: the layers'
// options structs (OptimizerConfig, ModelConfig, ...) name their keys and take everything else from
// here (config/options.h); `gradscope keys` prints it; tests/unit/options_test.cpp checks that no
// struct writes a default of its own, that every key has help and every enum the valid order.
//
// .one_of(...): the valid values of an enum-valued key, in its enum's order. .named_by(...): the
// registry whose names are valid. .replica(): changes no tensor shape and no control flow of a step
// (optim.weight_norm only between nonzero values: 0 turns the constraint off). .within(...): a
// number key's valid range (the ranges that depend on the family or model stay with its checks).
#include "gradscope/config/config.h"

namespace gradscope {

using namespace std::string_literals;

namespace {

// Every range is of finite numbers (inf and nan are refused): an open-ended one says so.
std::string finite(const char* words) {
  return words[0] == '>' ? std::string("a finite number ") + words : std::string(words);
}
NumberRange at_least(double low, const char* words) {
  return {low, HUGE_VAL, false, false, finite(words)};
}
NumberRange above(double low, const char* words) {
  return {low, HUGE_VAL, true, false, finite(words)};
}
NumberRange between(double low, double high, bool low_open, bool high_open, std::string words) {
  return {low, high, low_open, high_open, std::move(words)};
}

}  // namespace

// Keys added after schema version 1 carry their version (`since`): see config.h. The table is made
// on first use, so an options struct built during static initialization still finds it.
const std::vector<KeySpec>& schema_table() {
  static const std::vector<KeySpec> table = {
      {"name", "run"s, "run directory name under runs/"},
      KeySpec{"seed", int64_t{0}, "seed of the init, batch and noise streams"}.replica().within(
          at_least(0, "an integer >= 0")),
      KeySpec{"precision", "float32"s, "arithmetic; tf32 is float32 with TF32 GEMMs (cuda only)"}
          .one_of({"float32", "float64", "tf32"}),

      KeySpec{"task.name", "modular"s, "the task family: what the model learns"}.named_by(
          KeySpec::Registry::task_families),
      {"task.op", "a+b"s, "binary operation (Power et al.); see README"},
      {"task.p", int64_t{113}, "modular: the modulus p"},
      {"task.n", int64_t{5}, "degree of the permutation group S_n"},
      {"task.train_fraction", 0.3, "fraction of all pairs used for training"},
      KeySpec{"task.split_seed", int64_t{598}, "seed of the train/test split (independent of seed)"}
          .replica()
          .within(at_least(0, "an integer >= 0")),
      {"task.unordered", false, "only pairs a <= b"},
      {"task.target", std::vector<double>{}, "teacher: w* (diagonal_teacher) or singular values"},
      {"task.target_vo", std::vector<double>{},
       "attention teacher's W_V W_O diagonal ([]: target)"},
      KeySpec{"task.teacher", "linear"s, "lowrank_teacher: a linear map or one attention layer"}
          .one_of({"linear", "attention"}),
      KeySpec{"task.teacher_basis", "random"s, "the teacher's singular vectors"}.one_of(
          {"random", "identity"}),
      KeySpec{
          "task.inputs", "whitened"s,
          "regression teachers' training inputs: whitened (sqrt(d) I) or gaussian (task.n_samples "
          "draws)"}
          .one_of({"whitened", "gaussian"}),
      {"task.dim", int64_t{0},
       "input dimension (0: the length of task.target); in-context regression: d of x and w"},
      {"task.seq_len", int64_t{4}, "sequence length (attention teacher, induction, text)"},
      {"task.n_samples", int64_t{256}, "training examples when task.inputs = gaussian"},
      {"task.n_test", int64_t{512},
       "test examples (regression teachers, parity, induction; per subtask for multitask; per "
       "evaluation split for in-context regression)"},
      {"task.size", int64_t{100}, "matrix completion: n (the target is n x n)"},
      {"task.rank", int64_t{5}, "matrix completion: rank r of the target"},
      {"task.observed", int64_t{2000}, "matrix completion: observed entries m (training set)"},
      {"task.n_bits", int64_t{30}, "parity: input bits n"},
      {"task.k", int64_t{3}, "parity: relevant bits k (per subtask)"},
      {"task.n_tasks", int64_t{20}, "multitask parity: subtasks T"},
      {"task.zipf_exponent", 1.4, "multitask parity: subtask i drawn with probability ~ i^-a"},
      {"task.vocab", int64_t{32}, "induction: vocabulary size"},
      {"task.segment_len", int64_t{8}, "induction: tokens per repeated segment"},
      {"task.n_train", int64_t{0}, "parity, induction: fixed training examples (0: fresh samples)"},

      KeySpec{"model.type", "transformer"s, "the model family"}.named_by(
          KeySpec::Registry::model_families),
      {"model.n_layers", int64_t{1}, "transformer blocks"},
      {"model.d_model", int64_t{128}, "residual width"},
      {"model.n_heads", int64_t{4}, "attention heads"},
      {"model.d_head", int64_t{0}, "head width (0: d_model / n_heads)"},
      {"model.d_mlp", int64_t{512}, "MLP hidden width (0: attention-only transformer)"},
      KeySpec{"model.activation", "relu"s,
              "the MLP's nonlinearity (gelu: the exact erf form; gelu_tanh: GPT-2's tanh "
              "approximation, PyTorch's approximate=\"tanh\"; square: model.type = mlp only)"}
          .one_of({"relu", "gelu", "gelu_tanh", "square"}),
      KeySpec{"model.norm", "none"s, "LayerNorm placement (transformer)"}.one_of(
          {"none", "pre", "post"}),
      KeySpec{"model.positions", "learned"s, "position embedding (transformer)"}.one_of(
          {"learned", "sinusoidal"}),
      {"model.attn_bias", false, "biases on Q, K, V, O"},
      {"model.mlp_bias", true, "biases on the transformer MLP and on mlp dense and onehot layers"},
      {"model.tied_unembed", false, "unembedding = embedding transposed"},
      {"model.causal", true, "causal attention mask"},
      KeySpec{
          "model.mlp_form", "pair"s,
          "model.type = mlp: how the inputs enter (pair and concat: two operand ids; dense: real "
          "features, parity tasks; onehot: the operand ids' one-hot vectors side by side into "
          "model.depth dense layers, Prieto et al.)"}
          .one_of({"pair", "concat", "dense", "onehot"}),
      {"model.d_embed", int64_t{500}, "embedding width (mlp)"},
      {"model.d_hidden", int64_t{24}, "hidden width (mlp)"},
      {"model.depth", int64_t{2},
       "factors of diagonal / matrix_factorization, layers of deep_linear, hidden layers of mlp "
       "dense"},
      {"model.width", int64_t{0}, "deep_linear hidden width (0: the input dimension)"},
      KeySpec{"model.init", "normal"s,
              "initialization: normal (N(0, 1/fan_in)), haiku (PAIR's truncated normals, mlp), "
              "identity (deep_linear, matrix_factorization), uniform (mlp dense: PyTorch's "
              "nn.Linear default)"}
          .one_of({"normal", "haiku", "identity", "uniform"}),
      KeySpec{"model.init_scale", 1.0, "multiplies every initial weight"}.replica().within(
          above(0, "a finite number > 0")),

      KeySpec{"optim.name", "adamw"s, "the update rule"}.one_of({"sgd", "adam", "adamw"}),
      KeySpec{"optim.lr", 1e-3, "base learning rate"}.replica().within(
          at_least(0, "a finite number >= 0")),
      KeySpec{"optim.weight_decay", 1.0, "decoupled (adamw) or L2 (sgd, adam)"}.replica().within(
          at_least(0, "a finite number >= 0")),
      KeySpec{"optim.beta1", 0.9, "Adam beta1"}.replica().within(
          between(0, 1, false, true, "[0, 1)")),
      KeySpec{"optim.beta2", 0.98, "Adam beta2"}.replica().within(
          between(0, 1, false, true, "[0, 1)")),
      KeySpec{"optim.eps", 1e-8, "Adam eps"}.within(above(0, "> 0")),
      KeySpec{"optim.momentum", 0.0, "SGD momentum"}.within(at_least(0, ">= 0")),
      KeySpec{"optim.dampening", 0.0, "SGD dampening"}.within(
          between(0, 1, false, false, "[0, 1]")),
      {"optim.nesterov", false, "SGD Nesterov momentum"},
      KeySpec{"optim.warmup_steps", int64_t{10}, "linear warmup lr * min(step / warmup_steps, 1)"}
          .replica()
          .within(at_least(0, ">= 0")),
      KeySpec{"optim.decay", "constant"s,
              "learning rate after warmup: constant, or cosine or linear decay to min_lr_ratio at "
              "train.steps"}
          .one_of({"constant", "cosine", "linear"}),
      KeySpec{"optim.min_lr_ratio", 0.0, "cosine or linear floor as a fraction of lr"}.within(
          between(0, 1, false, false, "[0, 1]")),
      KeySpec{"optim.clip_norm", 0.0, "gradient-norm clipping threshold (0: off)"}.within(
          at_least(0, ">= 0 (0: off)")),

      {"probe.spectra", true, "singular values of W_t - W_0 (and head products) into spectra/"},
      KeySpec{"probe.every", int64_t{0}, "spectra every this many steps (0: log-spaced)"}.within(
          at_least(0, "an integer >= 0; 0: log-spaced")),
      KeySpec{"probe.per_decade", int64_t{20}, "log-spaced spectra: steps per decade"}.within(
          between(1, 1000, false, false, "an integer in [1, 1000]")),
      {"probe.params", ""s, "comma-separated matrices to probe (empty: all)"},
      KeySpec{"probe.rank_eps", 0.01, "numerical rank: #{sigma_i > eps * sigma_max}"}.within(
          between(0, 1, true, true, "a number in (0, 1)")),

      KeySpec{"train.steps", int64_t{20000}, "optimizer steps"}.within(
          at_least(1, "an integer >= 1")),
      KeySpec{"train.batch_size", int64_t{0}, "examples per step (0: full batch)"}.within(
          at_least(0, ">= 0 (0: full batch)")),
      KeySpec{"train.log_every", int64_t{100}, "evaluate and log every this many steps"}.within(
          at_least(1, "an integer >= 1")),
      KeySpec{"train.checkpoint_every", int64_t{1000},
              "resumable checkpoint interval (0: log-spaced only)"}
          .within(at_least(0, ">= 0 (0: log-spaced only)")),
      KeySpec{"train.loss", "cross_entropy"s,
              "training loss (hinge: two-class tasks, one score; stablemax: cross-entropy over "
              "StableMax, Prieto et al.)"}
          .one_of({"cross_entropy", "hinge", "stablemax"}),
      KeySpec{"train.loss_reduction", "mean"s,
              "mean over examples, or mean_over_classes (PAIR: cross-entropy / classes)"}
          .one_of({"mean", "mean_over_classes"}),
      KeySpec{"train.memorize_threshold", 0.99, "memorized_step: first train_acc at or above"}
          .within(between(0, 1, true, false, "a fraction in (0, 1]")),
      KeySpec{"train.generalize_threshold", 0.99, "generalized_step: first test_acc at or above"}
          .within(between(0, 1, true, false, "a fraction in (0, 1]")),
      KeySpec{"train.regime_threshold", 0.9, "accuracy threshold of the regime classification"}
          .within(between(0, 1, true, false, "a fraction in (0, 1]")),
      KeySpec{"train.regime_gap", int64_t{1000},
              "G: grokking when test reaches it more than G steps late"}
          .within(at_least(0, "an integer >= 0")),
      KeySpec{"train.phase_min_change", 0.1,
              "phase changes: smallest change (in the metric's units) that counts as one"}
          .within(above(0, "a number > 0")),
      KeySpec{
          "device", "cpu"s,
          "where the run executes (emulated: the cuda code path on the host, for tests); not part "
          "of the run id",
          2, true}
          .one_of({"cpu", "cuda", "emulated"}),
      KeySpec{"train.stop_after_generalized", int64_t{0},
              "stop this many steps after generalized_step (0: off; train.steps stays the budget)",
              2}
          .within(at_least(0, "an integer >= 0 (0: off)")),
      {"train.checkpoint_steps", "log"s,
       "checkpoints kept for analysis: \"log\" (0 and 1, 2, 5 x 10^k from 100), \"every:N\", or a "
       "list of steps",
       2, false, true},
      {"task.op_token", false,
       "transformer inputs [a, op, b, '='] (Grokfast) instead of [a, b, '=']", 3},
      {"task.nonzero_b", false, "modular: only pairs with b != 0 (Grokfast's x*y, y in 1..p-1)", 3},
      {"train.flush_subnormals", false,
       "the run's cpu arithmetic flushes subnormal numbers to zero (x86's FTZ and DAZ, as GPUs' "
       "fast paths do): a model whose softmax underflows (large margins, late in grokking runs) "
       "steps several times faster on Intel CPUs; changes results where a subnormal arises",
       8},
      KeySpec{"train.batch_order", "sample"s,
              "minibatches: sample (each step draws its own) or epoch (the train set reshuffled "
              "every epoch, then consecutive batches, the last one smaller)",
              3}
          .one_of({"sample", "epoch"}),
      KeySpec{"optim.grad_filter", "none"s,
              "Grokfast's filter of the raw gradient, before clipping and weight decay: ema "
              "(exponential moving average) or ma (moving window)",
              3}
          .one_of({"none", "ema", "ma"}),
      KeySpec{"optim.filter_alpha", 0.98, "ema: mu <- alpha mu + (1 - alpha) g, in [0, 1)", 3}
          .replica()
          .within(between(0, 1, false, true, "[0, 1)")),
      KeySpec{"optim.filter_lambda", 2.0, "ema, ma: g <- g + lambda * (the slow component)", 3}
          .replica()
          .within(between(-HUGE_VAL, HUGE_VAL, false, false, "a finite number")),
      KeySpec{"optim.filter_window", int64_t{100}, "ma: the last this many gradients averaged", 3}
          .within(at_least(1, "an integer >= 1")),
      {"probe.fourier", false,
       "Fourier norms per frequency of W_E and W_L at the probe steps (modular tasks) into "
       "fourier/",
       3},
      {"probe.llc", false,
       "the local learning coefficient (the llc.* keys) at the probe steps into llc/", 6},
      {"probe.hessian", false,
       "the Hessian's top eigenvalues and trace (the hessian.* keys) at the probe steps into "
       "hessian/",
       6},
      KeySpec{"probe.key_freq_threshold", 0.05,
              "key frequency: one holding at least this share of a matrix's squared Fourier norm",
              3}
          .within(between(0, 1, true, false, "a share in (0, 1]")),
      {"probe.restricted_loss", false,
       "with probe.fourier, task.op a+b or a-b: Nanda's restricted and excluded loss at the probe "
       "steps",
       3},
      {"probe.key_frequencies", std::vector<double>{},
       "the key frequencies of restricted and excluded loss (empty: W_E's at each probe step)", 3},
      KeySpec{"optim.weight_norm", 0.0,
              "Omnigrok: total L2 norm of all parameters, restored after every update (0: off)", 3}
          .replica()
          .within(at_least(0, "> 0 (the fixed total norm), or 0 (off)")),
      {"task.path", ""s,
       "arrays: the .npz file (x_train, y_train, x_test, y_test); text: a text file or a directory "
       "of them; a relative path is relative to the experiment file. Not part of the run id "
       "(task.data_hash is)",
       3, false, false, true},
      {"task.data_hash", ""s,
       "arrays, text: the content hash of task.path's arrays or text (filled in when empty; "
       "checked when given)",
       3},
      {"task.n_context", int64_t{16}, "in-context regression: (x, y) pairs per sequence (K)", 3},
      {"task.noise", 0.25, "in-context regression: noise variance sigma^2 of y = w.x + eps", 3},
      {"task.n_pool", int64_t{0},
       "in-context regression: pretraining tasks M (0: a fresh w ~ N(0, I) for every sequence)", 3},
      KeySpec{"task.alphabet", "chars"s,
              "text: chars (the corpus's distinct characters, UTF-8) or bytes (256 byte values)", 3}
          .one_of({"chars", "bytes"}),
      {"task.n_eval", int64_t{256}, "text: fixed windows of each split the metrics are computed on",
       3},
      KeySpec{"task.n_repeats", int64_t{64},
              "text: sequences of repeated random tokens the prefix-matching probe reads "
              "(prefix_match.*; an evaluation reads 2 * task.n_eval + task.n_repeats windows)",
              9}
          .within(between(1, 256, false, false, "an integer from 1 to 256")),
      {"task.held_out", 0.1, "text: share of the corpus's contiguous blocks held out for test", 3},
      {"task.block_len", int64_t{2048},
       "text: tokens per block of the train/test split (windows never cross blocks)", 3},
      {"task.chars", std::vector<double>{},
       "text, chars: the character table, the Unicode code point of each token in order (filled "
       "in from the corpus when empty; checked when given)",
       3},
      {"task.match_tolerance", 0.1,
       "in-context regression: a prediction within this of ridge's matches it (exact-match metric)",
       3},
      // The local learning coefficient (gradscope llc; run/llc.h): SGLD chains at a checkpoint.
      KeySpec{"llc.step_size", 1e-4, "SGLD step size epsilon", 4}.within(above(0, "> 0")),
      KeySpec{"llc.localization", 100.0, "gamma of the pull (gamma / 2) |w - w*|^2 towards w*", 4}
          .within(at_least(0, ">= 0")),
      KeySpec{"llc.nbeta", 0.0, "the inverse temperature n beta (0: from llc.nbeta_from)", 4}
          .within(at_least(0, ">= 0 (0: n / log n of llc.nbeta_from)")),
      KeySpec{"llc.nbeta_from", "n"s,
              "n beta = n / log n of the training examples (n, Lau et al.) or of the minibatch "
              "(batch, devinterp's default)",
              4}
          .one_of({"n", "batch"}),
      KeySpec{"llc.chains", int64_t{4}, "independent SGLD chains", 4}.within(
          at_least(1, "an integer >= 1")),
      KeySpec{"llc.draws", int64_t{200}, "draws per chain (after the burn-in)", 4}.within(
          at_least(1, "an integer >= 1")),
      KeySpec{"llc.burn_in", int64_t{0}, "SGLD steps before the first draw", 4}.within(
          at_least(0, "an integer >= 0")),
      KeySpec{"llc.draw_every", int64_t{1}, "SGLD steps from one draw to the next", 4}.within(
          at_least(1, "an integer >= 1")),
      KeySpec{"llc.batch_size", int64_t{0}, "examples per SGLD step (0: the whole train split)", 4}
          .within(at_least(0, "an integer >= 0 (0: full batch)")),
      KeySpec{"llc.seed", int64_t{0}, "seed of the chains' noise and minibatches", 4}.within(
          at_least(0, "an integer >= 0")),
      {"llc.flush_subnormals", true,
       "the chains' arithmetic flushes subnormal numbers to zero (x86's FTZ and DAZ, as GPUs do): "
       "a trained model's underflowing softmax otherwise slows its GEMMs several times; false: "
       "IEEE subnormals, as PyTorch's CPU default",
       8},
      // The curvature of the training loss (gradscope hessian; run/hessian.h).
      KeySpec{"hessian.top_k", int64_t{5}, "the largest Hessian eigenvalues reported", 4}.within(
          at_least(1, "an integer >= 1")),
      KeySpec{"hessian.iterations", int64_t{100},
              "Lanczos steps (at most the parameter count; exact when equal to it)", 4}
          .within(at_least(1, "an integer >= 1")),
      KeySpec{"hessian.trace_probes", int64_t{100}, "Hutchinson's Rademacher probes of the trace",
              4}
          .within(at_least(2, "an integer >= 2")),
      KeySpec{"hessian.fd_step", 1e-5,
              "h of the central differences (g(w + h u) - g(w - h u)) / 2h, u a unit vector", 4}
          .within(above(0, "> 0")),
      {"hessian.per_tensor", true, "also each parameter tensor's diagonal block", 4},
      {"hessian.preconditioned", false,
       "on an adam or adamw run (gradscope hessian, probe.hessian): also the largest eigenvalue "
       "of P^-1 H, P Adam's preconditioner at that step (Cohen et al. 2022: it hovers at (2 + 2 "
       "beta1) / ((1 - beta1) lr), 38 / lr at beta1 = 0.9)",
       6},
      KeySpec{"hessian.seed", int64_t{0}, "seed of the Lanczos start and the trace probes", 4}
          .within(at_least(0, "an integer >= 0")),
      // The inside view (probe.inside, gradscope inside; probes/inside.h): frames of the model.
      {"probe.inside", false,
       "frames of the model for the viewer's inside page (parameters, neuron maps, the "
       "embedding's circle, attention) every inside.every steps into inside/",
       7},
      KeySpec{"inside.every", int64_t{0}, "a frame every this many steps (0: train.steps / 100)", 7}
          .within(at_least(0, "an integer >= 0 (0: train.steps / 100, rounded up)")),
      KeySpec{"inside.neurons", int64_t{16}, "modular tasks: the MLP neurons whose maps are kept",
              7}
          .within(between(1, 256, false, false, "an integer in [1, 256]")),
      KeySpec{"inside.sequences", int64_t{2},
              "sequence tasks: held-out windows whose attention is kept; regression: examples "
              "whose predictions are kept",
              7}
          .within(between(1, 64, false, false, "an integer in [1, 64]")),
      KeySpec{"train.softmax_numerics", "gradscope"s,
              "cross-entropy arithmetic: gradscope (exp in the model's precision, sums in "
              "double), torch_float32 or torch_float64 (PyTorch's log-softmax with the logits "
              "cast to that precision; float32 is where Prieto et al.'s softmax collapses)",
              5}
          .one_of({"gradscope", "torch_float32", "torch_float64"}),
      {"optim.orthogonal", false,
       "OrthoGrad (Prieto et al.'s ⊥Grad): each parameter tensor's gradient without its component "
       "along the tensor, rescaled to the gradient's norm, before the update",
       5},
  };
  return table;
}

}  // namespace gradscope
