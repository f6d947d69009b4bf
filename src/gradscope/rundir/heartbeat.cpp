// The heartbeat file: see heartbeat.h.
#include "gradscope/rundir/heartbeat.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "gradscope/rundir/files.h"
#include "gradscope/rundir/json_fields.h"
#include "gradscope/rundir/paths.h"

namespace gradscope {
std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

double unix_time_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

Heartbeat heartbeat_now(int64_t step, int64_t steps, double steps_per_s, double wall_time_s) {
  return {this_host(), ::getpid(), step, steps, steps_per_s, wall_time_s, unix_time_now()};
}

void write_heartbeat(const std::filesystem::path& run_dir, const Heartbeat& h) {
  const nlohmann::ordered_json j = {{"host", h.host},
                                    {"pid", h.pid},
                                    {"step", h.step},
                                    {"steps", h.steps},
                                    {"steps_per_s", h.steps_per_s},
                                    {"wall_time_s", h.wall_time_s},
                                    {"updated", h.updated}};
  replace_file(rundir::heartbeat_file(run_dir), j.dump() + "\n");
}

std::optional<Heartbeat> read_heartbeat(const std::filesystem::path& run_dir) {
  try {
    const auto j = nlohmann::json::parse(read_file(rundir::heartbeat_file(run_dir)));
    return Heartbeat{j.at("host").get<std::string>(),
                     json_int_at(j, "pid"),
                     json_int_at(j, "step"),
                     json_int_at(j, "steps"),
                     j.at("steps_per_s").get<double>(),
                     j.at("wall_time_s").get<double>(),
                     j.at("updated").get<double>()};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void remove_heartbeat(const std::filesystem::path& run_dir) {
  std::error_code ec;
  std::filesystem::remove(rundir::heartbeat_file(run_dir), ec);
}

bool process_runs(int64_t pid) {
  if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM)) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line))  // gone since, where there is a /proc; kill's answer elsewhere
    return !std::filesystem::exists("/proc/self/stat");
  const size_t name_end = line.rfind(')');  // "pid (name) state ...": the name may hold ") "
  return name_end == std::string::npos || name_end + 2 >= line.size() ||
         (line[name_end + 2] != 'Z' && line[name_end + 2] != 'X');
}

bool heartbeat_alive(const Heartbeat& h) {
  if (h.host == this_host()) return h.pid == ::getpid() || process_runs(h.pid);
  return unix_time_now() - h.updated < kHeartbeatStaleAfter;
}

}  // namespace gradscope
