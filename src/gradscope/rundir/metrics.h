// The metrics log of a run directory: metrics.jsonl and metrics.csv, one row per log step, the
// same columns in the same order (the first row fixes them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gradscope {

// One log step: named values in a fixed column order.
struct MetricsRow {
  std::vector<std::pair<std::string, double>> values;  // "step" first
  double get(const std::string& key) const;            // NaN when absent
  int64_t step() const { return static_cast<int64_t>(values.front().second); }
};

class MetricsLog {
 public:
  // Opens the run's metrics files for appending. With keep_before >= 0 (resume), existing rows
  // with step < keep_before are kept (and loaded) and the rest dropped; with -1 the files start
  // empty.
  MetricsLog(const std::filesystem::path& run_dir, int64_t keep_before);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // Writes the row to both files. When a write fails (a full disk), both files are cut back to
  // their previous rows and std::runtime_error names the file and the reason. A row with other
  // columns than the file's (a resume by a build that logs new ones) widens the file: every row
  // gets the row's columns and then the old ones it lacks, NaN (null) where a row has no value.
  void append(const MetricsRow& row);
  const std::vector<MetricsRow>& rows() const { return rows_; }

 private:
  void rewrite();
  MetricsRow fit_columns(const MetricsRow& row);

  std::filesystem::path dir_;
  int jsonl_ = -1, csv_ = -1;  // file descriptors, opened for appending
  std::vector<MetricsRow> rows_;
  std::vector<std::string> columns_;  // the files' columns (empty before the first row)
};

// Reads a run's metrics.jsonl (skipping a torn last line). Throws std::runtime_error naming the
// file.
std::vector<MetricsRow> read_metrics(const std::filesystem::path& run_dir);

// metrics.jsonl as one table: the first row's columns, and every row's values in that order
// (NaN where a row lacks a column or has null). Throws like read_metrics.
struct MetricsTable {
  std::vector<std::string> columns;
  std::vector<double> values;  // [rows, columns]
  int64_t rows = 0;
};
MetricsTable read_metrics_table(const std::filesystem::path& run_dir);

// Formats a double so that it reads back to the same bits (null for NaN/inf in JSON).
std::string json_number(double v);

}  // namespace gradscope
