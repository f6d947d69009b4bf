// The one grammar of values typed as text (config/value_text.h): TOML values, bare strings,
// comma lists, sweep axes, and the errors that name key, text and what is valid.
#include <gtest/gtest.h>

#include "gradscope/config/config.h"
#include "gradscope/config/value_text.h"

namespace gradscope {
namespace {

const KeySpec& spec(const std::string& key) {
  return *Config::find(key);
}

std::string error_of(const std::string& key, const std::string& text) {
  try {
    parse_value(spec(key), text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ValueText, TomlValuesOfEveryType) {
  EXPECT_EQ(parse_value(spec("train.steps"), "1e5"), ConfigValue(int64_t{100000}));
  EXPECT_EQ(parse_value(spec("train.steps"), "1_000"), ConfigValue(int64_t{1000}));
  EXPECT_EQ(parse_value(spec("optim.lr"), "3e-3"), ConfigValue(3e-3));
  EXPECT_EQ(parse_value(spec("optim.lr"), "1"), ConfigValue(1.0));
  EXPECT_EQ(parse_value(spec("task.unordered"), "true"), ConfigValue(true));
  EXPECT_EQ(parse_value(spec("name"), "\"with spaces\""), ConfigValue(std::string("with spaces")));
  EXPECT_EQ(parse_value(spec("task.target"), "[3, 2, 1, 0.5]"),
            ConfigValue(std::vector<double>{3, 2, 1, 0.5}));
  EXPECT_EQ(parse_value(spec("train.checkpoint_steps"), "[10, 20]"),
            ConfigValue(std::vector<double>{10, 20}));
}

TEST(ValueText, Shorthands) {
  EXPECT_EQ(parse_value(spec("name"), "wd0.3"), ConfigValue(std::string("wd0.3")));
  EXPECT_EQ(parse_value(spec("task.op"), "a+b"), ConfigValue(std::string("a+b")));
  EXPECT_EQ(parse_value(spec("name"), "true"), ConfigValue(std::string("true")));
  EXPECT_EQ(parse_value(spec("task.target"), "3,2,1,0.5"),
            ConfigValue(std::vector<double>{3, 2, 1, 0.5}));
  EXPECT_EQ(parse_value(spec("task.target"), "4"), ConfigValue(std::vector<double>{4}));
  EXPECT_EQ(parse_value(spec("task.target"), ""), ConfigValue(std::vector<double>{}));
  EXPECT_EQ(parse_value(spec("train.checkpoint_steps"), "every:100"),
            ConfigValue(std::string("every:100")));
  // A key taking a string or a list reads numbers between commas as its list; one number stays
  // text (train.checkpoint_steps then asks whether every:500 or [500] was meant).
  EXPECT_EQ(parse_value(spec("train.checkpoint_steps"), "30,70"),
            ConfigValue(std::vector<double>{30, 70}));
  EXPECT_EQ(parse_value(spec("train.checkpoint_steps"), "500"), ConfigValue(std::string("500")));
  EXPECT_EQ(parse_value(spec("train.checkpoint_steps"), "log,70"),
            ConfigValue(std::string("log,70")));  // not numbers: its string form (refused later)
  ASSERT_EQ(parse_values(spec("train.checkpoint_steps"), "30,70").size(), 1u);  // not an axis
}

TEST(ValueText, ErrorsNameKeyTextAndWhatIsValid) {
  EXPECT_EQ(error_of("train.steps", "abc"), "train.steps = abc (valid: an integer)");
  EXPECT_EQ(error_of("train.steps", "2.5"), "train.steps = 2.5 (valid: an integer)");
  EXPECT_EQ(error_of("task.unordered", "yes"), "task.unordered = yes (valid: true or false)");
  EXPECT_EQ(error_of("optim.lr", "fast"), "optim.lr = fast (valid: a number)");
  EXPECT_EQ(error_of("task.target", "1,x"),
            "task.target = 1,x (valid: a list of numbers, e.g. 3,2,1,0.5)");
  EXPECT_NE(error_of("optim.lr", "1\nseed = 3"), "");  // one value, never more TOML
}

TEST(ValueText, SweepAxes) {
  auto values = [](const std::string& key, const std::string& text) {
    return parse_values(spec(key), text);
  };
  EXPECT_EQ(values("optim.weight_decay", "0.1,0.3,1").size(), 3u);
  EXPECT_EQ(values("optim.weight_decay", "0.3").size(), 1u);
  EXPECT_EQ(values("model.activation", "relu,gelu")[1], ConfigValue(std::string("gelu")));
  EXPECT_EQ(values("name", "\"a,b\",c")[0], ConfigValue(std::string("a,b")));
  // A list key: a comma list is one list; bracketed lists are an axis.
  ASSERT_EQ(values("task.target", "3,2,1").size(), 1u);
  const auto axis = values("task.target", "[3,2],[1,1]");
  ASSERT_EQ(axis.size(), 2u);
  EXPECT_EQ(axis[1], ConfigValue(std::vector<double>{1, 1}));
}

// assignment_text writes what parse_values reads back: every kind of value, one or several.
TEST(ValueText, AssignmentsRoundTrip) {
  const std::vector<std::pair<std::string, std::vector<ConfigValue>>> cases = {
      {"train.steps", {int64_t{100000}}},
      {"optim.lr", {0.1}},
      {"optim.weight_decay", {0.1, 1.0 / 3.0, 1e-300}},
      {"task.unordered", {true}},
      {"name", {std::string("a, \"b\"\\c")}},
      {"model.activation", {std::string("relu"), std::string("gelu")}},
      {"task.target", {std::vector<double>{3, 2, 1, 0.5}}},
      {"task.target", {std::vector<double>{3, 2}, std::vector<double>{1, 1}}}};
  for (const auto& [key, values] : cases) {
    const std::string text = assignment_text(key, values);
    ASSERT_EQ(text.substr(0, key.size() + 1), key + "=");
    EXPECT_EQ(parse_values(spec(key), text.substr(key.size() + 1)), values) << text;
  }
  EXPECT_EQ(assignment_text("optim.lr", {0.1}), "optim.lr=0.1");
}

}  // namespace
}  // namespace gradscope
