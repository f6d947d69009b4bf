// The results index: concurrent writers lose nothing; rebuild recreates it from run directories
// and skips corrupt ones; filters.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gradscope/config/config.h"
#include "gradscope/index/results_index.h"
#include "gradscope/rundir/run_files.h"

#include <sqlite3.h>

namespace gradscope {
namespace {

namespace fs = std::filesystem;

class Index : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gradscope_index_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // A finished run directory with `rows` metrics rows.
  fs::path make_run(const std::string& name, double wd, int rows) {
    const fs::path d = dir_ / name;
    fs::create_directories(d);
    Config c;
    c.set("name", name);
    c.set("optim.weight_decay", wd);
    std::ofstream(d / "config.toml") << c.to_toml();
    std::ofstream m(d / "metrics.jsonl");
    for (int s = 0; s < rows; ++s)
      m << "{\"step\":" << s * 10 << ",\"train_loss\":" << 1.0 / (s + 1)
        << ",\"train_acc\":1,\"test_loss\":2,\"test_acc\":" << (s == rows - 1 ? 1 : 0) << "}\n";
    std::ofstream(d / "summary.json")
        << "{\"status\":\"completed\",\"memorized_step\":0,\"generalized_step\":" << (rows - 1) * 10
        << ",\"regime\":\"grokking\",\"wall_time_s\":1.5}";
    return d;
  }
  fs::path dir_;
};

TEST_F(Index, FourConcurrentWritersLoseNoRow) {
  const int per_writer = 15, rows = 20;
  std::vector<fs::path> runs;
  for (int w = 0; w < 4; ++w)
    for (int i = 0; i < per_writer; ++i)
      runs.push_back(make_run("w" + std::to_string(w) + "_" + std::to_string(i), 0.1 * i, rows));
  const fs::path db = dir_ / "index.sqlite";
  std::vector<pid_t> pids;
  for (int w = 0; w < 4; ++w) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      int code = 0;
      try {
        ResultsIndex index(db);  // each writer opens its own connection, as a run does
        for (int i = 0; i < per_writer; ++i) index.add_run(runs[w * per_writer + i]);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "writer %d: %s\n", w, e.what());
        code = 1;
      }
      ::_exit(code);
    }
    pids.push_back(pid);
  }
  for (pid_t p : pids) {
    int st = 0;
    ::waitpid(p, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  ResultsIndex index(db);
  EXPECT_EQ(index.count("runs"), 4 * per_writer);
  EXPECT_EQ(index.count("metrics"), 4 * per_writer * rows * 4);  // 4 values per row
  std::vector<std::string> cols;
  const auto sel = index.select({"optim.weight_decay>=0.5", "regime=grokking"}, cols);
  EXPECT_EQ(sel.size(), 4u * 10);  // i = 5 .. 14 in each writer
  EXPECT_THROW(index.select({"optim.weight_decy=1"}, cols), std::invalid_argument);
  // An order against text would match by SQLite's type order (every number below any text).
  EXPECT_THROW(index.select({"optim.weight_decay<abc"}, cols), std::invalid_argument);
  EXPECT_EQ(index.select({"regime!=grokking"}, cols).size(), 0u);
  // A file that is not a database: named in one line, for reading and for writing.
  const fs::path junk = dir_ / "junk.sqlite";
  std::ofstream(junk) << "not a database\n";
  for (IndexAccess a : {IndexAccess::read, IndexAccess::write}) try {
      ResultsIndex bad(junk, a);
      ADD_FAILURE() << "opened " << junk;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("junk.sqlite: not an index"), std::string::npos);
    }
}

// A filter's value is read as its column's kind: text for a text column (a name that looks like a
// number too), a number (true or false for a boolean key) otherwise, one of the words of a column
// that has a fixed set; != keeps the runs without a value.
TEST_F(Index, FiltersReadTheirValueAsTheColumnsKind) {
  ResultsIndex index(dir_ / "index.sqlite");
  index.add_run(make_run("123", 0.1, 2));
  index.add_run(make_run("b", 1.0, 2));
  std::vector<std::string> cols;
  EXPECT_EQ(index.select({"name=123"}, cols).size(), 1u);
  EXPECT_EQ(index.select({"message!=x"}, cols).size(), 2u);  // no message: NULL
  EXPECT_EQ(index.select({"grokking_delay!=5"}, cols).size(), 2u);
  EXPECT_EQ(index.select({"optim.nesterov=false"}, cols).size(), 2u);
  EXPECT_EQ(index.select({"optim.nesterov=true"}, cols).size(), 0u);
  // A sweep's rows by its exact name, one that would read as a mistyped filter too.
  index.add_run(make_run("c", 0.3, 2), "=odd");
  EXPECT_EQ(index.select_sweep("=odd", cols).size(), 1u);
  EXPECT_THROW(index.select({"sweep==odd"}, cols), std::invalid_argument);
  for (const std::string bad : {"optim.weight_decay==1", "regime=grokkign", "name<3",
                                "memorized_step=abc", "optim.nesterov=maybe", "optim.name=adamm"})
    EXPECT_THROW(index.select({bad}, cols), std::invalid_argument) << bad;
  try {
    index.select({"regime=grokkign"}, cols);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("(valid: memorization, grokking"), std::string::npos);
  }
}

// An index an older gradscope wrote lacks the columns of later keys: opening it adds them, its
// rows holding each key's default (what those runs ran at), so a filter on one finds them.
TEST_F(Index, AnOlderIndexGetsNewKeysAtTheirDefaults) {
  const fs::path file = dir_ / "index.sqlite";
  {
    ResultsIndex index(file);
    index.add_run(make_run("a", 0.1, 2));
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  for (const char* drop : {"ALTER TABLE runs DROP COLUMN \"task.n_repeats\"",
                           "ALTER TABLE runs DROP COLUMN \"train.checkpoint_steps\"",
                           "ALTER TABLE runs DROP COLUMN \"optim.nesterov\""})
    ASSERT_EQ(sqlite3_exec(db, drop, nullptr, nullptr, nullptr), SQLITE_OK) << drop;
  sqlite3_close(db);
  ResultsIndex reader(file, IndexAccess::read);
  std::vector<std::string> cols;
  EXPECT_EQ(reader.select({"task.n_repeats=64"}, cols).size(), 1u);
  EXPECT_EQ(reader.select({"train.checkpoint_steps=log"}, cols).size(), 1u);
  EXPECT_EQ(reader.select({"optim.nesterov=false"}, cols).size(), 1u);
  EXPECT_EQ(reader.select({"task.n_repeats=8"}, cols).size(), 0u);
}

// A filter on a list-valued key reads its value as `gradscope run` does: 30,70 or [30, 70].
TEST_F(Index, ListFiltersReadTheirValueAsRunDoes) {
  ResultsIndex index(dir_ / "index.sqlite");
  const fs::path run = make_run("a", 0.1, 2);
  Config c = read_run_config(run);
  c.apply_override("train.checkpoint_steps=30,70");
  c.apply_override("task.target=3,2");
  std::ofstream(run / "config.toml") << c.to_toml();
  index.add_run(run);
  index.add_run(make_run("b", 0.1, 2));
  std::vector<std::string> cols;
  for (const std::string f : {"train.checkpoint_steps=30,70", "train.checkpoint_steps=[30, 70]",
                              "task.target=3,2", "task.target=[3.0,2]"})
    EXPECT_EQ(index.select({f}, cols).size(), 1u) << f;
  EXPECT_EQ(index.select({"train.checkpoint_steps=log"}, cols).size(), 1u);
  EXPECT_EQ(index.select({"train.checkpoint_steps!=30,70"}, cols).size(), 1u);
  EXPECT_THROW(index.select({"task.target=3,x"}, cols), std::invalid_argument);
}

// A database gradscope did not write is refused, by a reader and by a writer, and left as it is;
// so is an empty file given to a reader.
TEST_F(Index, AnotherProgramsDatabaseIsRefusedAndLeftAlone) {
  const fs::path empty = dir_ / "empty.sqlite", other = dir_ / "other.sqlite";
  std::ofstream{empty};
  {
    ResultsIndex make(other);  // then replaced by another program's table
  }
  fs::remove(other);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE runs (a)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  const auto size = fs::file_size(other);
  for (IndexAccess a : {IndexAccess::read, IndexAccess::query_only, IndexAccess::write}) try {
      ResultsIndex bad(other, a);
      ADD_FAILURE() << "opened " << other;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("other.sqlite: not an index"), std::string::npos);
    }
  EXPECT_EQ(fs::file_size(other), size);
  EXPECT_THROW(ResultsIndex(empty, IndexAccess::read), std::invalid_argument);
  EXPECT_EQ(fs::file_size(empty), 0u);
}

TEST_F(Index, RebuildRecreatesFromDirectoriesAndSkipsCorruptOnes) {
  make_run("a", 0.1, 3);
  make_run("b", 1.0, 4);
  const fs::path bad = dir_ / "c";
  fs::create_directories(bad);
  std::ofstream(bad / "config.toml") << "name = \"c\"\n[optim]\nweight_decay = \"x\"\n";
  const fs::path partial = dir_ / "d";  // started, not finished: indexed as unknown status
  fs::create_directories(partial);
  std::ofstream(partial / "config.toml") << Config().to_toml();
  std::ofstream(partial / "metrics.jsonl") << "{\"step\":0,\"train_loss\":1}\n"
                                           << "{\"step\":40,\"train_loss\":0.5}\n";
  const fs::path db = dir_ / "index.sqlite";
  std::vector<std::string> skipped;
  EXPECT_EQ(rebuild_index(dir_, db, skipped), 3);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("weight_decay"), std::string::npos) << skipped[0];
  ResultsIndex index(db);
  std::vector<std::string> cols;
  const auto all = index.select({}, cols);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0][0], "a");  // dirs relative to the index's folder
  // The unfinished run's steps_done: its last logged step (no summary says it).
  const auto d = index.select({"dir=d"}, cols);
  ASSERT_EQ(d.size(), 1u);
  const size_t at = std::find(cols.begin(), cols.end(), "steps_done") - cols.begin();
  ASSERT_LT(at, cols.size());
  EXPECT_EQ(d[0][at], "40");
  EXPECT_EQ(index.count("metrics"), (3 + 4) * 4 + 2);  // d: two train_loss values
  // Rebuilding again gives the same table.
  const std::string csv = index.export_csv();
  skipped.clear();
  rebuild_index(dir_, db, skipped);
  EXPECT_EQ(ResultsIndex(db).export_csv(), csv);
}

}  // namespace
}  // namespace gradscope
