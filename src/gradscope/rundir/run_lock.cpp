// The run lock: see run_lock.h.
#include "gradscope/rundir/run_lock.h"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/core.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "gradscope/rundir/files.h"
#include "gradscope/rundir/heartbeat.h"
#include "gradscope/rundir/json_fields.h"
#include "gradscope/rundir/paths.h"

namespace gradscope {
namespace {

std::optional<LockHolder> parse_holder(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    return LockHolder{j.at("host").get<std::string>(), json_int_at(j, "pid"),
                      j.at("started").get<double>()};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string read_fd(int fd) {
  std::string text;
  char buf[512];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n <= 0 || text.size() > 4096) return text;
    text.append(buf, static_cast<size_t>(n));
    at += n;
  }
}

std::string describe(const std::filesystem::path& dir, const std::optional<LockHolder>& h) {
  if (!h)
    return dir.string() + " is in use: another process trains it (" +
           rundir::lock_file(dir).filename().string() + "); wait for it to end or stop it";
  const std::time_t t = static_cast<std::time_t>(h->started);
  return fmt::format(
      "{} is in use: pid {} on host {} trains it (since {:%Y-%m-%d %H:%M:%S} UTC); "
      "wait for it to end or stop it",
      dir.string(), h->pid, h->host, fmt::gmtime(t));
}

// A lock another host wrote: held while that process's heartbeat, or else (none yet, or one
// left by an earlier process) the lock file itself, is younger than kHeartbeatStaleAfter.
bool other_host_holds(const std::filesystem::path& dir, const LockHolder& h, int fd) {
  const std::optional<Heartbeat> beat = read_heartbeat(dir);
  if (beat && beat->host == h.host && beat->pid == h.pid) return heartbeat_alive(*beat);
  struct stat st {};
  return ::fstat(fd, &st) == 0 &&
         unix_time_now() - double(st.st_mtim.tv_sec) < kHeartbeatStaleAfter;
}

// Whether `fd` is still the file at `path` (a releasing process may have removed it between our
// open and our flock).
bool still_linked(int fd, const std::filesystem::path& path) {
  struct stat a {
  }, b{};
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
         a.st_dev == b.st_dev;
}

// flock(LOCK_EX) within `tries` x 10 ms (another process's probe, lock_held, holds it briefly):
// 0, EWOULDBLOCK (held), or the error flock gave (ENOLCK: a filesystem without locks).
int lock_within(int fd, int tries) {
  for (int i = 0; i < tries; ++i) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return 0;
    if (errno != EWOULDBLOCK && errno != EINTR) return errno;
    ::usleep(10000);
  }
  return EWOULDBLOCK;
}

}  // namespace

RunLock::RunLock(const std::filesystem::path& run_dir) : dir_(run_dir) {
  std::error_code ec;
  made_dir_ = !std::filesystem::exists(dir_, ec);
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error(write_error(dir_, ec.value()));
  const std::filesystem::path path = rundir::lock_file(dir_);
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int error = errno;
      if (made_dir_) std::filesystem::remove(dir_, ec);
      throw std::runtime_error(write_error(path, error));
    }
    if (const int error = lock_within(fd, 50)) {
      const auto holder = parse_holder(read_fd(fd));
      ::close(fd);
      if (error != EWOULDBLOCK)
        throw std::runtime_error("cannot lock " + path.string() + ": " + std::strerror(error));
      throw RunBusy(describe(dir_, holder));
    }
    if (!still_linked(fd, path)) {
      ::close(fd);
      continue;
    }
    const auto holder = parse_holder(read_fd(fd));
    if (holder && holder->host != this_host() && other_host_holds(dir_, *holder, fd)) {
      ::close(fd);
      throw RunBusy(describe(dir_, holder));
    }
    if (holder) replaced_ = holder;  // its process is gone (kill -9, a crashed host)
    const std::string mine =
        nlohmann::ordered_json{
            {"host", this_host()}, {"pid", ::getpid()}, {"started", unix_time_now()}}
            .dump() +
        "\n";
    errno = 0;
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, mine.data(), mine.size(), 0) != static_cast<ssize_t>(mine.size())) {
      const int error = errno ? errno : EIO;
      ::unlink(path.c_str());
      ::close(fd);
      if (made_dir_) std::filesystem::remove(dir_, ec);
      throw std::runtime_error(write_error(path, error));
    }
    fd_ = fd;
    return;
  }
  throw RunBusy(describe(dir_, std::nullopt));
}

RunLock::~RunLock() {
  ::unlink(rundir::lock_file(dir_).c_str());  // while still holding it: see still_linked
  ::close(fd_);
  std::error_code ec;
  if (made_dir_ && std::filesystem::is_empty(dir_, ec)) std::filesystem::remove(dir_, ec);
}

std::optional<bool> lock_held(const std::filesystem::path& run_dir) {
  const int fd = ::open(rundir::lock_file(run_dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const bool free = ::flock(fd, LOCK_SH | LOCK_NB) == 0;
  ::close(fd);  // releases the probe's own lock
  return !free;
}

std::optional<LockHolder> read_lock_holder(const std::filesystem::path& run_dir) {
  try {
    return parse_holder(read_file(rundir::lock_file(run_dir)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace gradscope
