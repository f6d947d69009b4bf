// Progress lines and the heartbeat: see progress.h.
#include "gradscope/run/progress.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gradscope/rundir/heartbeat.h"

namespace gradscope {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = static_cast<int64_t>(s);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

Progress::Progress(const std::filesystem::path& dir, bool live, int64_t start, int64_t steps,
                   double prior_wall, std::FILE* out)
    : dir_(dir),
      live_(live),
      out_(out),
      start_(start),
      steps_(steps),
      prior_wall_(prior_wall),
      t0_(Clock::now()),
      last_print_(t0_ - std::chrono::hours(1)),
      last_beat_(t0_ - std::chrono::hours(1)) {}

double Progress::elapsed() const {
  return prior_wall_ + std::chrono::duration<double>(Clock::now() - t0_).count();
}

double Progress::rate(int64_t s) const {
  return double(s - start_) / std::max(1e-9, elapsed() - prior_wall_);
}

void Progress::step(int64_t s) {
  if (Clock::now() - last_beat_ < std::chrono::seconds(2)) return;
  last_beat_ = Clock::now();
  write_heartbeat(dir_, heartbeat_now(s, steps_, rate(s), elapsed()));
}

void Progress::logged(int64_t s, const std::string& losses, bool last) {
  const bool due =
      live_ || last || s == start_ || Clock::now() - last_print_ > std::chrono::seconds(10);
  if (!due) return;
  const double done = double(s - start_);
  const std::string eta = done > 0 ? format_duration((steps_ - s) / rate(s)) : "?";
  const int width = static_cast<int>(std::to_string(steps_).size());
  const std::string line = fmt::format("step {:>{}}/{} | {} | {:.1f} steps/s | ETA {}", s, width,
                                       steps_, losses, rate(s), eta);
  if (live_)
    fmt::print(out_, "\r\033[K{}", line);
  else
    fmt::print(out_, "{}\n", line);
  std::fflush(out_);
  last_print_ = Clock::now();
}

void Progress::finish() {
  if (live_) fmt::print(out_, "\n");
  remove_heartbeat(dir_);
  finished_ = true;
}

Progress::~Progress() {
  if (!finished_) remove_heartbeat(dir_);
}

}  // namespace gradscope
