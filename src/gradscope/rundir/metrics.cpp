// The metrics log: see metrics.h.
#include "gradscope/rundir/metrics.h"

#include <fmt/core.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

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

std::vector<MetricsRow> read_metrics(const std::filesystem::path& dir) {
  const std::filesystem::path path = rundir::metrics_jsonl(dir);
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot read");
  std::vector<MetricsRow> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::ordered_json j;
    try {
      j = nlohmann::ordered_json::parse(line);
    } catch (const nlohmann::json::exception&) {
      if (in.peek() == EOF) break;  // a line torn by a crash: the run resumes before it
      throw std::runtime_error(path.string() + ": malformed line " +
                               std::to_string(rows.size() + 1));
    }
    MetricsRow row;
    for (auto& [k, v] : j.items())
      row.values.emplace_back(k, v.is_number() ? v.get<double>() : NAN);
    if (!row.values.empty() && row.values.front().first == "step") rows.push_back(std::move(row));
  }
  return rows;
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
}  // namespace

MetricsLog::MetricsLog(const std::filesystem::path& dir, int64_t keep_before) : dir_(dir) {
  if (keep_before >= 0 && std::filesystem::exists(rundir::metrics_jsonl(dir))) {
    for (MetricsRow& r : read_metrics(dir))
      if (r.step() < keep_before) rows_.push_back(std::move(r));
  }
  // Rewrite both files with the kept rows (atomically), then append from there.
  std::string json, csv;
  for (size_t i = 0; i < rows_.size(); ++i) {
    const RowText t = format_row(rows_[i]);
    json += t.json;
    csv += (i == 0 ? t.header : "") + t.csv;
  }
  write_file_atomic(rundir::metrics_jsonl(dir), json);
  write_file_atomic(rundir::metrics_csv(dir), csv);
  jsonl_ = std::fopen(rundir::metrics_jsonl(dir).c_str(), "ab");
  csv_ = std::fopen(rundir::metrics_csv(dir).c_str(), "ab");
  if (!jsonl_ || !csv_)
    throw std::runtime_error("cannot append to " + rundir::metrics_jsonl(dir).string());
}

MetricsLog::~MetricsLog() {
  if (jsonl_) std::fclose(jsonl_);
  if (csv_) std::fclose(csv_);
}

void MetricsLog::append(const MetricsRow& row) {
  const RowText t = format_row(row);
  std::fputs(t.json.c_str(), jsonl_);
  if (rows_.empty()) std::fputs(t.header.c_str(), csv_);
  std::fputs(t.csv.c_str(), csv_);
  std::fflush(jsonl_);
  std::fflush(csv_);
  rows_.push_back(row);
}

}  // namespace gradscope
