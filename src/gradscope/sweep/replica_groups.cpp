// Replica groups of a sweep: see replica_groups.h.
#include "gradscope/sweep/replica_groups.h"

#include <fmt/core.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "gradscope/index/results_index.h"
#include "gradscope/run/replicas.h"
#include "gradscope/run/trainer.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_state.h"
#include "gradscope/sweep/runner.h"

namespace gradscope {

namespace fs = std::filesystem;

std::string replica_group_key(const Config& config) {
  Config c = config;
  for (const KeySpec& k : Config::schema())
    if (k.replica_safe) c.set(k.key, k.default_value);
  if (config.real("optim.weight_norm") != 0) c.set("optim.weight_norm", 1.0);  // on, any value
  return config_hash(c);
}

std::vector<std::vector<size_t>> replica_groups(const std::vector<SweepRun>& runs, int64_t k) {
  std::vector<std::vector<size_t>> groups;
  std::map<std::string, size_t> open;  // group key -> its group that still has room
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string key = k > 1 ? replica_group_key(runs[i].config) : runs[i].id;
    const auto g = open.find(key);
    if (k > 1 && g != open.end() && static_cast<int64_t>(groups[g->second].size()) < k) {
      groups[g->second].push_back(i);
      continue;
    }
    open[key] = groups.size();
    groups.push_back({i});
  }
  return groups;
}

namespace {

// Closes a log file opened for a replica.
struct CloseFile {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};

// How replica `id` of the sweep starts: resumed where an interrupted group left checkpoints of
// this point, else fresh from the sweep's config of it (replacing what the directory holds);
// nullopt when the point's run is complete (as gradscope sweep skips it).
std::optional<ReplicaRun> replica_of(const fs::path& sweep_dir, const std::string& id,
                                     const ReplicaGroupOptions& o, std::FILE* log) {
  const fs::path file = rundir::sweep_config(sweep_dir, id);
  if (!fs::exists(file))
    throw ConfigError(
        fmt::format("{}: no run {} in this sweep (no {})", sweep_dir.string(), id, file.string()));
  std::vector<std::string> overrides;
  if (!o.device.empty()) overrides.push_back("device=" + o.device);
  ReplicaRun r;
  r.options.dir = sweep_dir / id;
  r.options.version_header = o.version_header;
  r.options.out = r.options.err = log;
  const Config point = experiment_config(Config::from_file(file), overrides, file.string());
  const RunState state = inspect_run(r.options.dir).state;
  if (state == RunState::complete && holds_sweep_point(r.options.dir, id, point))
    return std::nullopt;
  if (state == RunState::resumable && holds_sweep_point(r.options.dir, id, point)) {
    r.options.resume = true;
    r.config = resume_config(r.options.dir, overrides);
  } else {
    r.options.force = true;
    r.config = point;
  }
  return r;
}

}  // namespace

int run_replica_group(const fs::path& sweep_dir, const std::vector<std::string>& ids,
                      const ReplicaGroupOptions& o) {
  if (!rundir::is_sweep_dir(sweep_dir))
    throw ConfigError(sweep_dir.string() +
                      ": not a sweep directory (no sweep.json; valid: the "
                      "runs/<name> folder of a gradscope sweep)");
  std::set<std::string> seen;
  for (const std::string& id : ids)
    if (!seen.insert(id).second)
      throw ConfigError("run " + id + " is listed twice (each run once in a group)");
  std::vector<std::unique_ptr<std::FILE, CloseFile>> logs;
  std::vector<ReplicaRun> group;
  std::vector<std::string> members;  // the ids that train: complete runs are skipped
  for (const std::string& id : ids) {
    const fs::path log = rundir::sweep_log(sweep_dir, id);
    logs.emplace_back(std::fopen(log.c_str(), "a"));
    if (!logs.back()) throw std::runtime_error(log.string() + ": cannot open for writing");
    std::optional<ReplicaRun> r = replica_of(sweep_dir, id, o, logs.back().get());
    if (!r) {  // as the sweep's own skip: indexed, and an exit line the parent reads as done
      add_to_index(sweep_dir / id);
      fmt::print("{}: exit 0 (complete, skipped)\n", id);
      continue;
    }
    group.push_back(std::move(*r));
    members.push_back(id);
  }
  if (group.empty()) return 0;
  fmt::print("gradscope replicas: {} runs of {} as one group on {} threads\n", group.size(),
             sweep_dir.string(), o.threads);
  std::fflush(stdout);
  std::string stacked;
  const std::vector<int> status = run_replicas(
      group, o.threads,
      [&](size_t i, int code) {
        if (fs::exists(rundir::summary_file(group[i].options.dir)))
          add_to_index(group[i].options.dir);
        fmt::print("{}: exit {}\n", members[i], code);
        std::fflush(stdout);
      },
      &stacked);
  if (!stacked.empty()) fmt::print("gradscope replicas: {}\n", stacked);
  int code = 0;
  for (int s : status)
    if (s != 0) code = (s == 130 && (code == 0 || code == 130)) ? 130 : 1;
  return code;
}

}  // namespace gradscope
