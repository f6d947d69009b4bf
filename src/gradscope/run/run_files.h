// Files of a run directory that are written as the run goes: atomic whole-file writes and the
// metrics log (metrics.jsonl and metrics.csv, one row per log step, same columns).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gradscope {

// Writes `content` to a temporary file beside `path`, fsyncs it, renames it over `path` and
// fsyncs the directory: readers see the old file or the new one, never a mix.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);
// Same, for a binary payload produced by `write` into an open FILE*.
template <class F>
void write_binary_atomic(const std::filesystem::path& path, F&& write);

// One log step: named values in a fixed column order (the first row fixes the columns).
struct MetricsRow {
  std::vector<std::pair<std::string, double>> values;  // "step" first
  double get(const std::string& key) const;            // NaN when absent
  int64_t step() const { return static_cast<int64_t>(values.front().second); }
};

class MetricsLog {
 public:
  // Opens dir/metrics.jsonl and dir/metrics.csv for appending. With keep_before >= 0 (resume),
  // existing rows with step < keep_before are kept (and loaded) and the rest dropped; with -1
  // the files start empty.
  MetricsLog(const std::filesystem::path& dir, int64_t keep_before);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  void append(const MetricsRow& row);  // writes and flushes both files
  const std::vector<MetricsRow>& rows() const { return rows_; }

 private:
  std::filesystem::path dir_;
  std::FILE* jsonl_ = nullptr;
  std::FILE* csv_ = nullptr;
  std::vector<MetricsRow> rows_;
};

// The whole file as bytes. Throws std::runtime_error naming the file when it cannot be read.
std::string read_file(const std::filesystem::path& path);

// Reads metrics.jsonl (skipping a torn last line). Throws std::runtime_error naming the file.
std::vector<MetricsRow> read_metrics(const std::filesystem::path& dir);

// Formats a double so that it reads back to the same bits (null for NaN/inf in JSON).
std::string json_number(double v);

}  // namespace gradscope

#include "gradscope/run/run_files_impl.h"
