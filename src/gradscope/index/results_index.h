// The results index: one SQLite database (runs/index.sqlite, WAL mode) over many run
// directories, for listing, filtering and exporting runs. The run directories stay the source of
// truth: a run adds itself when it ends, and `gradscope index rebuild` recreates the database
// from the directories alone.
//
// Tables:
//   runs     one row per run directory: dir (relative to the index's folder; the key), id (the
//            config hash), name, sweep, status, message, the summary fields (memorized_step,
//            generalized_step, grokking_delay, regime, steps_done, wall_time_s, steps_per_s,
//            final_<metric> for the last logged row's loss/accuracy/error columns), and one column
//            per config key, named by the key ("optim.weight_decay").
//   metrics  (run, step, key, value): every value of metrics.jsonl; run = runs.dir.
// Writers are safe to run concurrently: each run is one IMMEDIATE transaction under a 60-second
// busy timeout, and new config keys become new columns.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace gradscope {

// read: for queries (ls, export, plots, notebooks): as write where the index is writable (an
// older index gains the newer columns), read-only as it is on disk where it is not.
// query_only: read-only even where the index is writable (the web viewer: no request changes a
// file).
enum class IndexAccess { write, read, query_only };

class ResultsIndex {
 public:
  // write: opens (creating if needed) the database and its tables; "cannot write <db>: <reason>"
  // when the file or its directory is not writable. read: an existing index. Throws
  // std::runtime_error.
  explicit ResultsIndex(const std::filesystem::path& db, IndexAccess access = IndexAccess::write);
  ~ResultsIndex();
  ResultsIndex(const ResultsIndex&) = delete;
  ResultsIndex& operator=(const ResultsIndex&) = delete;

  // Inserts or replaces the run in run_dir from its config, summary (absent: the run's state,
  // rundir/run_state.h: "running", "incomplete" or "unknown") and metrics. Throws
  // std::runtime_error naming the file when the directory is not a readable run.
  void add_run(const std::filesystem::path& run_dir, const std::string& sweep = "");

  bool has_run(const std::filesystem::path& run_dir);

  // Rows of `runs` matching every filter ("key=value", "key!=value", "key<value", "key>value",
  // "key<=value", "key>=value"; key a column name; the value read as the column's kind: text,
  // one of a fixed set's words, a number, true/false; != keeps rows without a value), ordered by
  // dir. columns receives the column names. Throws std::invalid_argument naming a bad filter.
  std::vector<std::vector<std::string>> select(const std::vector<std::string>& filters,
                                               std::vector<std::string>& columns);
  // The rows of the sweep named `sweep` (its exact name, read as no filter), as select gives them.
  std::vector<std::vector<std::string>> select_sweep(const std::string& sweep,
                                                     std::vector<std::string>& columns);
  // Whether any run's metrics rows have the key (a NULL value counts: the column is there).
  bool has_metric(const std::string& metric);
  // The value of `metric` (a metrics.jsonl column) at the largest step it was logged at in the run
  // whose dir column is `dir` (as select returns it); nullopt when it was never logged or is
  // null there (not finite).
  std::optional<double> final_metric(const std::string& dir, const std::string& metric);
  // The whole runs table as CSV (header + rows), ordered by dir.
  std::string export_csv();
  int64_t count(const std::string& table);

 private:
  void exec(const std::string& sql);
  // Opens db_ (`name` with `flags`); a file that is not a database is refused.
  void open(const std::filesystem::path& db, const std::string& name, int flags);
  // Whether db_ is an index an older gradscope wrote (its runs table lacks columns of this one);
  // a database without gradscope's tables is refused (std::invalid_argument, db_ closed).
  bool outdated_index(const std::filesystem::path& db);
  void create_tables();  // the tables (WAL mode), columns added to an older index's
  std::string key_of(const std::filesystem::path& run_dir) const;  // the dir column
  std::filesystem::path root_;  // the folder holding the database (dirs are relative to it)
  sqlite3* db_ = nullptr;
};

// Recreates db from every run directory under root (a folder with config.toml), atomically:
// built in a temporary file, then renamed. Corrupt or partial runs are reported in `skipped`
// ("dir: why") and left out. Returns the number of runs indexed.
int64_t rebuild_index(const std::filesystem::path& root, const std::filesystem::path& db,
                      std::vector<std::string>& skipped);

// Adds a finished or interrupted run to the index `index` (empty: default_index_path), as
// `gradscope run` does after training; a failure is a warning on stderr, not an error (the run
// itself is intact, and `gradscope index rebuild` recovers the index).
void add_to_index(const std::filesystem::path& run_dir, const std::string& index = "");

// The index a run directory belongs to by default: index.sqlite in the runs root, i.e. the
// parent of the run directory, or the parent of its sweep directory for sweep runs.
std::filesystem::path default_index_path(const std::filesystem::path& run_dir);

// Whether the runs table's column `name` holds text (name, sweep, status, a string config key).
bool is_text_column(const std::string& name);

}  // namespace gradscope
