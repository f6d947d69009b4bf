// Keys written once: every options struct's defaults are the schema's (a struct built with no
// config equals its projection of the default config), no options struct writes a default of its
// own (a scan of their headers), every key has help, and every enum follows its key's valid values
// in the schema's order (config/schema.cpp is the one table; config/options.h the binding).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/config/value_text.h"
#include "gradscope/nn/models.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/optim/schedule.h"
#include "gradscope/probes/spectra.h"
#include "gradscope/run/train_options.h"
#include "gradscope/tasks/algorithmic.h"
#include "gradscope/tasks/emergence.h"
#include "gradscope/tasks/incontext.h"
#include "gradscope/tasks/regression.h"
#include "gradscope/tasks/text.h"

namespace gradscope {
namespace {

Config with_task(const std::string& name) {
  Config c;
  c.set("task.name", name);
  return c;
}

TEST(Options, StructDefaultsAreTheSchemasDefaults) {
  const Config c;
  EXPECT_EQ(optimizer_options(c), OptimizerConfig{});
  EXPECT_EQ(schedule_options(c), ScheduleConfig{});
  EXPECT_EQ(model_options(c), ModelConfig{});
  EXPECT_EQ(probe_options(c), ProbeConfig{});
  EXPECT_EQ(train_options(c), TrainConfig{});
  EXPECT_EQ(algorithmic_options(c), AlgorithmicTaskConfig{});
  EXPECT_EQ(regression_options(with_task("diagonal_teacher")), RegressionTaskConfig{});
  EXPECT_EQ(emergence_options(with_task("sparse_parity")), EmergenceTaskConfig{});
  EXPECT_EQ(incontext_options(with_task("incontext_regression")), InContextTaskConfig{});
}

TEST(Options, ProjectionsReadTheirKeys) {
  // A changed key reaches its struct (and a default struct differs from it).
  Config c;
  c.apply_override("optim.weight_decay=0.25");
  c.apply_override("optim.clip_norm=2");
  c.apply_override("model.d_mlp=7");
  c.apply_override("train.checkpoint_steps=every:50");
  c.apply_override("train.steps=77");
  EXPECT_DOUBLE_EQ(optimizer_options(c).weight_decay, 0.25);
  EXPECT_DOUBLE_EQ(optimizer_options(c).clip_norm, 2.0);
  EXPECT_EQ(model_options(c).d_mlp, 7);
  EXPECT_EQ(train_options(c).checkpoint_steps.kind, "every");
  EXPECT_EQ(train_options(c).checkpoint_steps.every, 50);
  EXPECT_EQ(schedule_options(c).total_steps, 77);
  EXPECT_NE(optimizer_options(c), OptimizerConfig{});
}

TEST(Options, EveryKeyHasHelpAndItsValidValuesInTheTableNotTheHelp) {
  for (const KeySpec& s : Config::schema()) {
    EXPECT_GE(s.help.size(), 8u) << s.key << ": no help";
    // A list of values in the help ("a | b | c") goes stale beside the valid values: not there.
    EXPECT_EQ(s.help.find(" | "), std::string::npos) << s.key << ": " << s.help;
    if (!s.valid.empty()) {
      EXPECT_GE(s.valid.size(), 2u) << s.key;
      EXPECT_EQ(s.default_value.index(), 3u) << s.key << ": valid values of a non-string key";
      const std::string& d = std::get<std::string>(s.default_value);
      EXPECT_NE(std::find(s.valid.begin(), s.valid.end(), d), s.valid.end())
          << s.key << ": the default " << d << " is not a valid value";
    }
  }
}

TEST(Options, AnInvalidValueIsRefusedWhenSetNamingTheKeyAndTheValidOnes) {
  Config c;
  try {
    c.apply_override("optim.name=lion");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "optim.name = \"lion\" (valid: sgd, adam, adamw)");
  }
  EXPECT_THROW(c.set("model.norm", std::string("middle")), ConfigError);
  EXPECT_THROW(Config::from_string("[task]\nalphabet = \"words\"\n", "x.toml"), ConfigError);
  EXPECT_NO_THROW(c.apply_override("optim.name=sgd"));
}

TEST(Options, ANumberOutsideItsRangeIsRefusedWhenSetNamingTheRange) {
  Config c;
  auto refusal = [&c](const std::string& kv) {
    try {
      c.apply_override(kv);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(refusal("train.steps=0"), "train.steps = 0 (valid: an integer >= 1)");
  EXPECT_EQ(refusal("optim.beta2=1"), "optim.beta2 = 1 (valid: [0, 1))");
  EXPECT_EQ(refusal("optim.eps=0"), "optim.eps = 0 (valid: a finite number > 0)");
  EXPECT_EQ(refusal("optim.eps=inf"), "optim.eps = inf (valid: a finite number > 0)");
  EXPECT_EQ(refusal("probe.per_decade=1001"),
            "probe.per_decade = 1001 (valid: an integer in [1, 1000])");
  EXPECT_EQ(refusal("optim.lr=inf"), "optim.lr = inf (valid: a finite number >= 0)");
  EXPECT_EQ(refusal("optim.beta2=0.999"), "accepted");
  EXPECT_EQ(refusal("train.memorize_threshold=1"), "accepted");  // (0, 1]: 1 is in
  EXPECT_THROW(Config::from_string("[train]\nlog_every = -5\n", "x.toml"), ConfigError);
  // Every default lies in its key's range.
  for (const KeySpec& s : Config::schema()) {
    if (s.range.words.empty()) continue;
    const ConfigValue& d = s.default_value;
    ASSERT_LE(d.index(), 1u) << s.key << ": a range on a key that is not a number";
    EXPECT_TRUE(
        s.range.contains(d.index() == 0 ? double(std::get<int64_t>(d)) : std::get<double>(d)))
        << s.key;
  }
}

// Each enum lists its enumerators in its key's valid order: the value named i projects to i.
template <class E>
void expect_enum(const char* key, std::initializer_list<std::pair<const char*, E>> names) {
  const KeySpec* spec = Config::find(key);
  ASSERT_NE(spec, nullptr) << key;
  ASSERT_EQ(spec->valid.size(), names.size()) << key;
  for (const auto& [name, value] : names) {
    Config c;
    c.set(key, std::string(name));
    const options_detail::Source source(c);
    EXPECT_EQ(option<E>(key), value) << key << " = " << name;
    EXPECT_EQ(option_name(key, value), name) << key;
  }
}

TEST(Options, EveryEnumFollowsItsKeysValidValues) {
  expect_enum<OptimRule>(
      "optim.name",
      {{"sgd", OptimRule::sgd}, {"adam", OptimRule::adam}, {"adamw", OptimRule::adamw}});
  expect_enum<Decay>(
      "optim.decay",
      {{"constant", Decay::constant}, {"cosine", Decay::cosine}, {"linear", Decay::linear}});
  expect_enum<GradFilterKind>(
      "optim.grad_filter",
      {{"none", GradFilterKind::none}, {"ema", GradFilterKind::ema}, {"ma", GradFilterKind::ma}});
  expect_enum<Activation>("model.activation", {{"relu", Activation::relu},
                                               {"gelu", Activation::gelu},
                                               {"gelu_tanh", Activation::gelu_tanh},
                                               {"square", Activation::square}});
  expect_enum<NormPlacement>(
      "model.norm",
      {{"none", NormPlacement::none}, {"pre", NormPlacement::pre}, {"post", NormPlacement::post}});
  expect_enum<Positions>("model.positions",
                         {{"learned", Positions::learned}, {"sinusoidal", Positions::sinusoidal}});
  expect_enum<MlpForm>("model.mlp_form", {{"pair", MlpForm::pair},
                                          {"concat", MlpForm::concat},
                                          {"dense", MlpForm::dense},
                                          {"onehot", MlpForm::onehot}});
  expect_enum<InitScheme>("model.init", {{"normal", InitScheme::normal},
                                         {"haiku", InitScheme::haiku},
                                         {"identity", InitScheme::identity},
                                         {"uniform", InitScheme::uniform}});
  expect_enum<Loss>("train.loss", {{"cross_entropy", Loss::cross_entropy},
                                   {"hinge", Loss::hinge},
                                   {"stablemax", Loss::stablemax}});
  expect_enum<SoftmaxNumerics>("train.softmax_numerics",
                               {{"gradscope", SoftmaxNumerics::gradscope},
                                {"torch_float32", SoftmaxNumerics::torch_float32},
                                {"torch_float64", SoftmaxNumerics::torch_float64}});
  expect_enum<LossReduction>(
      "train.loss_reduction",
      {{"mean", LossReduction::mean}, {"mean_over_classes", LossReduction::mean_over_classes}});
  expect_enum<BatchOrder>("train.batch_order",
                          {{"sample", BatchOrder::sample}, {"epoch", BatchOrder::epoch}});
  expect_enum<TeacherKind>(
      "task.teacher", {{"linear", TeacherKind::linear}, {"attention", TeacherKind::attention}});
  expect_enum<TeacherBasis>("task.teacher_basis", {{"random", TeacherBasis::random},
                                                   {"identity", TeacherBasis::identity}});
  expect_enum<TeacherInputs>("task.inputs", {{"whitened", TeacherInputs::whitened},
                                             {"gaussian", TeacherInputs::gaussian}});
  expect_enum<Alphabet>("task.alphabet", {{"chars", Alphabet::chars}, {"bytes", Alphabet::bytes}});
}

// The member declarations of `name`'s struct body in `header` (one statement per entry).
std::vector<std::string> members(const std::string& header, const std::string& name) {
  std::ifstream in(std::string(GRADSCOPE_SOURCE_DIR) + "/src/gradscope/" + header);
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  const size_t start = s.find("struct " + name + " {");
  EXPECT_NE(start, std::string::npos) << name << " in " << header;
  if (start == std::string::npos) return {};
  const size_t end = s.find("\n};", start);
  std::string body = s.substr(start, end - start);
  body = std::regex_replace(body, std::regex("//[^\n]*"), "");  // comments
  std::vector<std::string> out;
  std::string statement;
  for (char ch : body.substr(body.find('{') + 1)) {
    if (ch == ';') {
      out.push_back(std::regex_replace(statement, std::regex("\\s+"), " "));
      statement.clear();
    } else {
      statement += ch;
    }
  }
  return out;
}

TEST(Options, NoOptionsStructWritesADefaultOfItsOwn) {
  // A member that holds a key takes it from the schema (option<T>("key"), or a parser of
  // option...("key")); the few that hold no key are listed here, with why.
  const std::set<std::string> not_keys = {
      "last_position_only",  // ModelConfig: an exact shortcut, off only in tests
      "token_tables",        // ModelConfig: the same
      "tokens",              // AlgorithmicTaskConfig: from model.type
      "name",                // Regression/EmergenceTaskConfig: which of the file's families
  };
  const std::pair<const char*, const char*> structs[] = {
      {"optim/optimizer.h", "OptimizerConfig"},
      {"optim/schedule.h", "ScheduleConfig"},
      {"optim/grad_filter.h", "GradFilterConfig"},
      {"nn/models.h", "ModelConfig"},
      {"probes/spectra.h", "ProbeConfig"},
      {"run/train_options.h", "TrainConfig"},
      {"tasks/algorithmic.h", "AlgorithmicTaskConfig"},
      {"tasks/regression.h", "RegressionTaskConfig"},
      {"tasks/emergence.h", "EmergenceTaskConfig"},
      {"tasks/incontext.h", "InContextTaskConfig"},
      {"tasks/text.h", "TextTaskConfig"},
      {"run/llc.h", "LlcConfig"},
      {"run/hessian.h", "HessianConfig"},
  };
  const std::regex field(R"(^ ?[\w:<>, ]+? (\w+) = (.*)$)");
  int bound = 0;
  for (const auto& [header, name] : structs)
    for (const std::string& m : members(header, name)) {
      std::smatch f;
      if (m.find('(') != std::string::npos && m.find('=') == std::string::npos) continue;  // method
      if (!std::regex_match(m, f, field)) continue;  // no initializer
      const std::string member = f[1], init = f[2];
      if (not_keys.count(member)) continue;
      std::smatch k;
      const bool from_schema =
          std::regex_search(init, k, std::regex(R"re(option(<.*?>|_value)\("([\w.]+)"\))re"));
      EXPECT_TRUE(from_schema) << name << "::" << member << " = " << init
                               << ": a default of its own (take it from the schema: option<T>)";
      if (from_schema) {
        EXPECT_NE(Config::find(k[2]), nullptr) << name << "::" << member << ": no key " << k[2];
        ++bound;
      }
    }
  EXPECT_GT(bound, 90);  // the scan saw the structs' keys
}

TEST(Options, TheFormatsKeyTableListsEveryKeyWithTheSchemasDefault) {
  // docs/FORMATS.md explains each key at more length than its help; its defaults must be the
  // schema's, an enum key's row must name every valid value, and no key may be missing from it.
  std::ifstream in(std::string(GRADSCOPE_SOURCE_DIR) + "/docs/FORMATS.md");
  std::set<std::string> listed;
  // A row names one key and its default, or several of one section: "| optim.lr, eps | 1e-3, 1e-8
  // |".
  const std::regex row(R"re(^\| ((\w+\.)?[\w]+(, \w+)*) \| ([^|]*?) *\|)re");
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    for (size_t at = 0;;) {
      const size_t comma = s.find(", ", at);
      out.push_back(s.substr(at, comma - at));
      if (comma == std::string::npos) return out;
      at = comma + 2;
    }
  };
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    const std::vector<std::string> keys = split(m[1]);
    const std::string section = m[2];
    if (!Config::find(keys[0])) continue;
    const std::vector<std::string> defaults =
        keys.size() == 1 ? std::vector<std::string>{m[4]} : split(m[4]);
    ASSERT_EQ(defaults.size(), keys.size()) << line;
    for (size_t i = 0; i < keys.size(); ++i) {
      const KeySpec* spec = Config::find(i == 0 ? keys[i] : section + keys[i]);
      ASSERT_NE(spec, nullptr) << keys[i] << " in: " << line;
      listed.insert(spec->key);
      for (const std::string& v : spec->valid)  // an enum key's row names each valid value
        EXPECT_TRUE(std::regex_search(line, std::regex("\\b" + v + "\\b")))
            << spec->key << ": docs/FORMATS.md's row does not name the valid value " << v;
      EXPECT_EQ(parse_value(*spec, defaults[i]), spec->default_value)
          << spec->key << ": docs/FORMATS.md says " << defaults[i] << ", the schema "
          << value_to_string(spec->default_value);
    }
  }
  for (const KeySpec& s : Config::schema())  // (keys other tests register stand for later ones)
    if (s.since <= kSchemaVersion) {
      EXPECT_TRUE(listed.count(s.key)) << s.key << " is missing from docs/FORMATS.md's key table";
    }
}

TEST(Options, CheckpointStepsKeepLogEveryOrListedSteps) {
  const CheckpointKeep log = checkpoint_keep(std::string("log"));
  for (int64_t s : {0, 100, 200, 500, 1000, 20000}) EXPECT_TRUE(log.keeps(s)) << s;
  for (int64_t s : {1, 50, 300, 1500}) EXPECT_FALSE(log.keeps(s)) << s;
  const CheckpointKeep every = checkpoint_keep(std::string("every:250"));
  EXPECT_TRUE(every.keeps(0) && every.keeps(750));
  EXPECT_FALSE(every.keeps(100));
  const CheckpointKeep list = checkpoint_keep(std::vector<double>{3, 40});
  EXPECT_TRUE(list.keeps(3) && list.keeps(40));
  EXPECT_FALSE(list.keeps(0));
  for (const ConfigValue& bad :
       {ConfigValue(std::string("every:0")), ConfigValue(std::string("x")),
        ConfigValue(std::vector<double>{1.5}), ConfigValue(std::vector<double>{HUGE_VAL}),
        ConfigValue(std::vector<double>{1e30}), ConfigValue(std::vector<double>{NAN})})
    EXPECT_THROW(checkpoint_keep(bad), ConfigError);
  // One bare number: every:N or [N]? The error offers both.
  try {
    checkpoint_keep(std::string("500"));
    ADD_FAILURE() << "500 was taken";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "train.checkpoint_steps = 500 (valid: \"every:500\" for every 500th "
                 "step, or [500] for that step alone)");
  }
}

}  // namespace
}  // namespace gradscope
