// The results index: see results_index.h.
#include "gradscope/index/results_index.h"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "gradscope/config/config.h"
#include "gradscope/config/value_text.h"
#include "gradscope/rundir/csv.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/rundir/run_state.h"
#include "gradscope/rundir/summary_file.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;

// The summary fields stored as columns, and the final metrics (as final_<name>).
const std::vector<std::string> kSummaryInts = {"memorized_step", "generalized_step",
                                               "grokking_delay", "steps_done", "n_params"};
const std::vector<std::string> kFinal = {"train_loss", "train_acc", "test_loss", "test_acc",
                                         "test_rel_error"};

std::string quote(const std::string& name) {
  std::string q = "\"";
  for (char c : name) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

const char* sql_type(const ConfigValue& v) {
  switch (v.index()) {
    case 0:
    case 2:
      return "INTEGER";
    case 1:
      return "REAL";
    default:
      return "TEXT";
  }
}

// Every column of `runs` with its SQL type, in order.
std::vector<std::pair<std::string, std::string>> run_columns() {
  std::vector<std::pair<std::string, std::string>> c = {
      {"dir", "TEXT PRIMARY KEY"}, {"id", "TEXT"},          {"name", "TEXT"},
      {"sweep", "TEXT"},           {"status", "TEXT"},      {"message", "TEXT"},
      {"regime", "TEXT"},          {"wall_time_s", "REAL"}, {"steps_per_s", "REAL"}};
  for (const auto& k : kSummaryInts) c.emplace_back(k, "INTEGER");
  for (const auto& k : kFinal) c.emplace_back("final_" + k, "REAL");
  for (const KeySpec& s : Config::schema())
    if (s.key != "name") c.emplace_back(s.key, sql_type(s.default_value));  // name: above
  return c;
}

// Whether the text is a number (a filter's value is bound as one then).
bool is_number(const std::string& text) {
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  return !text.empty() && end && *end == '\0';
}

// A prepared statement, finalized on scope exit.
struct Statement {
  sqlite3_stmt* s = nullptr;
  Statement(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("SQLite: ") + sqlite3_errmsg(db) + " in: " + sql);
  }
  ~Statement() { sqlite3_finalize(s); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
};

void step_done(sqlite3* db, Statement& st) {
  if (sqlite3_step(st.s) != SQLITE_DONE)
    throw std::runtime_error(std::string("SQLite: ") + sqlite3_errmsg(db));
  sqlite3_reset(st.s);
  sqlite3_clear_bindings(st.s);
}

void bind(Statement& st, int i, const ConfigValue& v) {
  switch (v.index()) {
    case 0:
      sqlite3_bind_int64(st.s, i, std::get<int64_t>(v));
      break;
    case 1:
      sqlite3_bind_double(st.s, i, std::get<double>(v));
      break;
    case 2:
      sqlite3_bind_int64(st.s, i, std::get<bool>(v) ? 1 : 0);
      break;
    case 3:
      sqlite3_bind_text(st.s, i, std::get<std::string>(v).c_str(), -1, SQLITE_TRANSIENT);
      break;
    default:
      sqlite3_bind_text(st.s, i, value_to_string(v).c_str(), -1, SQLITE_TRANSIENT);
  }
}

void bind_json(Statement& st, int i, const nlohmann::json& v) {
  if (v.is_number_integer())
    sqlite3_bind_int64(st.s, i, v.get<int64_t>());
  else if (v.is_number())
    sqlite3_bind_double(st.s, i, v.get<double>());
  else if (v.is_string())
    sqlite3_bind_text(st.s, i, v.get<std::string>().c_str(), -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st.s, i);
}

std::string column_text(sqlite3_stmt* s, int i) {
  switch (sqlite3_column_type(s, i)) {
    case SQLITE_NULL:
      return "";
    case SQLITE_INTEGER:
      return std::to_string(sqlite3_column_int64(s, i));
    case SQLITE_FLOAT:
      return fmt::format("{}", sqlite3_column_double(s, i));
    default:
      return reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  }
}

// The status column: the summary's, else the run's state (running, incomplete, unknown).
std::string status_of(const fs::path& dir, const std::optional<Summary>& summary) {
  if (summary) return summary->status;
  const RunState state = inspect_run(dir).state;
  if (state == RunState::running) return "running";
  return state == RunState::resumable ? "incomplete" : "unknown";
}

// What a filter's value must be for a column: text (one of `valid`'s words when it has some) or a
// number (true or false for a boolean key, stored as 1 or 0).
struct ColumnKind {
  bool text = false, boolean = false;
  std::vector<std::string> valid;
};

// Every column's kind, made once.
const std::map<std::string, ColumnKind>& column_kinds() {
  static const std::map<std::string, ColumnKind> kinds = [] {
    std::map<std::string, ColumnKind> kinds;
    for (const auto& [name, type] : run_columns()) kinds[name].text = type.rfind("TEXT", 0) == 0;
    for (const KeySpec& k : Config::schema()) {
      if (k.key == "name") continue;
      kinds[k.key].boolean = std::holds_alternative<bool>(k.default_value);
      kinds[k.key].valid = k.valid;
    }
    kinds["regime"].valid = {"memorization", "grokking", "comprehension", "confusion"};
    kinds["status"].valid = {"completed", "diverged",   "interrupted",
                             "running",   "incomplete", "unknown"};
    return kinds;
  }();
  return kinds;
}

}  // namespace

bool is_text_column(const std::string& name) {
  const auto it = column_kinds().find(name);
  return it != column_kinds().end() && it->second.text;
}

fs::path default_index_path(const fs::path& run_dir) {
  const fs::path dir = fs::absolute(run_dir).lexically_normal();
  const fs::path parent = (dir.has_filename() ? dir : dir.parent_path()).parent_path();
  if (rundir::is_sweep_dir(parent)) return rundir::index_file(parent.parent_path());
  return rundir::index_file(parent);
}

namespace {
// "file:" URI of a path, for sqlite3_open_v2 with SQLITE_OPEN_URI.
std::string file_uri(const fs::path& path) {
  std::string uri = "file:";
  for (const char c : fs::absolute(path).string())
    uri += c == '?' || c == '#' || c == '%' ? fmt::format("%{:02X}", c) : std::string(1, c);
  return uri;
}
}  // namespace

ResultsIndex::ResultsIndex(const fs::path& db, IndexAccess access)
    : root_(fs::absolute(db).parent_path()) {
  const bool writable = ::access(root_.c_str(), W_OK) == 0 && ::access(db.c_str(), W_OK) == 0;
  if (access != IndexAccess::write) {
    if (!fs::exists(db)) throw std::runtime_error(db.string() + ": no index");
    // On a read-only filesystem SQLite cannot make the WAL's shared-memory file: read the
    // database as it is on disk (nothing can change it there). Elsewhere (another user's
    // index, which may be written now) an ordinary read-only connection.
    struct statvfs fs {};
    const bool frozen = ::statvfs(root_.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY);
    open(db, file_uri(db) + (frozen ? "?immutable=1" : ""), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
    // A reader writes nothing, but for the columns newer keys need in an index an older
    // gradscope wrote (when it may write there); a database gradscope did not write is refused.
    const bool outdated = outdated_index(db);
    if (access == IndexAccess::query_only || !outdated || !writable) return;
    sqlite3_close(db_);
    db_ = nullptr;
  }
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) throw std::runtime_error(write_error(db, ec.value()));
  if (::access(root_.c_str(), W_OK) != 0 || (fs::exists(db) && ::access(db.c_str(), W_OK) != 0))
    throw std::runtime_error(write_error(db, errno));
  open(db, db.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int64_t tables = 0;
  {
    Statement t(db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");
    if (sqlite3_step(t.s) == SQLITE_ROW) tables = sqlite3_column_int64(t.s, 0);
  }
  if (tables > 0) outdated_index(db);  // another program's database: refused, left as it is
  create_tables();
}

void ResultsIndex::open(const fs::path& db, const std::string& name, int flags) {
  if (sqlite3_open_v2(name.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error(db.string() + ": cannot open the index (" + msg + ")");
  }
  sqlite3_busy_timeout(db_, 60000);
  // A file that is not a database: one line naming it (SQLite finds out at the first statement).
  if (sqlite3_exec(db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) ==
      SQLITE_NOTADB) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::invalid_argument(db.string() +
                                ": not an index (SQLite: file is not a database; valid: an "
                                "index.sqlite that gradscope wrote)");
  }
}

bool ResultsIndex::outdated_index(const fs::path& db) {
  std::set<std::string> have, tables;
  {
    Statement t(db_, "SELECT name FROM sqlite_master WHERE type = 'table'");
    while (sqlite3_step(t.s) == SQLITE_ROW) tables.insert(column_text(t.s, 0));
    Statement info(db_, "PRAGMA table_info(runs)");
    while (sqlite3_step(info.s) == SQLITE_ROW) have.insert(column_text(info.s, 1));
  }
  if (!tables.count("metrics") || !have.count("dir") || !have.count("status")) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::invalid_argument(db.string() +
                                ": not an index (no gradscope runs and metrics tables; valid: an "
                                "index.sqlite that gradscope wrote)");
  }
  for (const auto& [name, type] : run_columns())
    if (!have.count(name)) return true;
  return false;
}

void ResultsIndex::create_tables() {
  // Switching a new database to WAL takes an exclusive lock without waiting on the busy handler:
  // when several processes create the index at once (shards starting together), retry.
  for (int attempt = 0;; ++attempt) {
    const int rc = sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) break;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt >= 600)
      exec("PRAGMA journal_mode=WAL");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  exec("PRAGMA synchronous=NORMAL");
  exec("BEGIN IMMEDIATE");
  try {
    std::string cols;
    for (const auto& [name, type] : run_columns())
      cols += (cols.empty() ? "" : ", ") + quote(name) + " " + type;
    exec("CREATE TABLE IF NOT EXISTS runs (" + cols + ")");
    exec(
        "CREATE TABLE IF NOT EXISTS metrics (run TEXT NOT NULL, step INTEGER NOT NULL, "
        "key TEXT NOT NULL, value REAL, PRIMARY KEY (run, step, key))");
    // An index written by an older gradscope may lack newer config keys: add them. Its runs
    // were made before the key existed, so they ran at its default (config.h: a key's default
    // is what the versions before it did), which their rows get.
    std::set<std::string> have;
    {
      Statement info(db_, "PRAGMA table_info(runs)");
      while (sqlite3_step(info.s) == SQLITE_ROW) have.insert(column_text(info.s, 1));
    }
    for (const auto& [name, type] : run_columns()) {
      if (have.count(name)) continue;
      exec("ALTER TABLE runs ADD COLUMN " + quote(name) + " " + type);
      if (const KeySpec* key = Config::find(name); key && name != "name") {
        Statement fill(db_, "UPDATE runs SET " + quote(name) + " = ?");
        bind(fill, 1, key->default_value);
        step_done(db_, fill);
      }
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

ResultsIndex::~ResultsIndex() {
  sqlite3_close(db_);
}

void ResultsIndex::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error("SQLite: " + msg + " in: " + sql.substr(0, 120));
  }
}

void ResultsIndex::add_run(const fs::path& run_dir, const std::string& sweep) {
  // Read everything first: a corrupt directory throws before the database is touched.
  const fs::path dir = fs::absolute(run_dir).lexically_normal();
  if (!rundir::is_run_dir(dir))
    throw std::runtime_error(rundir::config_file(dir).string() + ": missing (not a run directory)");
  const Config cfg = read_run_config(dir);
  const std::optional<Summary> summary = read_summary(dir);
  const std::vector<MetricsRow> rows =
      fs::exists(rundir::metrics_jsonl(dir)) ? read_metrics(dir) : std::vector<MetricsRow>{};
  const std::string rel = key_of(dir);

  std::vector<std::pair<std::string, std::string>> cols = run_columns();
  std::string names, marks;
  for (size_t i = 0; i < cols.size(); ++i) {
    names += (i ? ", " : "") + quote(cols[i].first);
    marks += i ? ", ?" : "?";
  }
  exec("BEGIN IMMEDIATE");
  try {
    Statement del_run(db_, "DELETE FROM runs WHERE dir = ?");
    sqlite3_bind_text(del_run.s, 1, rel.c_str(), -1, SQLITE_TRANSIENT);
    step_done(db_, del_run);
    Statement del_metrics(db_, "DELETE FROM metrics WHERE run = ?");
    sqlite3_bind_text(del_metrics.s, 1, rel.c_str(), -1, SQLITE_TRANSIENT);
    step_done(db_, del_metrics);

    Statement ins(db_, "INSERT INTO runs (" + names + ") VALUES (" + marks + ")");
    int i = 1;
    sqlite3_bind_text(ins.s, i++, rel.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins.s, i++, config_hash(cfg).c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins.s, i++, cfg.string("name").c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins.s, i++, sweep.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins.s, i++, status_of(dir, summary).c_str(), -1, SQLITE_TRANSIENT);
    const bool has = summary.has_value();
    bind_json(ins, i++,
              has && !summary->message.empty() ? nlohmann::json(summary->message) : nullptr);
    bind_json(ins, i++, has && summary->classification ? nlohmann::json(summary->regime) : nullptr);
    bind_json(ins, i++, has ? nlohmann::json(summary->wall_time_s) : nullptr);
    bind_json(ins, i++, has ? nlohmann::json(summary->steps_per_s) : nullptr);
    const std::optional<int64_t> none;
    // Without a summary (running, incomplete), steps_done is the last logged step.
    const std::optional<int64_t> steps_done = has ? std::optional<int64_t>(summary->steps_done)
                                              : rows.empty()
                                                  ? none
                                                  : std::optional<int64_t>(rows.back().step());
    for (const std::optional<int64_t>& v :
         {has ? summary->memorized_step : none, has ? summary->generalized_step : none,
          has ? summary->grokking_delay : none, steps_done, has ? summary->n_params : none})
      bind_json(ins, i++, v ? nlohmann::json(*v) : nlohmann::json(nullptr));
    for (const auto& k : kFinal) {
      const double v = rows.empty() ? NAN : rows.back().get(k);
      if (std::isfinite(v))
        sqlite3_bind_double(ins.s, i, v);
      else
        sqlite3_bind_null(ins.s, i);
      ++i;
    }
    for (const KeySpec& s : Config::schema())
      if (s.key != "name") bind(ins, i++, cfg.value(s.key));
    step_done(db_, ins);

    Statement m(db_, "INSERT OR REPLACE INTO metrics (run, step, key, value) VALUES (?, ?, ?, ?)");
    for (const MetricsRow& r : rows)
      for (const auto& [k, v] : r.values) {
        if (k == "step") continue;
        sqlite3_bind_text(m.s, 1, rel.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(m.s, 2, r.step());
        sqlite3_bind_text(m.s, 3, k.c_str(), -1, SQLITE_TRANSIENT);
        if (std::isfinite(v))
          sqlite3_bind_double(m.s, 4, v);
        else
          sqlite3_bind_null(m.s, 4);
        step_done(db_, m);
      }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::string ResultsIndex::key_of(const fs::path& run_dir) const {
  const fs::path dir = fs::absolute(run_dir).lexically_normal();
  std::string rel = fs::relative(dir, root_).generic_string();
  if (rel.empty() || rel.rfind("..", 0) == 0) rel = dir.generic_string();
  return rel;
}

bool ResultsIndex::has_run(const fs::path& run_dir) {
  Statement st(db_, "SELECT 1 FROM runs WHERE dir = ?");
  const std::string key = key_of(run_dir);
  sqlite3_bind_text(st.s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  return sqlite3_step(st.s) == SQLITE_ROW;
}

namespace {

// One filter, KEY OP VALUE, checked against its column: its SQL condition (with one ?) into
// `where`, the value to bind into `text` or `number`.
struct Filter {
  std::string condition;
  bool is_text = false;
  std::string text;
  double number = 0;
};

// A text filter's value as the index stores it: a list-valued config key's value read in the
// override grammar and written as add_run binds it ("30,70" -> "[30.0, 70.0]"), else as given.
std::string stored_text(const std::string& key, const std::string& value) {
  const KeySpec* spec = Config::find(key);
  if (!spec ||
      !(spec->string_or_list || std::holds_alternative<std::vector<double>>(spec->default_value)))
    return value;
  try {
    const ConfigValue v = parse_value(*spec, value);
    return std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : value_to_string(v);
  } catch (const ConfigError& e) {
    throw std::invalid_argument(std::string("filter: ") + e.what());
  }
}

Filter parse_filter(const std::string& f) {
  const std::map<std::string, ColumnKind>& kinds = column_kinds();
  size_t at = std::string::npos, len = 0;
  for (const char* op : {"!=", "<=", ">=", "=", "<", ">"}) {
    const size_t p = f.find(op);
    if (p != std::string::npos && p > 0 && (at == std::string::npos || p < at))
      at = p, len = std::string(op).size();
  }
  const std::string how =
      "(valid: key=value, also !=, <, >, <=, >=, e.g. "
      "optim.weight_decay=0.3 or regime=grokking)";
  if (at == std::string::npos) throw std::invalid_argument("filter '" + f + "' is not " + how);
  const std::string key = f.substr(0, at), op = f.substr(at, len), value = f.substr(at + len);
  const auto kind = kinds.find(key);
  if (kind == kinds.end())
    throw std::invalid_argument("filter '" + f + "': no column " + key +
                                " (valid: a config key such as optim.weight_decay, or name, "
                                "sweep, status, regime, memorized_step, generalized_step, "
                                "final_test_acc, ...)");
  if (!value.empty() && std::string("=<>!").find(value[0]) != std::string::npos)
    throw std::invalid_argument("filter '" + f + "': one operator " + how);
  const ColumnKind& k = kind->second;
  Filter out;
  // != keeps the runs without a value (NULL), which = and the orderings never match.
  out.condition = quote(key) + " " + op + " ?";
  if (op == "!=") out.condition = "(" + quote(key) + " IS NULL OR " + out.condition + ")";
  if (k.text) {
    if (op != "=" && op != "!=")
      throw std::invalid_argument("filter '" + f + "': " + key + " is text (valid: = or !=)");
    if (!k.valid.empty() && std::find(k.valid.begin(), k.valid.end(), value) == k.valid.end())
      throw std::invalid_argument(fmt::format("filter '{}': {} is not a {} (valid: {})", f, value,
                                              key, fmt::join(k.valid, ", ")));
    out.is_text = true;
    out.text = stored_text(key, value);
    return out;
  }
  if (k.boolean && (value == "true" || value == "false")) {
    out.number = value == "true" ? 1 : 0;
    return out;
  }
  if (!is_number(value))
    throw std::invalid_argument(
        "filter '" + f + "': " + key + " is a number (valid: " +
        (k.boolean ? "true or false" : "a number, e.g. " + key + op + "0.5") + ")");
  out.number = std::strtod(value.c_str(), nullptr);
  return out;
}

// The rows of `runs` where every filter holds, ordered by dir; columns receives the names.
std::vector<std::vector<std::string>> rows_where(sqlite3* db, const std::vector<Filter>& filters,
                                                 std::vector<std::string>& columns) {
  std::string where;
  for (const Filter& f : filters) where += (where.empty() ? " WHERE " : " AND ") + f.condition;
  Statement st(db, "SELECT * FROM runs" + where + " ORDER BY dir");
  for (size_t i = 0; i < filters.size(); ++i) {
    if (filters[i].is_text)
      sqlite3_bind_text(st.s, static_cast<int>(i + 1), filters[i].text.c_str(), -1,
                        SQLITE_TRANSIENT);
    else
      sqlite3_bind_double(st.s, static_cast<int>(i + 1), filters[i].number);
  }
  columns.clear();
  for (int c = 0; c < sqlite3_column_count(st.s); ++c)
    columns.push_back(sqlite3_column_name(st.s, c));
  std::vector<std::vector<std::string>> out;
  while (sqlite3_step(st.s) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(st.s); ++c) row.push_back(column_text(st.s, c));
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

std::vector<std::vector<std::string>> ResultsIndex::select(const std::vector<std::string>& filters,
                                                           std::vector<std::string>& columns) {
  std::vector<Filter> parsed;
  for (const std::string& f : filters) parsed.push_back(parse_filter(f));
  return rows_where(db_, parsed, columns);
}

std::vector<std::vector<std::string>> ResultsIndex::select_sweep(
    const std::string& sweep, std::vector<std::string>& columns) {
  return rows_where(db_, {Filter{quote("sweep") + " = ?", true, sweep, 0}}, columns);
}

bool ResultsIndex::has_metric(const std::string& metric) {
  Statement st(db_, "SELECT 1 FROM metrics WHERE key = ? LIMIT 1");
  sqlite3_bind_text(st.s, 1, metric.c_str(), -1, SQLITE_TRANSIENT);
  return sqlite3_step(st.s) == SQLITE_ROW;
}

std::optional<double> ResultsIndex::final_metric(const std::string& dir,
                                                 const std::string& metric) {
  Statement st(db_,
               "SELECT value FROM metrics WHERE run = ? AND key = ? ORDER BY step DESC LIMIT 1");
  sqlite3_bind_text(st.s, 1, dir.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, metric.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_ROW || sqlite3_column_type(st.s, 0) == SQLITE_NULL)
    return std::nullopt;
  return sqlite3_column_double(st.s, 0);
}

std::string ResultsIndex::export_csv() {
  std::vector<std::string> columns;
  const auto rows = select({}, columns);
  std::string out = csv_line(columns);
  for (const auto& r : rows) out += csv_line(r);
  return out;
}

int64_t ResultsIndex::count(const std::string& table) {
  Statement st(db_, "SELECT COUNT(*) FROM " + quote(table));
  return sqlite3_step(st.s) == SQLITE_ROW ? sqlite3_column_int64(st.s, 0) : 0;
}

int64_t rebuild_index(const fs::path& root, const fs::path& db, std::vector<std::string>& skipped) {
  if (!fs::is_directory(root)) throw std::invalid_argument(root.string() + ": no such directory");
  const fs::path tmp = db.string() + ".rebuild";
  std::error_code gone;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(tmp.string() + suffix, gone);
  if (::access(fs::absolute(db).parent_path().c_str(), W_OK) != 0)
    throw std::runtime_error(write_error(db, errno));
  int64_t n = 0;
  {
    ResultsIndex index(tmp);
    std::vector<fs::path> dirs;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (it->is_directory() && it.depth() < 3 && rundir::is_run_dir(it->path())) {
        dirs.push_back(it->path());
        it.disable_recursion_pending();  // a run directory holds no runs
      }
      if (it->is_directory() && it->path() == rundir::checkpoints_dir(it->path().parent_path()))
        it.disable_recursion_pending();
    }
    std::sort(dirs.begin(), dirs.end());
    for (const fs::path& d : dirs) {
      try {
        const fs::path parent = d.parent_path();
        index.add_run(d, rundir::is_sweep_dir(parent) ? parent.filename().string() : "");
        ++n;
      } catch (const std::exception& e) {
        skipped.push_back(d.string() + ": " + e.what());
      }
    }
  }
  fs::rename(tmp, db);
  for (const char* suffix : {"-wal", "-shm"})
    fs::remove(db.string() + suffix), fs::remove(tmp.string() + suffix);
  return n;
}

void add_to_index(const std::filesystem::path& run_dir, const std::string& index) {
  if (!rundir::is_run_dir(run_dir)) return;
  const std::filesystem::path db =
      index.empty() ? default_index_path(run_dir) : std::filesystem::path(index);
  try {
    const std::filesystem::path parent =
        std::filesystem::absolute(run_dir).lexically_normal().parent_path();
    ResultsIndex(db).add_run(run_dir,
                             rundir::is_sweep_dir(parent) ? parent.filename().string() : "");
  } catch (const std::exception& e) {
    fmt::print(stderr, "gradscope: warning: the run was not added to {}: {}\n", db.string(),
               e.what());
  }
}

}  // namespace gradscope
