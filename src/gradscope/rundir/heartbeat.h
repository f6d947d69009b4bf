// The heartbeat of a training run: a small JSON file (heartbeat.json) that says who trains the
// run and how far it is, rewritten every few seconds while it trains and removed when it stops.
// Viewers read progress and ETA from it (metrics.jsonl holds no wall-clock values); a crash leaves
// it behind, and its pid (same host) or its age (another host) tells that the run is gone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace gradscope {

struct Heartbeat {
  std::string host;
  int64_t pid = 0;
  int64_t step = 0, steps = 0;  // the current step of a budget of `steps`
  double steps_per_s = 0;
  double wall_time_s = 0;  // training time so far, earlier sessions of the run included
  double updated = 0;      // Unix time of this write, in seconds
};

// Seconds after which another host's heartbeat counts as gone.
inline constexpr double kHeartbeatStaleAfter = 60;

std::string this_host();  // gethostname(), or "unknown"
double unix_time_now();   // seconds

// This process's host name and pid, the time now.
Heartbeat heartbeat_now(int64_t step, int64_t steps, double steps_per_s, double wall_time_s);
void write_heartbeat(const std::filesystem::path& run_dir, const Heartbeat& h);
// nullopt when there is none (or it is unreadable: a heartbeat is advisory).
std::optional<Heartbeat> read_heartbeat(const std::filesystem::path& run_dir);
void remove_heartbeat(const std::filesystem::path& run_dir);
// Whether the process behind it still runs: on this host, its pid runs (process_runs); on
// another, the heartbeat is younger than kHeartbeatStaleAfter.
bool heartbeat_alive(const Heartbeat& h);
// Whether process `pid` of this host runs: it exists and, where /proc says, is not a zombie. A
// process killed with its parent stays a zombie until init reaps it, and kill(pid, 0) still
// answers for it: a sweep rerun at once after a SIGKILL took its runs for ones another process
// trains, and skipped them.
bool process_runs(int64_t pid);

}  // namespace gradscope
