// Compatibility of run identities: today's examples keep the run ids and config.toml texts they
// had before the config rework (tests/fixtures/example_ids.txt, written by that build), and a
// key added later at its default changes neither the id nor config.toml; execution keys never do.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gradscope/config/config.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = GRADSCOPE_SOURCE_DIR;

std::string fnv(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

TEST(ConfigCompat, ExampleIdsAndResolvedTextsAreUnchanged) {
  std::ifstream in(kSource / "tests/fixtures/example_ids.txt");
  ASSERT_TRUE(in.good());
  int checked = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string file, id, text_hash;
    fields >> file >> id >> text_hash;
    SCOPED_TRACE(file);
    const Config c = Config::from_file(kSource / "examples" / file);
    EXPECT_EQ(config_hash(c), id);
    EXPECT_EQ(fnv(c.to_toml()), text_hash);
    ++checked;
  }
  EXPECT_GE(checked, 28);
}

TEST(ConfigCompat, KeysAddedLaterChangeNothingAtTheirDefault) {
  const Config before = Config::from_file(kSource / "examples/nanda-grokking.toml");
  const std::string id = config_hash(before), text = before.to_toml();
  // A key as a later version would add it.
  Config::register_key({"train.future_knob", 0.5, "a key from the future", kSchemaVersion + 1});
  const Config after = Config::from_file(kSource / "examples/nanda-grokking.toml");
  EXPECT_EQ(config_hash(after), id);
  EXPECT_EQ(after.to_toml(), text);
  EXPECT_TRUE(after.diff(before).empty());
  Config changed = after;
  changed.apply_override("train.future_knob=0.75");
  EXPECT_NE(config_hash(changed), id);
  const std::string toml = changed.to_toml();
  EXPECT_NE(toml.find("future_knob = 0.75"), std::string::npos);
  // It reads back, under [train] (not a second [train] table).
  EXPECT_DOUBLE_EQ(Config::from_string(toml, "resolved").real("train.future_knob"), 0.75);
  EXPECT_EQ(toml.find("[train]"), toml.rfind("[train]"));
}

TEST(ConfigCompat, ExecutionKeysAreNotPartOfTheId) {
  Config::register_key({"future_device", std::string("cpu"), "where it runs", kSchemaVersion + 1,
                        /*execution=*/true});
  Config a;
  Config b = a;
  b.apply_override("future_device=cuda");
  EXPECT_EQ(config_hash(a), config_hash(b));
  EXPECT_EQ(b.diff(a), std::vector<std::string>{"future_device"});
}

TEST(ConfigCompat, NewKeysOfThisVersionAreWrittenOnlyWhenSet) {
  Config c;
  EXPECT_EQ(c.to_toml().find("stop_after_generalized"), std::string::npos);
  const std::string id = config_hash(c);
  c.apply_override("train.stop_after_generalized=100");
  EXPECT_NE(c.to_toml().find("stop_after_generalized = 100"), std::string::npos);
  EXPECT_NE(config_hash(c), id);
}

}  // namespace
}  // namespace gradscope
