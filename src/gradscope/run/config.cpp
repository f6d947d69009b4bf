// Config: the schema of every key, TOML reading, overrides, validation and resolved output.
#include "gradscope/run/config.h"

#include "gradscope/run/config_toml.h"
#include "gradscope/run/edit_distance.h"

#include <fmt/core.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace gradscope {
namespace {

using namespace std::string_literals;

// Every key, in the order the resolved config.toml lists them. The default's type is the key's.
const std::vector<KeySpec> kSchema = {
    {"name", "run"s, "run directory name under runs/"},
    {"seed", int64_t{0}, "seed of the init, batch and noise streams"},
    {"precision", "float32"s, "float32 | float64"},

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
};

const KeySpec* find_spec(const std::string& key) {
  for (const KeySpec& s : kSchema)
    if (s.key == key) return &s;
  return nullptr;
}

[[noreturn]] void unknown_key(const std::string& key, const std::string& where) {
  throw ConfigError(where + "unknown key '" + key + "' (did you mean '" + closest_key(key) + "'?)");
}

const char* kind_name(const ConfigValue& v) {
  switch (v.index()) {
    case 0:
      return "an integer";
    case 1:
      return "a number";
    case 2:
      return "true or false";
    case 3:
      return "a string";
    default:
      return "a list of numbers";
  }
}

// Converts a value to the key's type: integers may be given as integral floats (1e5); numbers
// may be given as integers.
ConfigValue coerce(const KeySpec& spec, const ConfigValue& v, const std::string& where) {
  const size_t want = spec.default_value.index();
  if (v.index() == want) return v;
  if (want == 0 && v.index() == 1) {
    const double d = std::get<double>(v);
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9.2e18)
      return static_cast<int64_t>(d);
  }
  if (want == 1 && v.index() == 0) return static_cast<double>(std::get<int64_t>(v));
  if (want == 4 && v.index() <= 1)
    return std::vector<double>{v.index() == 0 ? double(std::get<int64_t>(v)) : std::get<double>(v)};
  throw ConfigError(fmt::format("{}{} = {} (valid: {})", where, spec.key, value_to_string(v),
                                kind_name(spec.default_value)));
}

// Parses an override's text as the key's type.
ConfigValue parse_text(const KeySpec& spec, const std::string& text) {
  const std::string where = spec.key + " = " + text;
  switch (spec.default_value.index()) {
    case 0:
    case 1: {
      size_t used = 0;
      double d = 0;
      try {
        d = std::stod(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != text.size() || text.empty())
        throw ConfigError(where + " (valid: " + kind_name(spec.default_value) + ")");
      if (spec.default_value.index() == 1) return d;
      return coerce(spec, d, "");
    }
    case 2:
      if (text == "true") return true;
      if (text == "false") return false;
      throw ConfigError(where + " (valid: true or false)");
    case 4: {  // "3,2,1,0.5" or "[3, 2, 1, 0.5]"
      std::string body = text;
      if (body.size() >= 2 && body.front() == '[' && body.back() == ']')
        body = body.substr(1, body.size() - 2);
      std::vector<double> out;
      std::stringstream items(body);
      for (std::string item; std::getline(items, item, ',');) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        size_t used = 0;
        double d = 0;
        try {
          d = std::stod(item, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (item.empty() || used != item.size())
          throw ConfigError(where + " (valid: a list of numbers, e.g. 3,2,1,0.5)");
        out.push_back(d);
      }
      return out;
    }
    default: {
      std::string s = text;
      if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
        s = s.substr(1, s.size() - 2);
      return s;
    }
  }
}

}  // namespace

ConfigValue value_from_toml(const toml::node& node, const std::string& where) {
  if (auto i = node.as_integer()) return i->get();
  if (auto d = node.as_floating_point()) return d->get();
  if (auto b = node.as_boolean()) return b->get();
  if (auto s = node.as_string()) return s->get();
  if (auto a = node.as_array()) {
    std::vector<double> list;
    for (const toml::node& e : *a) {
      if (auto ei = e.as_integer())
        list.push_back(double(ei->get()));
      else if (auto ed = e.as_floating_point())
        list.push_back(ed->get());
      else
        throw ConfigError(where + " must be a list of numbers");
    }
    return list;
  }
  throw ConfigError(where + " must be a number, true or false, a string or a list of numbers");
}

std::string value_to_string(const ConfigValue& v) {
  switch (v.index()) {
    case 0:
      return std::to_string(std::get<int64_t>(v));
    case 1: {
      std::string s = fmt::format("{}", std::get<double>(v));
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // stays a TOML float
      return s;
    }
    case 2:
      return std::get<bool>(v) ? "true" : "false";
    case 4: {
      std::string out = "[";
      for (double d : std::get<std::vector<double>>(v))
        out += (out.size() > 1 ? ", " : "") + value_to_string(d);
      return out + "]";
    }
    default: {
      std::string out = "\"";
      for (char ch : std::get<std::string>(v)) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
      }
      return out + "\"";
    }
  }
}

std::string closest_key(const std::string& key) {
  const KeySpec* best = &kSchema.front();
  size_t best_d = SIZE_MAX;
  for (const KeySpec& s : kSchema) {
    const size_t d = edit_distance(key.data(), key.size(), s.key.data(), s.key.size());
    if (d < best_d) best_d = d, best = &s;
  }
  return best->key;
}

const std::vector<KeySpec>& Config::schema() {
  return kSchema;
}

Config::Config() {
  for (const KeySpec& s : kSchema) values_[s.key] = s.default_value;
}

void Config::set(const std::string& key, const ConfigValue& value) {
  const KeySpec* spec = find_spec(key);
  if (!spec) unknown_key(key, "");
  values_[key] = coerce(*spec, value, "");
}

void Config::apply_override(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("override '" + assignment +
                      "' is not key=value (e.g. optim.weight_decay=0.3)");
  const std::string key = assignment.substr(0, eq);
  const KeySpec* spec = find_spec(key);
  if (!spec) unknown_key(key, "override: ");
  values_[key] = parse_text(*spec, assignment.substr(eq + 1));
}

Config Config::from_file(const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path))
    throw ConfigError(path.string() + ": no such experiment file");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) throw ConfigError(path.string() + ": cannot read");
  return from_string(text.str(), path.string());
}

Config Config::from_string(const std::string& text, const std::string& file) {
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: {}", file, e.source().begin.line,
                                  e.source().begin.column, e.description()));
  }
  Config c;
  auto set_leaf = [&](const std::string& key, const toml::node& node) {
    const KeySpec* spec = find_spec(key);
    const std::string where = fmt::format("{}:{}: ", file, node.source().begin.line);
    if (!spec) unknown_key(key, where);
    const ConfigValue v = value_from_toml(node, where + key);
    c.values_[key] = coerce(*spec, v, where);
  };
  for (auto&& [k, node] : root) {
    const std::string name(k.str());
    if (name == "sweep" && node.is_table()) {  // gradscope sweep reads it (sweep/sweep_spec.h)
      c.has_sweep_ = true;
      continue;
    }
    if (auto table = node.as_table()) {
      if (name != "task" && name != "model" && name != "optim" && name != "train" &&
          name != "probe")
        throw ConfigError(fmt::format(
            "{}:{}: unknown section [{}] (valid: task, model, optim, probe, train, sweep)", file,
            node.source().begin.line, name));
      for (auto&& [k2, leaf] : *table) set_leaf(name + "." + std::string(k2.str()), leaf);
    } else {
      set_leaf(name, node);
    }
  }
  return c;
}

const ConfigValue& Config::value(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) unknown_key(key, "");
  return it->second;
}
int64_t Config::integer(const std::string& key) const {
  return std::get<int64_t>(value(key));
}
double Config::real(const std::string& key) const {
  return std::get<double>(value(key));
}
bool Config::boolean(const std::string& key) const {
  return std::get<bool>(value(key));
}
const std::string& Config::string(const std::string& key) const {
  return std::get<std::string>(value(key));
}
const std::vector<double>& Config::list(const std::string& key) const {
  return std::get<std::vector<double>>(value(key));
}

AlgorithmicTaskConfig Config::task() const {
  AlgorithmicTaskConfig t;
  t.name = string("task.name");
  t.op = string("task.op");
  t.p = integer("task.p");
  t.n = integer("task.n");
  t.train_fraction = real("task.train_fraction");
  t.split_seed = static_cast<uint64_t>(integer("task.split_seed"));
  t.unordered = boolean("task.unordered");
  t.tokens = string("model.type") == "transformer";
  return t;
}

ModelConfig Config::model() const {
  ModelConfig m;
  m.type = string("model.type");
  m.n_layers = integer("model.n_layers");
  m.d_model = integer("model.d_model");
  m.n_heads = integer("model.n_heads");
  m.d_head = integer("model.d_head");
  m.d_mlp = integer("model.d_mlp");
  m.activation = string("model.activation");
  m.norm = string("model.norm");
  m.positions = string("model.positions");
  m.attn_bias = boolean("model.attn_bias");
  m.mlp_bias = boolean("model.mlp_bias");
  m.tied_unembed = boolean("model.tied_unembed");
  m.causal = boolean("model.causal");
  m.mlp_form = string("model.mlp_form");
  m.d_embed = integer("model.d_embed");
  m.d_hidden = integer("model.d_hidden");
  m.init = string("model.init");
  m.depth = integer("model.depth");
  m.width = integer("model.width");
  m.init_scale = real("model.init_scale");
  return m;
}

bool Config::is_emergence() const {
  const auto& names = emergence_task_names();
  return std::find(names.begin(), names.end(), string("task.name")) != names.end();
}

EmergenceTaskConfig Config::emergence_task() const {
  EmergenceTaskConfig t;
  t.name = string("task.name");
  t.n_bits = integer("task.n_bits");
  t.k = integer("task.k");
  t.n_tasks = integer("task.n_tasks");
  t.zipf_exponent = real("task.zipf_exponent");
  t.vocab = integer("task.vocab");
  t.seq_len = integer("task.seq_len");
  t.segment_len = integer("task.segment_len");
  t.n_train = integer("task.n_train");
  t.n_test = integer("task.n_test");
  t.split_seed = static_cast<uint64_t>(integer("task.split_seed"));
  return t;
}

bool Config::is_regression() const {
  const auto& names = regression_task_names();
  return std::find(names.begin(), names.end(), string("task.name")) != names.end();
}

RegressionTaskConfig Config::regression_task() const {
  RegressionTaskConfig t;
  t.name = string("task.name");
  t.target = list("task.target");
  t.target_vo = list("task.target_vo");
  t.teacher = string("task.teacher");
  t.teacher_basis = string("task.teacher_basis");
  t.inputs = string("task.inputs");
  t.dim = integer("task.dim");
  t.seq_len = integer("task.seq_len");
  t.n_samples = integer("task.n_samples");
  t.n_test = integer("task.n_test");
  t.size = integer("task.size");
  t.rank = integer("task.rank");
  t.observed = integer("task.observed");
  t.split_seed = static_cast<uint64_t>(integer("task.split_seed"));
  return t;
}

ProbeConfig Config::probe() const {
  ProbeConfig p;
  p.spectra = boolean("probe.spectra");
  p.every = integer("probe.every");
  p.per_decade = integer("probe.per_decade");
  p.params = string("probe.params");
  p.rank_eps = real("probe.rank_eps");
  return p;
}

OptimizerConfig Config::optim() const {
  OptimizerConfig o;
  o.name = string("optim.name");
  o.lr = real("optim.lr");
  o.weight_decay = real("optim.weight_decay");
  o.beta1 = real("optim.beta1");
  o.beta2 = real("optim.beta2");
  o.eps = real("optim.eps");
  o.momentum = real("optim.momentum");
  o.dampening = real("optim.dampening");
  o.nesterov = boolean("optim.nesterov");
  return o;
}

ScheduleConfig Config::schedule() const {
  ScheduleConfig s;
  s.warmup_steps = integer("optim.warmup_steps");
  s.decay = string("optim.decay");
  s.total_steps = integer("train.steps");
  s.min_lr_ratio = real("optim.min_lr_ratio");
  return s;
}

TrainConfig Config::train() const {
  TrainConfig t;
  t.steps = integer("train.steps");
  t.batch_size = integer("train.batch_size");
  t.log_every = integer("train.log_every");
  t.checkpoint_every = integer("train.checkpoint_every");
  t.loss = string("train.loss");
  t.loss_reduction = string("train.loss_reduction");
  t.memorize_threshold = real("train.memorize_threshold");
  t.generalize_threshold = real("train.generalize_threshold");
  t.regime_threshold = real("train.regime_threshold");
  t.regime_gap = integer("train.regime_gap");
  t.phase_min_change = real("train.phase_min_change");
  return t;
}

void Config::validate() const {
  auto fail = [](const std::string& key, const std::string& value, const std::string& valid) {
    throw ConfigError(key + " = " + value + " (valid: " + valid + ")");
  };
  const std::string& name = string("name");
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    fail("name", "\"" + name + "\"", "a non-empty directory name without '/'");
  if (integer("seed") < 0) fail("seed", std::to_string(integer("seed")), "an integer >= 0");
  if (string("precision") != "float32" && string("precision") != "float64")
    fail("precision", "\"" + string("precision") + "\"", "float32, float64");
  if (integer("task.split_seed") < 0)
    fail("task.split_seed", std::to_string(integer("task.split_seed")), "an integer >= 0");
  const TrainConfig t = train();
  if (t.steps < 1) fail("train.steps", std::to_string(t.steps), "an integer >= 1");
  if (t.batch_size < 0)
    fail("train.batch_size", std::to_string(t.batch_size), ">= 0 (0: full batch)");
  if (t.log_every < 1) fail("train.log_every", std::to_string(t.log_every), "an integer >= 1");
  if (t.checkpoint_every < 0)
    fail("train.checkpoint_every", std::to_string(t.checkpoint_every), ">= 0 (0: log-spaced only)");
  if (t.loss != "cross_entropy" && t.loss != "hinge")
    fail("train.loss", "\"" + t.loss + "\"", "cross_entropy, hinge");
  if (!(t.phase_min_change > 0))
    fail("train.phase_min_change", fmt::format("{}", t.phase_min_change), "a number > 0");
  if (t.loss_reduction != "mean" && t.loss_reduction != "mean_over_classes")
    fail("train.loss_reduction", "\"" + t.loss_reduction + "\"", "mean, mean_over_classes");
  for (const char* k :
       {"train.memorize_threshold", "train.generalize_threshold", "train.regime_threshold"})
    if (!(real(k) > 0 && real(k) <= 1)) fail(k, fmt::format("{}", real(k)), "a fraction in (0, 1]");
  if (t.regime_gap < 0) fail("train.regime_gap", std::to_string(t.regime_gap), "an integer >= 0");
  if (!(clip_norm() >= 0)) fail("optim.clip_norm", fmt::format("{}", clip_norm()), ">= 0 (0: off)");
  {  // task and model must fit each other
    const std::string task_name = string("task.name"), type = string("model.type");
    std::string fits = "transformer, mlp";
    if (task_name == "diagonal_teacher") fits = "diagonal, deep_linear";
    if (task_name == "matrix_completion") fits = "matrix_factorization";
    if (task_name == "lowrank_teacher")
      fits = string("task.teacher") == "attention" ? "diag_attention" : "deep_linear";
    if (task_name == "sparse_parity" || task_name == "multitask_sparse_parity") fits = "mlp";
    if (task_name == "induction") fits = "transformer";
    const bool known = type == "transformer" || type == "mlp" || type == "diagonal" ||
                       type == "diag_attention" || type == "deep_linear" ||
                       type == "matrix_factorization";
    if (known && (", " + fits + ",").find(", " + type + ",") == std::string::npos)
      throw ConfigError("model.type = \"" + type + "\" does not fit task.name = \"" + task_name +
                        "\" (valid: " + fits + ")");
  }
  if (is_emergence() && string("task.name") != "induction" && string("model.type") == "mlp" &&
      string("model.mlp_form") != "dense")
    throw ConfigError("model.mlp_form = \"" + string("model.mlp_form") + "\" reads operand ids; " +
                      string("task.name") + " gives bit vectors (valid: dense)");
  if (!is_emergence() && string("model.type") == "mlp" && string("model.mlp_form") == "dense")
    throw ConfigError("model.mlp_form = \"dense\" reads bit vectors; task.name = \"" +
                      string("task.name") + "\" gives operand ids (valid: pair, concat)");
  if (t.loss == "hinge" && !(is_emergence() && string("task.name") != "induction"))
    throw ConfigError(
        "train.loss = \"hinge\" needs a two-class task (sparse_parity, "
        "multitask_sparse_parity); task.name = \"" +
        string("task.name") + "\" (valid: cross_entropy)");
  if (is_emergence() && integer("task.n_train") == 0 && t.batch_size == 0)
    throw ConfigError(
        "train.batch_size = 0 (full batch) with task.n_train = 0 (fresh samples "
        "every step): set train.batch_size >= 1, or task.n_train > 0");
  try {
    if (is_regression())
      gradscope::validate(regression_task());
    else if (is_emergence())
      gradscope::validate(emergence_task());
    else
      gradscope::validate(task());
    probe().validate();
    model().validate();
    optim().validate();
    schedule().validate();
  } catch (const ConfigError&) {
    throw;
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
}

std::string Config::to_toml(const std::string& header) const {
  std::string out = header;
  std::string section;
  for (const KeySpec& s : kSchema) {
    const size_t dot = s.key.find('.');
    const std::string sec = dot == std::string::npos ? "" : s.key.substr(0, dot);
    if (sec != section) {
      out += "\n[" + sec + "]\n";
      section = sec;
    }
    out += (dot == std::string::npos ? s.key : s.key.substr(dot + 1)) + " = " +
           value_to_string(values_.at(s.key)) + "\n";
  }
  return out;
}

std::string config_hash(const Config& config) {
  Config c = config;
  c.set("name", std::string());
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : c.to_toml()) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

std::vector<std::string> Config::diff(const Config& other) const {
  std::vector<std::string> keys;
  for (const KeySpec& s : kSchema)
    if (values_.at(s.key) != other.values_.at(s.key)) keys.push_back(s.key);
  return keys;
}

}  // namespace gradscope
