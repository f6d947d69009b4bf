// Fuzz target: the run directory's text readers: metrics.jsonl (the resume reader and the table
// reader of the Python module) and summary.json. Input: the file's bytes; its first byte picks
// the file.
#include <stdexcept>

#include "fuzz_support.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/summary_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto run = gradscope_fuzz::scratch() / "run";
  std::filesystem::create_directories(run);
  std::filesystem::remove(run / "metrics.jsonl");
  std::filesystem::remove(run / "summary.json");
  if (data[0] % 2 == 0) {
    gradscope_fuzz::write_input("run/metrics.jsonl", data + 1, size - 1);
    try {
      (void)gradscope::read_metrics(run);
    } catch (const std::runtime_error&) {
    }
    try {
      (void)gradscope::read_metrics_table(run);
    } catch (const std::runtime_error&) {
    }
  } else {
    gradscope_fuzz::write_input("run/summary.json", data + 1, size - 1);
    try {
      (void)gradscope::read_summary(run);
    } catch (const std::runtime_error&) {
    }
  }
  return 0;
}
