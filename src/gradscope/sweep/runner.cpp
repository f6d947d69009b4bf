// Running a sweep: see runner.h.
#include "gradscope/sweep/runner.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "gradscope/cuda/device.h"
#include "gradscope/index/results_index.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/rundir/run_lock.h"
#include "gradscope/rundir/run_state.h"
#include "gradscope/sweep/replica_groups.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_sweep_signal(int) {
  g_interrupted = 1;
}

std::string last_line(const fs::path& log) {
  std::istringstream in(fs::exists(log) ? read_file(log) : std::string());
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

std::string duration(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  const auto t = static_cast<int64_t>(s);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

// Starts `gradscope ... ARGS` with stdout and stderr in `log`; returns the child's pid.
pid_t spawn(const std::string& exe, const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

Shard shard_of(const std::string& given) {
  Shard shard;
  if (!given.empty())
    shard = parse_shard(given);
  else
    shard_from_slurm(shard);
  return shard;
}

int jobs_of(int given) {
  if (given > 0) return given;
  const char* cpus = std::getenv("SLURM_CPUS_PER_TASK");
  return cpus && std::atoi(cpus) > 0 ? std::atoi(cpus) : 1;
}

bool holds_sweep_point(const fs::path& dir, const std::string& id, const Config& config) {
  try {
    Config c = read_run_config(dir);
    if (config_hash(c) == id) return true;
    if (c.integer("train.steps") <= config.integer("train.steps")) return false;
    c.set("train.steps", config.integer("train.steps"));
    return config_hash(c) == id;
  } catch (const std::exception&) {
    return false;
  }
}

Shard parse_shard(const std::string& text) {
  Shard s;
  char slash = 0;
  long long i = -1, k = 0;
  std::istringstream in(text);
  if (!(in >> i >> slash >> k) || slash != '/' || !in.eof() || k < 1 || i < 0 || i >= k)
    throw ConfigError("--shard " + text + " (valid: i/K with 0 <= i < K, e.g. 0/4)");
  s.index = i;
  s.count = k;
  return s;
}

bool shard_from_slurm(Shard& shard) {
  const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
  if (!id) return false;
  auto num = [](const char* name) -> int64_t {
    const char* v = std::getenv(name);
    return v ? std::atoll(v) : -1;
  };
  const int64_t task = std::atoll(id), lo = num("SLURM_ARRAY_TASK_MIN"),
                hi = num("SLURM_ARRAY_TASK_MAX"), count = num("SLURM_ARRAY_TASK_COUNT");
  const std::string how = "submit the array as a contiguous range, e.g. sbatch --array=0-" +
                          std::to_string(std::max<int64_t>(count, 1) - 1) +
                          " (gradscope sweep --slurm-script writes such a script)";
  if (lo < 0 || count < 1)
    throw ConfigError(
        fmt::format("SLURM_ARRAY_TASK_ID = {} without SLURM_ARRAY_TASK_MIN and "
                    "SLURM_ARRAY_TASK_COUNT; {}",
                    task, how));
  if ((hi >= 0 && hi - lo + 1 != count) || task - lo < 0 || task - lo >= count)
    throw ConfigError(
        fmt::format("this Slurm array (task {}, min {}, max {}, count {}) does not "
                    "map onto shards 0..{}: its ids are not contiguous; {}",
                    task, lo, hi, count, count - 1, how));
  shard = {task - lo, count, true};
  return true;
}

namespace {

// While in scope, this process alone reads and writes the sweep folder's manifest and failures
// files (shards of two arrays, or of two seed counts of one sweep, may run at once): an
// exclusive flock on sweep.json.lock.
class SweepFilesLock {
 public:
  explicit SweepFilesLock(const fs::path& dir)
      : fd_(::open(rundir::sweep_lock(dir).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~SweepFilesLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  SweepFilesLock(const SweepFilesLock&) = delete;
  SweepFilesLock& operator=(const SweepFilesLock&) = delete;

 private:
  int fd_;
};

// Whether manifest `a` is the same sweep as `b` but for its seed count, its runs all b's or all
// among b's: the same points with more or fewer seeds (seed s of a point is the same run in both).
bool same_but_seeds(nlohmann::ordered_json a, nlohmann::ordered_json b) {
  if (!a.is_object() || !b.is_object() || !a.contains("spec") || !b.contains("spec") ||
      !a["runs"].is_array() || !b["runs"].is_array())
    return false;
  std::set<std::string> ra, rb;
  for (const auto& r : a["runs"]) ra.insert(r.dump());
  for (const auto& r : b["runs"]) rb.insert(r.dump());
  if (!std::includes(ra.begin(), ra.end(), rb.begin(), rb.end()) &&
      !std::includes(rb.begin(), rb.end(), ra.begin(), ra.end()))
    return false;
  for (auto* m : {&a, &b}) {
    (*m)["spec"].erase("seeds");
    m->erase("runs");
  }
  return a == b;
}

// The sweep's manifest (spec and run ids) in its directory: written by the first shard, and a
// directory holding a different sweep or anything else refused. The same sweep with more seeds
// takes the directory over (its manifest then lists every run); with fewer, it runs among its
// runs and leaves the manifest.
void claim_sweep_dir(const fs::path& dir, const Config& base, const SweepSpec& spec,
                     const std::vector<SweepRun>& runs) {
  nlohmann::ordered_json manifest;
  manifest["name"] = base.string("name");
  manifest["spec"] = nlohmann::ordered_json::parse(describe_sweep(spec));
  manifest["base_id"] = config_hash(base);
  nlohmann::ordered_json ids = nlohmann::ordered_json::array();
  for (const SweepRun& r : runs) ids.push_back(r.id);
  manifest["runs"] = ids;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw ConfigError(dir.string() +
                      " is a file, not a sweep folder; give the sweep another name (name=...)");
  fs::create_directories(dir);
  const SweepFilesLock lock(dir);
  if (rundir::is_sweep_dir(dir)) {
    nlohmann::ordered_json old;
    try {
      old = nlohmann::ordered_json::parse(read_file(rundir::sweep_manifest(dir)));
    } catch (const std::exception&) {
    }
    if (old != manifest && !same_but_seeds(old, manifest))
      throw ConfigError(dir.string() +
                        " holds a different sweep (its manifest differs in axes, base config "
                        "or runs); give this one another name (name=...) or remove the directory");
    if (old != manifest && manifest["runs"].size() > old["runs"].size())
      write_file_atomic(rundir::sweep_manifest(dir), manifest.dump(2) + "\n");
  } else {
    // Other shards of this sweep may be starting too: only their files are expected here.
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string f = e.path().filename().string();
      if (!rundir::is_sweep_file(f))
        throw ConfigError(dir.string() + " exists and is not a sweep; give the sweep another name");
    }
    write_file_atomic(rundir::sweep_manifest(dir), manifest.dump(2) + "\n");
  }
  fs::create_directories(rundir::sweep_configs_dir(dir));
  fs::create_directories(rundir::sweep_logs_dir(dir));
}

// Whether run r needs no process of this sweep: complete (indexed now if a kill came between its
// summary and its index row), or trained by another process (a live lock or heartbeat).
bool settled(const fs::path& dir, const SweepRun& r, ResultsIndex& index) {
  const fs::path run_dir = dir / r.id;
  const RunInspection state = inspect_run(run_dir);
  if (state.state == RunState::complete && holds_sweep_point(run_dir, r.id, r.config)) {
    if (!index.has_run(run_dir)) index.add_run(run_dir, dir.filename().string());
    return true;
  }
  if (state.state != RunState::running) return false;
  const auto lock = read_lock_holder(run_dir);
  const std::string who =
      lock              ? fmt::format("pid {} on {}", lock->pid, lock->host)
      : state.heartbeat ? fmt::format("pid {} on {}", state.heartbeat->pid, state.heartbeat->host)
                        : std::string("another process");
  fmt::print(stderr, "gradscope: {} is running ({}); skipped\n", run_dir.string(), who);
  return true;
}

// The child's command line for a group of pending runs: `run` for one (resumed where a crash or
// signal left checkpoints of it), `replicas` for several.
std::vector<std::string> child_args(const SweepOptions& o, const fs::path& dir,
                                    const std::vector<SweepRun>& runs,
                                    const std::vector<size_t>& group) {
  std::vector<std::string> args = {"--threads", std::to_string(o.threads)};
  if (!o.device.empty()) args.insert(args.end(), {"--device", o.device});
  if (group.size() > 1) {
    args.insert(args.end(), {"replicas", dir.string()});
    for (size_t i : group) args.push_back(runs[i].id);
    return args;
  }
  const SweepRun& r = runs[group.front()];
  const fs::path run_dir = dir / r.id;
  args.push_back("run");
  if (inspect_run(run_dir).state == RunState::resumable &&
      holds_sweep_point(run_dir, r.id, r.config))
    args.insert(args.end(), {"--resume", run_dir.string()});
  else
    args.insert(args.end(),
                {rundir::sweep_config(dir, r.id).string(), "--out", run_dir.string(), "--force"});
  return args;
}

// A child process of the sweep: the runs it trains and, for a replica group, where its own log
// stood when it started (the log is appended to across sessions).
struct Child {
  std::vector<size_t> group;
  fs::path log;
  uintmax_t log_start = 0;
  bool told_to_stop = false;  // sent SIGTERM once (a second could kill it while it indexes)
};

// The exit status of each replica that has ended in a group's session: its lines "<id>: exit N"
// in the group's log past where the session started.
std::map<std::string, int> replica_exits(const Child& c) {
  std::map<std::string, int> out;
  std::ifstream in(c.log);
  in.seekg(static_cast<std::streamoff>(c.log_start));
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find(": exit ");
    if (at != std::string::npos) out[line.substr(0, at)] = std::atoi(line.c_str() + at + 7);
  }
  return out;
}

// Whether a run's exit status is a stop signal's (SIGINT or SIGTERM, or gradscope's 130).
bool stopped(int code) {
  return code == 130 || code == 128 + SIGINT || code == 128 + SIGTERM;
}

// A group's exit as a replica's when it never wrote one: a stop signal is an interruption.
int group_exit(int code) {
  return stopped(code) ? 130 : 1;
}

// The shard's failures file after this session: the entries of runs this session did not touch
// (settled, ended or interrupted) kept from the last one, then this session's failures; the file
// is removed when none are left.
void write_failures(const fs::path& file, const std::set<std::string>& touched,
                    const std::vector<std::string>& failures) {
  nlohmann::ordered_json kept = nlohmann::ordered_json::array();
  std::error_code ec;
  if (fs::exists(file, ec)) {
    try {
      for (const auto& e : nlohmann::json::parse(read_file(file))) {
        const std::string entry = e.is_string() ? e.get<std::string>() : "";
        if (!entry.empty() &&
            !touched.count(entry.substr(0, entry.find(' '))))  // "<id> (...": ..."
          kept.push_back(entry);
      }
    } catch (const std::exception&) {  // unreadable: this session's failures replace it
    }
  }
  for (const std::string& f : failures) kept.push_back(f);
  if (kept.empty())
    fs::remove(file, ec);
  else
    write_file_atomic(file, kept.dump(2) + "\n");
}

// The failures files of shards past this sharding's count (left by an array of more shards):
// the entries of runs now complete dropped, the file removed when none are left. (The files of
// this sharding's other shards are theirs to write.)
void prune_stale_failures(const fs::path& dir, int64_t shards) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    int64_t k = -1;
    if (std::sscanf(name.c_str(), "failures-shard%ld.json", &k) != 1 || k < shards ||
        rundir::sweep_failures(dir, k) != e.path())
      continue;
    std::set<std::string> complete;
    try {
      for (const auto& f : nlohmann::json::parse(read_file(e.path()))) {
        const std::string id = f.is_string() ? f.get<std::string>() : "";
        const std::string run = id.substr(0, id.find(' '));
        if (!run.empty() && inspect_run(dir / run).state == RunState::complete)
          complete.insert(run);
      }
    } catch (const std::exception&) {
      continue;  // unreadable: left as it is
    }
    write_failures(e.path(), complete, {});
  }
}

}  // namespace

int run_sweep(const Config& base, const SweepSpec& spec, const SweepOptions& o) {
  const std::vector<SweepRun> runs = expand_sweep(base, spec);  // validates every config
  for (const SweepRun& r : runs) {  // a device this machine lacks: refused, not failed run by run
    const std::string device = o.device.empty() ? r.config.string("device") : o.device;
    const std::string why = device_unavailable(device_from_name(device));
    if (!why.empty()) throw ConfigError("device = " + device + ": " + why);
  }
  const std::string name = base.string("name");
  const fs::path dir = o.root / name;
  claim_sweep_dir(dir, base, spec, runs);

  // This shard's groups (one run each without --replicas), minus their settled runs.
  ResultsIndex index(rundir::index_file(o.root));
  std::deque<std::vector<size_t>> todo;
  std::set<std::string> touched;  // runs settled or ended here: their old failure entries are stale
  int64_t skipped = 0, mine = 0;
  const std::vector<std::vector<size_t>> groups = replica_groups(runs, o.replicas);
  for (size_t g = 0; g < groups.size(); ++g) {
    if (static_cast<int64_t>(g % static_cast<size_t>(o.shards)) != o.shard) continue;
    std::vector<size_t> pending;
    for (size_t i : groups[g]) {
      ++mine;
      if (settled(dir, runs[i], index)) {
        touched.insert(runs[i].id);
        ++skipped;
        continue;
      }
      write_file_atomic(rundir::sweep_config(dir, runs[i].id), runs[i].config.to_toml());
      pending.push_back(i);
    }
    if (!pending.empty()) todo.push_back(std::move(pending));
  }
  const std::string groups_text =
      o.replicas > 1 ? fmt::format(" in {} replica groups of up to {},", todo.size(), o.replicas)
                     : std::string();
  fmt::print(
      "gradscope sweep {}: {} runs ({}), shard {}/{}: {} runs, {} already complete,{} "
      "{} jobs -> {}\n",
      name, runs.size(), spec.mode, o.shard, o.shards, mine, skipped, groups_text, o.jobs,
      dir.string());
  std::fflush(stdout);

  g_interrupted = 0;
  auto prev_int = std::signal(SIGINT, on_sweep_signal);
  auto prev_term = std::signal(SIGTERM, on_sweep_signal);
  std::map<pid_t, Child> running;
  std::vector<std::string> failures;
  int64_t done = 0, total = 0, in_flight = 0;
  for (const auto& g : todo) total += static_cast<int64_t>(g.size());
  const auto t0 = Clock::now();
  auto last_print = t0 - std::chrono::hours(1);
  auto status = [&](bool force) {
    if (!force && Clock::now() - last_print < std::chrono::milliseconds(o.live ? 500 : 10000))
      return;
    last_print = Clock::now();
    // The replicas of groups still training that have ended (their groups' log lines).
    int64_t ended = 0, ended_ok = 0;
    for (const auto& [p, c] : running)
      if (c.group.size() > 1)
        for (const auto& [id, code] : replica_exits(c)) {
          ++ended;
          ended_ok += code == 0;
        }
    const int64_t shown = done + ended_ok, failed = int64_t(failures.size()) + ended - ended_ok;
    const double el = std::chrono::duration<double>(Clock::now() - t0).count();
    const double per = shown > 0 ? el / double(shown) : NAN;
    const std::string line =
        fmt::format("{}: {}/{} done, {} running, {} failed, {} skipped | {} elapsed | ETA {}", name,
                    shown, total, in_flight - ended, failed, skipped, duration(el),
                    shown > 0 ? duration(per * double(total - shown - failed)) : "?");
    if (o.live)
      fmt::print("\r\033[K{}", line);
    else
      fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  auto ended = [&](size_t i, int code) {
    touched.insert(runs[i].id);  // its entry, if any, is this session's now
    if (code == 0) {
      ++done;
    } else if (code == kRunBusyExit) {  // started by another process after it was scheduled here
      fmt::print(stderr, "gradscope: {} is trained by another process; skipped\n",
                 (dir / runs[i].id).string());
    } else if (!(g_interrupted && stopped(code))) {
      failures.push_back(fmt::format("{} ({}): exit {}: {}", runs[i].id,
                                     fmt::join(runs[i].axes, " "), code,
                                     last_line(rundir::sweep_log(dir, runs[i].id))));
    }
  };
  while ((!todo.empty() && !g_interrupted) || !running.empty()) {
    while (!todo.empty() && !g_interrupted && static_cast<int>(running.size()) < o.jobs) {
      std::vector<size_t> group = std::move(todo.front());
      todo.pop_front();
      const std::string& first = runs[group.front()].id;
      const fs::path log =
          group.size() > 1 ? rundir::sweep_group_log(dir, first) : rundir::sweep_log(dir, first);
      in_flight += static_cast<int64_t>(group.size());
      std::error_code ec;
      const uintmax_t size = fs::file_size(log, ec);
      const pid_t child = spawn(o.executable, child_args(o, dir, runs, group), log);
      running[child] = {std::move(group), log, ec ? 0 : size};
    }
    status(false);
    int st = 0;
    const pid_t pid = ::waitpid(-1, &st, WNOHANG);
    if (pid > 0 && running.count(pid)) {
      const Child c = std::move(running[pid]);
      running.erase(pid);
      in_flight -= static_cast<int64_t>(c.group.size());
      const int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      const std::map<std::string, int> exits =
          c.group.size() > 1 ? replica_exits(c) : std::map<std::string, int>{};
      for (size_t i : c.group) {
        const auto e = exits.find(runs[i].id);
        ended(i, c.group.size() == 1 ? code : e != exits.end() ? e->second : group_exit(code));
      }
      status(true);
      continue;
    }
    if (g_interrupted)
      for (auto& [p, c] : running)
        if (!c.told_to_stop) {  // they checkpoint, index themselves and stop
          ::kill(p, SIGTERM);
          c.told_to_stop = true;
        }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::signal(SIGINT, prev_int);
  std::signal(SIGTERM, prev_term);
  status(true);
  if (o.live) fmt::print("\n");
  for (const std::string& f : failures) fmt::print(stderr, "gradscope: failed run {}\n", f);
  {
    const SweepFilesLock lock(dir);
    write_failures(rundir::sweep_failures(dir, o.shard), touched, failures);
    prune_stale_failures(dir, o.shards);
  }
  if (g_interrupted) {
    fmt::print("interrupted; rerun the same command to resume the sweep\n");
    return 130;
  }
  return failures.empty() ? 0 : 1;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string sbatch_quote(const std::string& text) {
  if (text.find_first_of(" \t\"'\\#") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string sbatch_percent(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '%' ? std::string("%%") : std::string(1, c);
  return out;
}

std::string slurm_script(const fs::path& experiment, const std::vector<std::string>& arguments,
                         const Config& base, const SlurmArray& array,
                         const std::string& executable) {
  const std::string name = base.string("name");
  std::string args;
  for (const std::string& a : arguments) args += " " + shell_quote(a);
  const bool grouped = array.replicas > 1;
  const std::string how =
      grouped ? fmt::format(
                    "# the replica groups (up to {} runs each, {} groups) whose index mod {} is i\n"
                    "# (gradscope reads SLURM_ARRAY_TASK_ID, _MIN and _COUNT), one group at a time "
                    "on {} threads;",
                    array.replicas, array.groups, array.tasks, array.cpus)
              : fmt::format(
                    "# the runs whose index mod {} is i (gradscope reads SLURM_ARRAY_TASK_ID, _MIN "
                    "and\n# _COUNT), {} at a time (SLURM_CPUS_PER_TASK), one thread each;",
                    array.tasks, array.cpus);
  const std::string root = fs::absolute(array.root).string();
  const std::string global =  // the options before the subcommand
      (array.device.empty() ? "" : " --device " + array.device) +
      (grouped ? fmt::format(" --threads {}", array.cpus) : "");
  const std::string exec =
      fmt::format("{}{} sweep {}{} --root {}{}", shell_quote(executable), global,
                  shell_quote(fs::absolute(experiment).string()), args, shell_quote(root),
                  grouped ? fmt::format(" --replicas {} --jobs 1", array.replicas) : "");
  return fmt::format(
      "#!/bin/bash\n"
      "# gradscope sweep {name}: {runs} runs as a Slurm job array of {tasks} tasks. Task i runs\n"
      "{how} finished runs are\n"
      "# skipped, so resubmitting this script (or a requeued task) resumes the sweep. Every run\n"
      "# writes {root}/{name}/<id>/ and adds itself to {root}/index.sqlite.\n"
      "#SBATCH --job-name=gradscope-{name}\n"
      "#SBATCH --array=0-{last}\n"
      "#SBATCH --cpus-per-task={cpus}\n"
      "#SBATCH --output={output}\n"
      "set -euo pipefail\n"
      "cd {dir}\n"
      "exec {exec}\n",
      fmt::arg("name", name), fmt::arg("runs", array.runs), fmt::arg("tasks", array.tasks),
      fmt::arg("how", how), fmt::arg("cpus", array.cpus), fmt::arg("last", array.tasks - 1),
      fmt::arg("dir", shell_quote(fs::current_path().string())), fmt::arg("root", root),
      fmt::arg("exec", exec),
      fmt::arg("output",
               sbatch_quote(sbatch_percent(root) + "/slurm-logs/" + name + "-%A_%a.out")));
}

}  // namespace gradscope
