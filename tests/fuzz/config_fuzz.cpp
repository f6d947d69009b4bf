// Fuzz target: experiment files, overrides and sweep specs (config/, sweep/sweep_spec.h). Input:
// TOML text, then optionally a line "%%" followed by override / sweep-axis arguments, one per
// line. Beyond "no crash", it checks the contract of config.toml: the resolved TOML of any config
// that was read reads back to the same config (a run's config.toml must always resume).
#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "fuzz_support.h"
#include "gradscope/config/config.h"
#include "gradscope/run/validate.h"
#include "gradscope/sweep/sweep_spec.h"

namespace {

void check_round_trip(const gradscope::Config& c) {
  const std::string text = c.to_toml();
  gradscope::Config back;
  try {
    back = gradscope::Config::from_string(text, "config.toml");
  } catch (const gradscope::ConfigError& e) {
    std::fprintf(stderr, "resolved TOML does not read back: %s\n", e.what());
    std::abort();
  }
  if (!back.diff(c).empty() || back.to_toml() != text) {
    std::fprintf(stderr, "resolved TOML reads back to another config (%s)\n",
                 back.diff(c).empty() ? "same values" : back.diff(c).front().c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = gradscope_fuzz::text(data, size);
  const size_t split = input.find("\n%%\n");
  const std::string toml = input.substr(0, split);
  std::vector<std::string> args;
  if (split != std::string::npos) {
    std::istringstream lines(input.substr(split + 4));
    for (std::string line; std::getline(lines, line);) args.push_back(line);
  }
  try {
    gradscope::Config c = gradscope::Config::from_string(toml, "fuzz.toml");
    check_round_trip(c);
    for (const std::string& a : args) {
      try {
        c.apply_override(a);
      } catch (const gradscope::ConfigError&) {
      }
    }
    check_round_trip(c);
    gradscope::validate_experiment(c);
    (void)gradscope::config_hash(c);
  } catch (const gradscope::ConfigError&) {
  }
  // The same text as a sweep: its axes, and the runs when there are few (expansion validates
  // each; a data file named by the input is not read).
  const auto file =
      gradscope_fuzz::write_input("sweep.toml", data, split == std::string::npos ? size : split);
  try {
    gradscope::Config base;
    const gradscope::SweepSpec spec = gradscope::read_sweep(file, args, base);
    (void)gradscope::describe_sweep(spec);
    int64_t runs = (spec.mode == "grid" ? 1 : std::min<int64_t>(spec.n, 17)) *
                   std::min<int64_t>(spec.seeds, 17);
    bool reads_files = base.string("task.name") == "arrays";
    for (const auto& axis : spec.axes) {
      if (spec.mode == "grid") runs *= std::min<int64_t>(axis.values.size(), 17);
      runs = std::min<int64_t>(runs, 17);
      reads_files = reads_files || axis.key.rfind("task.", 0) == 0;
    }
    if (runs <= 16 && !reads_files) (void)gradscope::expand_sweep(base, spec);
  } catch (const gradscope::ConfigError&) {
  }
  return 0;
}
