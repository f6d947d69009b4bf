// The schema: every key of an experiment with its type (the default's), default and meaning, in
// the order the resolved config.toml lists them. One table: the options structs of the layers
// (OptimizerConfig, ModelConfig, ...) take their defaults from here, and a test checks that they
// agree (tests/unit/options_test.cpp).
#include "gradscope/config/config.h"

namespace gradscope {

using namespace std::string_literals;

// Keys added after schema version 1 carry their version (`since`): see config.h.
extern const std::vector<KeySpec> kSchemaTable;
const std::vector<KeySpec> kSchemaTable = {
    {"name", "run"s, "run directory name under runs/"},
    {"seed", int64_t{0}, "seed of the init, batch and noise streams"},
    {"precision", "float32"s, "float32 | float64 | tf32 (float32 with TF32 GEMMs; cuda only)"},

    {"task.name", "modular"s,
     "modular | permutation | diagonal_teacher | lowrank_teacher | matrix_completion | "
     "sparse_parity | multitask_sparse_parity | induction"},
    {"task.op", "a+b"s, "binary operation (Power et al.); see README"},
    {"task.p", int64_t{113}, "modulus"},
    {"task.n", int64_t{5}, "degree of the permutation group S_n"},
    {"task.train_fraction", 0.3, "fraction of all pairs used for training"},
    {"task.split_seed", int64_t{598}, "seed of the train/test split (independent of seed)"},
    {"task.unordered", false, "only pairs a <= b"},
    {"task.target", std::vector<double>{}, "teacher: w* (diagonal_teacher) or singular values"},
    {"task.target_vo", std::vector<double>{}, "attention teacher's W_V W_O diagonal ([]: target)"},
    {"task.teacher", "linear"s, "linear | attention (lowrank_teacher)"},
    {"task.teacher_basis", "random"s, "random | identity: the teacher's singular vectors"},
    {"task.inputs", "whitened"s, "whitened (sqrt(d) I) | gaussian (task.n_samples draws)"},
    {"task.dim", int64_t{0}, "input dimension (0: the length of task.target)"},
    {"task.seq_len", int64_t{4}, "sequence length (attention teacher, induction)"},
    {"task.n_samples", int64_t{256}, "training examples when task.inputs = gaussian"},
    {"task.n_test", int64_t{512},
     "test examples (regression teachers, parity, induction; per subtask for multitask)"},
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

    {"model.type", "transformer"s,
     "transformer | mlp | diagonal | diag_attention | deep_linear | matrix_factorization"},
    {"model.n_layers", int64_t{1}, "transformer blocks"},
    {"model.d_model", int64_t{128}, "residual width"},
    {"model.n_heads", int64_t{4}, "attention heads"},
    {"model.d_head", int64_t{0}, "head width (0: d_model / n_heads)"},
    {"model.d_mlp", int64_t{512}, "MLP hidden width (0: attention-only transformer)"},
    {"model.activation", "relu"s, "relu | gelu (| square for mlp)"},
    {"model.norm", "none"s, "none | pre | post (LayerNorm placement)"},
    {"model.positions", "learned"s, "learned | sinusoidal"},
    {"model.attn_bias", false, "biases on Q, K, V, O"},
    {"model.mlp_bias", true, "biases on the transformer MLP"},
    {"model.tied_unembed", false, "unembedding = embedding transposed"},
    {"model.causal", true, "causal attention mask"},
    {"model.mlp_form", "pair"s, "pair | concat | dense (model.type = mlp; dense: parity tasks)"},
    {"model.d_embed", int64_t{500}, "embedding width (mlp)"},
    {"model.d_hidden", int64_t{24}, "hidden width (mlp)"},
    {"model.depth", int64_t{2},
     "factors of diagonal / matrix_factorization, layers of deep_linear, hidden layers of mlp "
     "dense"},
    {"model.width", int64_t{0}, "deep_linear hidden width (0: the input dimension)"},
    {"model.init", "normal"s,
     "normal | haiku (PAIR's truncated normals, mlp) | identity (deep_linear, "
     "matrix_factorization) | uniform (mlp dense: PyTorch's nn.Linear default)"},
    {"model.init_scale", 1.0, "multiplies every initial weight"},

    {"optim.name", "adamw"s, "sgd | adam | adamw"},
    {"optim.lr", 1e-3, "base learning rate"},
    {"optim.weight_decay", 1.0, "decoupled (adamw) or L2 (sgd, adam)"},
    {"optim.beta1", 0.9, "Adam beta1"},
    {"optim.beta2", 0.98, "Adam beta2"},
    {"optim.eps", 1e-8, "Adam eps"},
    {"optim.momentum", 0.0, "SGD momentum"},
    {"optim.dampening", 0.0, "SGD dampening"},
    {"optim.nesterov", false, "SGD Nesterov momentum"},
    {"optim.warmup_steps", int64_t{10}, "linear warmup lr * min(step / warmup_steps, 1)"},
    {"optim.decay", "constant"s, "constant | cosine"},
    {"optim.min_lr_ratio", 0.0, "cosine floor as a fraction of lr"},
    {"optim.clip_norm", 0.0, "gradient-norm clipping threshold (0: off)"},

    {"probe.spectra", true, "singular values of W_t - W_0 (and head products) into spectra/"},
    {"probe.every", int64_t{0}, "spectra every this many steps (0: log-spaced)"},
    {"probe.per_decade", int64_t{20}, "log-spaced spectra: steps per decade"},
    {"probe.params", ""s, "comma-separated matrices to probe (empty: all)"},
    {"probe.rank_eps", 0.01, "numerical rank: #{sigma_i > eps * sigma_max}"},

    {"train.steps", int64_t{20000}, "optimizer steps"},
    {"train.batch_size", int64_t{0}, "examples per step (0: full batch)"},
    {"train.log_every", int64_t{100}, "evaluate and log every this many steps"},
    {"train.checkpoint_every", int64_t{1000}, "resumable checkpoint interval (0: log-spaced only)"},
    {"train.loss", "cross_entropy"s, "cross_entropy | hinge (two-class tasks: one score)"},
    {"train.loss_reduction", "mean"s, "mean | mean_over_classes (PAIR: cross-entropy / classes)"},
    {"train.memorize_threshold", 0.99, "memorized_step: first train_acc at or above"},
    {"train.generalize_threshold", 0.99, "generalized_step: first test_acc at or above"},
    {"train.regime_threshold", 0.9, "accuracy threshold of the regime classification"},
    {"train.regime_gap", int64_t{1000}, "G: grokking when test reaches it more than G steps late"},
    {"train.phase_min_change", 0.1,
     "phase changes: smallest change (in the metric's units) that counts as one"},
    {"device", "cpu"s,
     "where the run executes: cpu | cuda | emulated (the cuda code path on the host, for tests); "
     "not part of the run id",
     2, true},
    {"train.stop_after_generalized", int64_t{0},
     "stop this many steps after generalized_step (0: off; train.steps stays the budget)", 2},
    {"train.checkpoint_steps", "log"s,
     "checkpoints kept for analysis: \"log\" (0 and 1, 2, 5 x 10^k from 100), \"every:N\", or a "
     "list of steps",
     2, false, true},
    {"task.op_token", false, "transformer inputs [a, op, b, '='] (Grokfast) instead of [a, b, '=']",
     3},
    {"task.nonzero_b", false, "modular: only pairs with b != 0 (Grokfast's x*y, y in 1..p-1)", 3},
    {"train.batch_order", "sample"s,
     "minibatches: sample (each step draws its own) | epoch (the train set reshuffled every "
     "epoch, then consecutive batches, the last one smaller)",
     3},
    {"optim.grad_filter", "none"s,
     "Grokfast's filter of the raw gradient: none | ema | ma (before clipping and weight decay)",
     3},
    {"optim.filter_alpha", 0.98, "ema: mu <- alpha mu + (1 - alpha) g, in [0, 1)", 3},
    {"optim.filter_lambda", 2.0, "ema, ma: g <- g + lambda * (the slow component)", 3},
    {"optim.filter_window", int64_t{100}, "ma: the last this many gradients averaged", 3},
    {"probe.fourier", false,
     "Fourier norms per frequency of W_E and W_L at the probe steps (modular tasks) into fourier/",
     3},
    {"probe.key_freq_threshold", 0.05,
     "key frequency: one holding at least this share of a matrix's squared Fourier norm", 3},
    {"probe.restricted_loss", false,
     "with probe.fourier, task.op a+b or a-b: Nanda's restricted and excluded loss at the probe "
     "steps",
     3},
    {"probe.key_frequencies", std::vector<double>{},
     "the key frequencies of restricted and excluded loss (empty: W_E's at each probe step)", 3},
    {"optim.weight_norm", 0.0,
     "Omnigrok: total L2 norm of all parameters, restored after every update (0: off)", 3},
};

}  // namespace gradscope
