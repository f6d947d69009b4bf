// The .npz reader and the arrays task: every dtype and layout numpy writes reads back exactly,
// every malformation is a one-line error naming the array, and the data's hash depends on the
// arrays only (not on how the archive was compressed).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "../support/npz_writer.h"
#include "gradscope/config/config.h"
#include "gradscope/tasks/arrays.h"
#include "gradscope/tasks/task_family.h"
#include "gradscope/tensor/npy.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;
using gradscope_test::npy;
using gradscope_test::write_zip;
using Entries = std::vector<std::pair<std::string, std::string>>;

class Npz : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gradscope_npz_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const Entries& e, bool compress = false, const std::string& name = "d.npz") {
    write_zip(dir_ / name, e, compress);
    return dir_ / name;
  }
  // The error of reading `e` as arrays for a model reading `reader` ("" when it reads).
  std::string error(const Entries& e, ArraysReader reader = ArraysReader::tokens,
                    bool transformer = true) {
    try {
      arrays_task_data(read_npz(write(e)), "data", reader, transformer);
    } catch (const std::invalid_argument& x) {
      return x.what();
    }
    return "";
  }
  fs::path dir_;
};

// x_train [3, 2] tokens, y_train [3] labels, x_test [2, 2], y_test [2].
Entries tokens_and_labels() {
  return {{"x_train.npy", npy<int64_t>("<i8", {3, 2}, {0, 1, 2, 3, 4, 5})},
          {"y_train.npy", npy<int64_t>("<i8", {3}, {1, 0, 2})},
          {"x_test.npy", npy<int64_t>("<i8", {2, 2}, {5, 4, 3, 2})},
          {"y_test.npy", npy<int64_t>("<i8", {2}, {0, 1})}};
}

Entries with(Entries e, const std::string& name, const std::string& bytes) {
  for (auto& [n, b] : e)
    if (n == name) b = bytes;
  if (bytes.empty()) std::erase_if(e, [&](const auto& p) { return p.first == name; });
  return e;
}

TEST_F(Npz, ReadsEveryDtypeAndLayoutExactly) {
  const auto a = read_npz(write({
      {"i1.npy", npy<int8_t>("|i1", {3}, {-1, 0, 127})},
      {"u2.npy", npy<uint16_t>("<u2", {2}, {0, 65535})},
      {"i4.npy", npy<int32_t>("<i4", {2, 2}, {1, -2, 3, -4})},
      {"u8.npy", npy<uint64_t>("<u8", {1}, {7})},
      {"b1.npy", npy<uint8_t>("|b1", {2}, {1, 0})},
      {"f4.npy", npy<float>("<f4", {2}, {0.5f, -2.25f})},
      {"f8.npy", npy<double>("<f8", {}, {3.125})},
      // Fortran order: the columns (1, 2, 3) and (4, 5, 6) of [[1, 4], [2, 5], [3, 6]].
      {"fo.npy", npy<int32_t>("<i4", {3, 2}, {1, 2, 3, 4, 5, 6}, true)},
  }));
  EXPECT_EQ(a.at("i1").integer(0), -1);
  EXPECT_EQ(a.at("i1").integer(2), 127);
  EXPECT_EQ(a.at("u2").integer(1), 65535);
  EXPECT_EQ(a.at("i4").integer(3), -4);
  EXPECT_EQ(a.at("i4").shape_text(), "(2, 2)");
  EXPECT_EQ(a.at("u8").integer(0), 7);
  EXPECT_EQ(a.at("b1").dtype(), "bool");
  EXPECT_EQ(a.at("b1").integer(0), 1);
  EXPECT_EQ(a.at("f4").real(1), -2.25);
  EXPECT_EQ(a.at("f8").shape_text(), "()");
  EXPECT_EQ(a.at("f8").size(), 1);
  EXPECT_EQ(a.at("f8").real(0), 3.125);
  const NpyArray& fo = a.at("fo");
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(fo.integer(i), std::vector<int>({1, 4, 2, 5, 3, 6})[i]);
}

TEST_F(Npz, EveryMalformationIsOneLineNamingTheEntry) {
  auto fails = [&](const Entries& e, const std::string& part) {
    try {
      read_npz(write(e));
      ADD_FAILURE() << "no error; expected " << part;
    } catch (const std::invalid_argument& x) {
      const std::string m = x.what();
      EXPECT_NE(m.find(part), std::string::npos) << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    }
  };
  const std::string good = npy<int32_t>("<i4", {2}, {1, 2});
  fails({{"a.npy", good.substr(0, good.size() - 1)}}, "a.npy: 7 bytes of data for shape (2,)");
  fails({{"a.npy", "not an array"}}, "a.npy: not a .npy array");
  fails({{"a.npy", npy<int32_t>(">i4", {1}, {1})}}, "big-endian");
  fails({{"a.npy", npy<char>("|O", {0}, {})}}, "dtype object");
  fails({{"a.npy", npy<int16_t>("<f2", {1}, {0})}}, "dtype '<f2' is not read");
  fails({{"a.npy", npy<int32_t>("<i4", {1, 1, 1}, {1}, true)}}, "Fortran-ordered");
  fails({{"a.npy", npy<int32_t>("<i4", {9999999999999, 9999999999999}, {1, 2})}},
        "for shape");  // a product that overflows
  // Not a zip at all, and a truncated one.
  fs::path p = dir_ / "junk.npz";
  std::ofstream(p) << "PK this is not an archive";
  EXPECT_THROW(read_npz(p), std::invalid_argument);
  const fs::path whole = write(tokens_and_labels());
  std::ifstream in(whole, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t cut : {size_t{0}, size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    try {
      parse_npz(bytes.substr(0, cut), "cut.npz");
      ADD_FAILURE() << "a truncated archive read (" << cut << " bytes)";
    } catch (const std::invalid_argument& x) {
      EXPECT_EQ(std::string(x.what()).rfind("cut.npz: ", 0), 0u) << x.what();
    }
  }
  EXPECT_THROW(read_npz(dir_ / "missing.npz"), std::invalid_argument);
}

TEST_F(Npz, TokensAndLabelsBecomeTaskData) {
  const TaskData d =
      arrays_task_data(read_npz(write(tokens_and_labels())), "data", ArraysReader::tokens, true);
  EXPECT_EQ(d.vocab, 6);  // largest token 5 + 1
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_FALSE(d.regression);
  EXPECT_EQ(d.train.length, 2);
  EXPECT_EQ(d.train.inputs, (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(d.train.targets, (std::vector<int32_t>{1, 0, 2}));
  EXPECT_EQ(d.test.inputs, (std::vector<int32_t>{5, 4, 3, 2}));
  EXPECT_EQ(d.test.size(), 2);
  // A transformer reads out over its vocabulary: labels beyond the tokens widen it.
  Entries e = with(tokens_and_labels(), "y_test.npy", npy<int64_t>("<i8", {2}, {0, 9}));
  EXPECT_EQ(arrays_task_data(read_npz(write(e)), "d", ArraysReader::tokens, true).vocab, 10);
  EXPECT_EQ(arrays_task_data(read_npz(write(e)), "d", ArraysReader::tokens, false).vocab, 6);
  // Given vocab and classes are kept.
  e = tokens_and_labels();
  e.push_back({"vocab.npy", npy<int64_t>("<i8", {}, {8})});
  e.push_back({"classes.npy", npy<int64_t>("<i8", {}, {4})});
  const TaskData g = arrays_task_data(read_npz(write(e)), "d", ArraysReader::tokens, true);
  EXPECT_EQ(g.vocab, 8);
  EXPECT_EQ(g.num_classes, 4);
}

TEST_F(Npz, TargetsAtEveryPositionFeaturesAndRegression) {
  Entries e =
      with(tokens_and_labels(), "y_train.npy", npy<int32_t>("<i4", {3, 2}, {1, 2, 3, 4, 5, 0}));
  e = with(e, "y_test.npy", npy<int32_t>("<i4", {2, 2}, {0, 0, 1, 1}));
  TaskData d = arrays_task_data(read_npz(write(e)), "d", ArraysReader::tokens, true);
  EXPECT_EQ(d.train.targets_per_example, 2);
  EXPECT_EQ(d.train.size(), 3);
  const Entries features = {{"x_train.npy", npy<float>("<f4", {2, 3}, {1, 2, 3, 4, 5, 6})},
                            {"y_train.npy", npy<double>("<f8", {2}, {0.5, -1})},
                            {"x_test.npy", npy<double>("<f8", {1, 3}, {7, 8, 9})},
                            {"y_test.npy", npy<double>("<f8", {1}, {2})}};
  d = arrays_task_data(read_npz(write(features)), "d", ArraysReader::features, false);
  EXPECT_TRUE(d.regression);
  EXPECT_EQ(d.train.features, 3);
  EXPECT_EQ(d.train.outputs, 1);
  EXPECT_EQ(d.train.x, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(d.train.y, (std::vector<double>{0.5, -1}));
  EXPECT_EQ(d.test.size(), 1);
}

TEST_F(Npz, BadArraysAreOneLineErrorsNamingTheArray) {
  const Entries base = tokens_and_labels();
  auto expect = [&](const Entries& e, const std::string& part,
                    ArraysReader r = ArraysReader::tokens, bool transformer = true) {
    const std::string m = error(e, r, transformer);
    EXPECT_NE(m.find(part), std::string::npos) << "got: " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  };
  Entries classes = base;
  classes.push_back({"classes.npy", npy<int64_t>("<i8", {}, {2})});
  expect(classes, "y_train holds 2 at [2] (valid: 0..1, classes = 2)");
  Entries vocab = base;
  vocab.push_back({"vocab.npy", npy<int64_t>("<i8", {}, {5})});
  expect(vocab, "x_train holds 5 at [2, 1] (valid: 0..4, vocab = 5)");
  expect(with(base, "x_test.npy", npy<int64_t>("<i8", {2, 2}, {1, -3, 0, 0})),
         "x_test holds -3 at [0, 1]");
  expect(with(base, "y_test.npy", npy<int64_t>("<i8", {3}, {0, 1, 1})),
         "y_test has 3 rows but x_test has 2");
  expect(with(base, "x_test.npy", npy<int64_t>("<i8", {2, 3}, {0, 1, 2, 3, 4, 5})),
         "x_test has shape (2, 3) but x_train has (3, 2)");
  expect(with(base, "x_train.npy", npy<int64_t>("<i8", {6}, {0, 1, 2, 3, 4, 5})),
         "x_train has shape (6,) (valid: [N, L] token ids or [N, D] features)");
  expect(with(base, "y_train.npy", ""), "no array y_train");
  expect(with(base, "y_train.npy", npy<double>("<f8", {3}, {1, 0, 2})),
         "y_test is int64 but y_train is float64");
  Entries floats = with(base, "x_train.npy", npy<float>("<f4", {3, 2}, {0, 1, 2, 3, 4, 5}));
  floats = with(floats, "x_test.npy", npy<float>("<f4", {2, 2}, {5, 4, 3, 2}));
  expect(floats, "x_train is float32: the model reads token ids");
  expect(base, "x_train is int64: the model reads real features", ArraysReader::features);
  Entries nan = with(floats, "y_train.npy", npy<double>("<f8", {3}, {1, NAN, 2}));
  nan = with(nan, "y_test.npy", npy<double>("<f8", {2}, {0, 1}));
  expect(nan, "y_train holds nan at [1] (valid: finite numbers)", ArraysReader::features);
  Entries extra = base;
  extra.push_back({"X_val.npy", npy<int64_t>("<i8", {1}, {0})});
  expect(extra, "unknown array 'X_val'");
  expect(with(with(base, "y_train.npy", npy<int64_t>("<i8", {3, 3}, std::vector<int64_t>(9))),
              "y_test.npy", npy<int64_t>("<i8", {2, 3}, std::vector<int64_t>(6))),
         "a target at every position needs token sequences x_train [N, 3]");
  Entries bad_vocab = base;
  bad_vocab.push_back({"vocab.npy", npy<double>("<f8", {}, {5})});
  expect(bad_vocab, "vocab is float64 () (valid: one integer)");
}

TEST_F(Npz, HashDependsOnTheArraysNotOnTheArchive) {
  const auto stored = read_npz(write(tokens_and_labels(), false, "a.npz"));
  const auto deflated = read_npz(write(tokens_and_labels(), true, "b.npz"));
  EXPECT_EQ(arrays_hash(stored), arrays_hash(deflated));
  EXPECT_EQ(arrays_hash(stored).size(), 16u);
  const auto changed = read_npz(write(
      with(tokens_and_labels(), "y_test.npy", npy<int64_t>("<i8", {2}, {1, 1})), false, "c.npz"));
  EXPECT_NE(arrays_hash(stored), arrays_hash(changed));
  const auto retyped = read_npz(write(
      with(tokens_and_labels(), "y_test.npy", npy<int32_t>("<i4", {2}, {0, 1})), false, "d.npz"));
  EXPECT_NE(arrays_hash(stored), arrays_hash(retyped));
}

TEST_F(Npz, TaskFamilyFillsAndChecksTheHash) {
  const fs::path file = write(tokens_and_labels());
  Config c;
  c.set("task.name", std::string("arrays"));
  c.set("task.path", file.string());
  c.set("model.type", std::string("transformer"));
  resolve_task(c);
  const std::string hash = c.string("task.data_hash");
  EXPECT_EQ(hash, arrays_hash(read_npz(file)));
  EXPECT_EQ(find_task_family("arrays").build(c).vocab, 6);
  c.set("task.data_hash", std::string("0123456789abcdef"));
  try {
    find_task_family("arrays").build(c);
    ADD_FAILURE() << "a changed file was not noticed";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("not task.data_hash = \"0123456789abcdef\""),
              std::string::npos)
        << e.what();
  }
  Config empty;
  empty.set("task.name", std::string("arrays"));
  EXPECT_THROW(find_task_family("arrays").validate(empty), ConfigError);
}

TEST(ConfigFiles, PathsAreRelativeToTheExperimentFileAndOutOfTheRunId) {
  const fs::path dir =
      fs::temp_directory_path() / ("gradscope_cfgpath_" + std::to_string(::getpid()));
  fs::create_directories(dir / "exp");
  std::ofstream(dir / "exp" / "e.toml") << "[task]\nname = \"arrays\"\npath = \"../data/d.npz\"\n";
  const Config c = Config::from_file(dir / "exp" / "e.toml");
  EXPECT_EQ(c.string("task.path"),
            (fs::absolute(dir) / "data" / "d.npz").lexically_normal().string());
  // Written relative to a run directory that holds it; absolute otherwise.
  Config kept = c;
  kept.set("task.path", (dir / "run" / "data.npz").string());
  EXPECT_NE(kept.to_toml("", dir / "run").find("path = \"data.npz\""), std::string::npos);
  EXPECT_NE(c.to_toml("", dir / "run").find("path = \"" + c.string("task.path") + "\""),
            std::string::npos);
  EXPECT_EQ(config_hash(c), config_hash(kept));
  Config other = c;
  other.set("task.data_hash", std::string("0123456789abcdef"));
  EXPECT_NE(config_hash(c), config_hash(other));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gradscope
