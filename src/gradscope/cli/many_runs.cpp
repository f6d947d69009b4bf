// The many-runs subcommands: see commands.h.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>

#include "commands.h"
#include "gradscope/index/results_index.h"
#include "gradscope/report/phase_diagram.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/sweep/runner.h"

namespace gradscope::cli {

namespace fs = std::filesystem;

std::string self_executable() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("gradscope") : p.string();
}

int sweep(const SweepArgs& a) {
  Config base;
  const SweepSpec spec = read_sweep(a.experiment, a.arguments, base);
  const std::vector<SweepRun> runs = expand_sweep(base, spec);  // every error before any run
  if (a.slurm_script) {
    const int64_t tasks =
        a.tasks > 0 ? a.tasks : std::min<int64_t>(static_cast<int64_t>(runs.size()), 16);
    fs::create_directories(fs::path(a.root) / "slurm-logs");
    fmt::print("{}", slurm_script(a.experiment, a.arguments, base, runs.size(), tasks, a.cpus,
                                  self_executable()));
    return 0;
  }
  SweepOptions o;
  o.root = a.root;
  o.threads = a.threads;
  o.device = a.device;
  o.executable = self_executable();
  o.live = ::isatty(STDOUT_FILENO) != 0;
  Shard shard;
  if (!a.shard.empty()) {
    shard = parse_shard(a.shard);
  } else {
    shard_from_slurm(shard);
  }
  o.shard = shard.index;
  o.shards = shard.count;
  o.jobs = a.jobs;
  if (o.jobs <= 0) {
    const char* cpus = std::getenv("SLURM_CPUS_PER_TASK");
    o.jobs = cpus && std::atoi(cpus) > 0 ? std::atoi(cpus) : 1;
  }
  return run_sweep(base, spec, o);
}

int index_rebuild(const std::string& root) {
  std::vector<std::string> skipped;
  const fs::path db = rundir::index_file(root);
  const int64_t n = rebuild_index(root, db, skipped);
  for (const std::string& s : skipped) fmt::print(stderr, "gradscope: skipped {}\n", s);
  fmt::print("indexed {} runs into {}{}\n", n, db.string(),
             skipped.empty() ? "" : fmt::format(" ({} skipped)", skipped.size()));
  return 0;
}

namespace {
fs::path index_or_default(const std::string& index) {
  const fs::path db = index.empty() ? rundir::index_file("runs") : fs::path(index);
  if (!fs::exists(db))
    throw std::invalid_argument(db.string() +
                                ": no index (runs add themselves when they end; `gradscope index "
                                "rebuild` makes one from the run directories)");
  return db;
}
}  // namespace

int ls(const std::vector<std::string>& filters, const std::string& index) {
  ResultsIndex db(index_or_default(index), IndexAccess::read);
  std::vector<std::string> columns;
  const auto rows = db.select(filters, columns);
  // Show the identity and phase columns, and the config keys that differ between the runs.
  std::vector<size_t> show;
  for (const char* c : {"dir", "status", "regime", "memorized_step", "generalized_step",
                        "final_test_acc", "final_test_loss"})
    for (size_t i = 0; i < columns.size(); ++i)
      if (columns[i] == c) show.push_back(i);
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].find('.') == std::string::npos || columns[i] == "name") continue;
    std::set<std::string> distinct;
    for (const auto& r : rows) distinct.insert(r[i]);
    if (distinct.size() > 1) show.push_back(i);
  }
  std::vector<size_t> width(show.size());
  for (size_t k = 0; k < show.size(); ++k) {
    width[k] = columns[show[k]].size();
    for (const auto& r : rows) width[k] = std::max(width[k], r[show[k]].size());
  }
  auto line = [&](auto&& cell) {
    std::string s;
    for (size_t k = 0; k < show.size(); ++k) s += fmt::format("{:<{}}  ", cell(show[k]), width[k]);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    fmt::print("{}\n", s);
  };
  line([&](size_t i) { return columns[i]; });
  for (const auto& r : rows) line([&](size_t i) { return r[i]; });
  fmt::print("{} runs\n", rows.size());
  return 0;
}

int export_csv(const std::string& index, const std::string& out) {
  ResultsIndex db(index_or_default(index), IndexAccess::read);
  const std::string csv = db.export_csv();
  if (out.empty() || out == "-") {
    fmt::print("{}", csv);
  } else {
    std::ofstream(out) << csv;
    fmt::print(stderr, "wrote {}\n", out);
  }
  return 0;
}

int phase_diagram(const std::string& sweep_dir, const std::string& x, const std::string& y,
                  const std::string& z, bool log_x, bool log_y, const std::string& out) {
  PhaseDiagramOptions o{x, y, z, log_x, log_y};
  const fs::path svg =
      out.empty() ? fs::path(sweep_dir) / fmt::format("phase_{}.svg", z) : fs::path(out);
  const std::string what = write_phase_diagram(sweep_dir, o, svg);
  fmt::print("wrote {}: {}\n", svg.string(), what);
  return 0;
}

int sweep_lines(const std::string& sweep_dir, const std::string& x, const std::string& y,
                const std::string& by, bool log_x, bool log_y, const std::string& out) {
  SweepLinesOptions o{x, {}, log_x, log_y, by};
  std::string name;
  for (size_t at = 0; at <= y.size();) {
    const size_t comma = std::min(y.find(',', at), y.size());
    o.y.push_back(y.substr(at, comma - at));
    name += (name.empty() ? "" : "+") + o.y.back();
    at = comma + 1;
  }
  const fs::path svg =
      out.empty() ? fs::path(sweep_dir) / fmt::format("lines_{}.svg", name) : fs::path(out);
  const std::string what = write_sweep_lines(sweep_dir, o, svg);
  fmt::print("wrote {}: {}\n", svg.string(), what);
  return 0;
}

}  // namespace gradscope::cli
