// The metrics log: see metrics.h.
#include "gradscope/rundir/metrics.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string_view>

#include "gradscope/rundir/csv.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"

namespace gradscope {

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  return fmt::format("{}", v);  // shortest representation that round-trips
}

double MetricsRow::get(const std::string& key) const {
  for (const auto& [k, v] : values)
    if (k == key) return v;
  return NAN;
}

namespace {

// One line of metrics.jsonl, {"key": number-or-null, ...}, as (key, value) pairs: a fast path
// for the flat form gradscope writes (keys without escapes, numbers read exactly by
// std::from_chars), and nlohmann's full parser for anything else. False when the line is not a
// JSON object.
bool parse_line(const std::string& line, std::vector<std::pair<std::string_view, double>>& out,
                nlohmann::ordered_json& scratch) {
  out.clear();
  const char* p = line.data();
  const char* end = p + line.size();
  auto skip = [&] {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) ++p;
  };
  bool flat = (skip(), p < end && *p++ == '{');
  while (flat) {
    skip();
    if (p < end && *p == '}' && out.empty()) break;
    const char* k = p + 1;
    if (p >= end || *p != '"') flat = false;
    const char* q = flat ? static_cast<const char*>(std::memchr(k, '"', end - k)) : nullptr;
    if (!q || std::find(k, q, '\\') != q) break;
    p = q + 1;
    skip();
    if (p >= end || *p++ != ':') break;
    skip();
    double v = NAN;
    if (end - p >= 4 && std::memcmp(p, "null", 4) == 0) {
      p += 4;
    } else {
      const auto r = std::from_chars(p, end, v);
      if (r.ec != std::errc()) break;
      p = r.ptr;
    }
    out.emplace_back(std::string_view(k, q - k), v);
    skip();
    if (p < end && *p == ',') {
      ++p;
      continue;
    }
    if (p < end && *p == '}') return (++p, skip(), p == end);
    break;
  }
  out.clear();  // not the flat form: the full parser decides
  try {
    scratch = nlohmann::ordered_json::parse(line);
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  if (!scratch.is_object()) return false;
  for (auto& [key, value] : scratch.items())
    out.emplace_back(key, value.is_number() ? value.get<double>() : NAN);
  return true;
}

// Calls on_row(pairs) for every row of the run's metrics.jsonl whose first key is "step",
// skipping a torn last line. Throws std::runtime_error naming the file and line.
template <class F>
void for_each_line(const std::filesystem::path& dir, F&& on_row) {
  const std::filesystem::path path = rundir::metrics_jsonl(dir);
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot read");
  std::vector<std::pair<std::string_view, double>> pairs;
  nlohmann::ordered_json scratch;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    if (!parse_line(line, pairs, scratch)) {
      if (in.peek() == EOF) break;  // a line torn by a crash: the run resumes before it
      throw std::runtime_error(path.string() + ": malformed line " + std::to_string(n));
    }
    if (!pairs.empty() && pairs.front().first == "step") on_row(pairs);
  }
}

}  // namespace

std::vector<MetricsRow> read_metrics(const std::filesystem::path& dir) {
  std::vector<MetricsRow> rows;
  for_each_line(dir, [&](const std::vector<std::pair<std::string_view, double>>& pairs) {
    MetricsRow row;
    row.values.reserve(pairs.size());
    for (const auto& [k, v] : pairs) row.values.emplace_back(std::string(k), v);
    rows.push_back(std::move(row));
  });
  return rows;
}

MetricsTable read_metrics_table(const std::filesystem::path& dir) {
  MetricsTable t;
  for_each_line(dir, [&](const std::vector<std::pair<std::string_view, double>>& pairs) {
    if (t.columns.empty())
      for (const auto& [k, v] : pairs) t.columns.emplace_back(k);
    const size_t c = t.columns.size(), at = t.values.size();
    t.values.resize(at + c, NAN);
    for (size_t j = 0; j < pairs.size(); ++j) {
      size_t col = j;  // the same position as in the first row, else found by name
      if (col >= c || t.columns[col] != pairs[j].first)
        col = std::find(t.columns.begin(), t.columns.end(), pairs[j].first) - t.columns.begin();
      if (col < c) t.values[at + col] = pairs[j].second;
    }
    ++t.rows;
  });
  return t;
}

namespace {
// The JSON Lines line, the CSV line and the CSV header of one row (each ending in a newline).
struct RowText {
  std::string json, csv, header;
};
RowText format_row(const MetricsRow& row) {
  RowText t{"{", "", ""};
  std::vector<std::string> names, cells;
  for (size_t i = 0; i < row.values.size(); ++i) {
    const auto& [k, v] = row.values[i];
    t.json += fmt::format("{}\"{}\":{}", i ? "," : "", k, json_number(v));
    names.push_back(k);
    cells.push_back(std::isfinite(v) ? fmt::format("{}", v)
                    : std::isnan(v)  ? "nan"
                    : v > 0          ? "inf"
                                     : "-inf");
  }
  t.json += "}\n";
  t.csv = csv_line(cells);
  t.header = csv_line(names);
  return t;
}

// The row with exactly `columns`, in their order (NaN for a column it lacks).
MetricsRow conformed(const MetricsRow& row, const std::vector<std::string>& columns) {
  MetricsRow out;
  out.values.reserve(columns.size());
  for (const std::string& c : columns) out.values.emplace_back(c, row.get(c));
  return out;
}

bool has_columns(const MetricsRow& row, const std::vector<std::string>& columns) {
  if (row.values.size() != columns.size()) return false;
  for (size_t i = 0; i < columns.size(); ++i)
    if (row.values[i].first != columns[i]) return false;
  return true;
}
}  // namespace

MetricsLog::MetricsLog(const std::filesystem::path& dir, int64_t keep_before) : dir_(dir) {
  if (keep_before >= 0 && std::filesystem::exists(rundir::metrics_jsonl(dir))) {
    for (MetricsRow& r : read_metrics(dir))
      if (r.step() < keep_before) rows_.push_back(std::move(r));
  }
  if (!rows_.empty())
    for (const auto& [name, value] : rows_.front().values) columns_.push_back(name);
  rewrite();
}

// Both files with the kept rows (atomically), opened for appending from there.
void MetricsLog::rewrite() {
  if (jsonl_ >= 0) ::close(jsonl_);
  if (csv_ >= 0) ::close(csv_);
  jsonl_ = csv_ = -1;
  std::string json, csv;
  for (size_t i = 0; i < rows_.size(); ++i) {
    const RowText t = format_row(rows_[i]);
    json += t.json;
    csv += (i == 0 ? t.header : "") + t.csv;
  }
  write_file_atomic(rundir::metrics_jsonl(dir_), json);
  write_file_atomic(rundir::metrics_csv(dir_), csv);
  jsonl_ = ::open(rundir::metrics_jsonl(dir_).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  csv_ = ::open(rundir::metrics_csv(dir_).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (jsonl_ < 0 || csv_ < 0) {
    const int error = errno;
    const std::filesystem::path failed =
        jsonl_ < 0 ? rundir::metrics_jsonl(dir_) : rundir::metrics_csv(dir_);
    if (jsonl_ >= 0) ::close(jsonl_);
    if (csv_ >= 0) ::close(csv_);
    jsonl_ = csv_ = -1;
    throw std::runtime_error(write_error(failed, error));
  }
}

// A row whose columns differ from the file's (a run resumed by a build that logs more): the
// file's columns become the row's, then any old ones it lacks; the kept rows are rewritten with
// NaN (null) where they lack one, so that every row keeps the same columns.
MetricsRow MetricsLog::fit_columns(const MetricsRow& row) {
  if (columns_.empty()) {
    for (const auto& [name, value] : row.values) columns_.push_back(name);
    return row;
  }
  if (has_columns(row, columns_)) return row;
  std::vector<std::string> wider;
  for (const auto& [name, value] : row.values) wider.push_back(name);
  for (const std::string& c : columns_)
    if (std::find(wider.begin(), wider.end(), c) == wider.end()) wider.push_back(c);
  if (wider.size() > columns_.size()) {
    columns_ = std::move(wider);
    for (MetricsRow& r : rows_) r = conformed(r, columns_);
    rewrite();
  }
  return conformed(row, columns_);
}

MetricsLog::~MetricsLog() {
  if (jsonl_ >= 0) ::close(jsonl_);
  if (csv_ >= 0) ::close(csv_);
}

namespace {
// Appends `text` to `fd`; on failure cuts the file back to `size` bytes and returns errno.
int append_whole(int fd, const std::string& text, off_t size) {
  for (size_t at = 0; at < text.size();) {
    const ssize_t n = ::write(fd, text.data() + at, text.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      if (::ftruncate(fd, size) != 0) return errno;
      return error;
    }
    at += static_cast<size_t>(n);
  }
  return 0;
}
off_t size_of(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw std::runtime_error(write_error(path, errno));
  return st.st_size;
}
}  // namespace

void MetricsLog::append(const MetricsRow& given) {
  const MetricsRow row = fit_columns(given);
  const RowText t = format_row(row);
  const off_t json_size = size_of(jsonl_, rundir::metrics_jsonl(dir_));
  const off_t csv_size = size_of(csv_, rundir::metrics_csv(dir_));
  if (const int error = append_whole(jsonl_, t.json, json_size))
    throw std::runtime_error(write_error(rundir::metrics_jsonl(dir_), error));
  if (const int error = append_whole(csv_, (rows_.empty() ? t.header : "") + t.csv, csv_size)) {
    [[maybe_unused]] const int cut = ::ftruncate(jsonl_, json_size);  // both files, or neither
    throw std::runtime_error(write_error(rundir::metrics_csv(dir_), error));
  }
  rows_.push_back(row);
}

}  // namespace gradscope
