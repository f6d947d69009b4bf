// The lock of a run directory: one process trains a run at a time. Two `gradscope run` of the
// same directory at once, or `--resume` while the run still trains, and the second one refuses,
// naming the host and pid that hold it.
//
// The lock is run.lock in the run directory: an flock(2) held for as long as the run trains (the
// kernel drops it when the process dies, also by kill -9), and in the file the holder's host, pid
// and start time. Where flock does not reach across hosts (some network filesystems), a lock
// written by another host counts as held while that run's heartbeat (rundir/heartbeat.h), or the
// lock itself when there is no heartbeat yet, is younger than kHeartbeatStaleAfter; an older one
// is stale and taken over. The file is removed when the lock is released.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace gradscope {

// Another process trains the run. what(): "<dir> is in use: pid P on host H trains it (since
// ...); wait for it to end or stop it".
struct RunBusy : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The exit status of a command (or a replica) refused by RunBusy: a sweep counts such a run as
// trained elsewhere, not as failed.
inline constexpr int kRunBusyExit = 3;

struct LockHolder {
  std::string host;
  int64_t pid = 0;
  double started = 0;  // Unix time
};

class RunLock {
 public:
  // Creates the directory if needed and takes its lock. Throws RunBusy when another process
  // holds it, std::runtime_error naming the file when it cannot be created (a read-only
  // directory).
  explicit RunLock(const std::filesystem::path& run_dir);
  ~RunLock();  // removes run.lock, and the directory when it made it and nothing else is there
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  // The holder of a stale lock this one replaced (a process killed on another host), if any.
  const std::optional<LockHolder>& replaced() const { return replaced_; }

 private:
  std::filesystem::path dir_;
  int fd_ = -1;
  bool made_dir_ = false;
  std::optional<LockHolder> replaced_;
};

// Whether a process holds the run's lock now (a probe with flock, which the kernel releases when
// its holder dies, even before the process is reaped); nullopt when there is no run.lock.
std::optional<bool> lock_held(const std::filesystem::path& run_dir);

// The holder named in a run's run.lock (nullopt when there is none or it is unreadable).
std::optional<LockHolder> read_lock_holder(const std::filesystem::path& run_dir);

}  // namespace gradscope
