// A sweep's curves with its seeds aggregated (report/seed_curves.h).
#include "gradscope/report/seed_curves.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/report/phase_diagram.h"
#include "gradscope/report/svg.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"

namespace gradscope {

namespace fs = std::filesystem;

namespace {

struct SeedGroup {
  Config config;                   // of its first run
  std::vector<MetricsTable> runs;  // one per seed
};

// The sweep's runs with metrics, grouped by their config with the seed left out.
std::map<std::string, SeedGroup> seed_groups(const fs::path& sweep_dir) {
  std::map<std::string, SeedGroup> groups;
  for (const auto& e : fs::directory_iterator(sweep_dir)) {
    if (!rundir::is_run_dir(e.path()) || !fs::exists(rundir::metrics_jsonl(e.path()))) continue;
    Config c = read_run_config(e.path());
    Config key = c;
    key.set("seed", int64_t{0});
    auto [it, fresh] = groups.try_emplace(config_hash(key));
    if (fresh) it->second.config = c;
    it->second.runs.push_back(read_metrics_table(e.path()));
  }
  return groups;
}

// Config keys whose values differ between the groups (the seed aside): the legend's labels.
std::vector<std::string> varying_keys(const std::map<std::string, SeedGroup>& groups) {
  std::vector<std::string> keys;
  for (const KeySpec& s : Config::schema()) {
    if (s.key == "seed" || s.key == "name") continue;
    for (const auto& [id, g] : groups)
      if (g.config.value(s.key) != groups.begin()->second.config.value(s.key)) {
        keys.push_back(s.key);
        break;
      }
  }
  return keys;
}

// The values of `column` in the group's runs at the steps >= 1 every run logged (finite).
Spread group_spread(const SeedGroup& g, const std::string& column) {
  Spread at;
  for (const MetricsTable& t : g.runs) {
    const size_t n = t.columns.size();
    const size_t c = std::find(t.columns.begin(), t.columns.end(), column) - t.columns.begin();
    if (c == n) continue;
    for (int64_t r = 0; r < t.rows; ++r) {
      const double step = t.values[r * n], v = t.values[r * n + c];
      if (step >= 1 && std::isfinite(v)) at[step].push_back(v);
    }
  }
  std::erase_if(at, [&](const auto& e) { return e.second.size() != g.runs.size(); });
  return at;
}

std::string group_label(const SeedGroup& g, const std::vector<std::string>& keys) {
  std::string label;
  for (const std::string& k : keys)
    label += (label.empty() ? "" : ", ") + k + "=" + value_to_string(g.config.value(k));
  return (label.empty() ? g.config.string("name") : label) +
         fmt::format(" ({} seed{})", g.runs.size(), g.runs.size() == 1 ? "" : "s");
}

}  // namespace

std::string write_seed_curves(const fs::path& sweep_dir, const fs::path& svg) {
  if (!rundir::is_sweep_dir(sweep_dir))
    throw std::invalid_argument(sweep_dir.string() + ": not a sweep directory (no " +
                                rundir::sweep_manifest(sweep_dir).filename().string() + ")");
  const auto groups = seed_groups(sweep_dir);
  if (groups.empty())
    throw std::invalid_argument(sweep_dir.string() + ": no run of the sweep has metrics yet");
  const std::vector<std::string> keys = varying_keys(groups);
  std::vector<Series> loss, acc;
  std::vector<std::pair<double, double>> all_loss;
  double xmax = 10;
  size_t i = 0, seeds = 0;
  for (const auto& [id, g] : groups) {
    const std::string label = group_label(g, keys);
    for (Series& s : spread_series(group_spread(g, "test_loss"), label, palette(i), true, true)) {
      for (const auto& p : s.points) all_loss.push_back(p), xmax = std::max(xmax, p.first);
      loss.push_back(std::move(s));
    }
    for (Series& s : spread_series(group_spread(g, "test_acc"), label, palette(i), true, false))
      acc.push_back(std::move(s));
    ++i;
    seeds += g.runs.size();
  }
  if (all_loss.empty())
    throw std::invalid_argument(sweep_dir.string() + ": its runs logged no test_loss after step 0");
  const Axis ax{1.0, std::pow(10.0, std::ceil(std::log10(xmax))), true};
  std::string out = panel(90, 70, 420, 320, ax, log_axis(all_loss), loss,
                          "test loss: mean over seeds, min and max dashed", "loss", "step", false);
  out += panel(630, 70, 420, 320, ax, {0.0, 1.0, false}, acc,
               "test accuracy: mean over seeds, min and max dashed", "accuracy", "step", false);
  out += legend_box(90, 430, loss);
  const double h = 470 + 22.0 * static_cast<double>(groups.size());
  write_file_atomic(svg, svg_document(1100, h, sweep_dir.filename().string(), out));
  return fmt::format("{} groups of runs that differ only in seed ({} runs) -> {}", groups.size(),
                     seeds, svg.string());
}

}  // namespace gradscope
