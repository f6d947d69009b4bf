// The progress of a training run as people and programs see it: a line at log steps (on a
// terminal one live line, else a plain line every 10 seconds, and always the first and the last),
// and the heartbeat file (rundir/heartbeat.h) rewritten every 2 seconds and removed at the end.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace gradscope {

class Progress {
 public:
  // start: the first step of this session; steps: the budget; prior_wall: training seconds of
  // earlier sessions (resume); the lines go to `out`.
  Progress(const std::filesystem::path& dir, bool live, int64_t start, int64_t steps,
           double prior_wall, std::FILE* out = stdout);
  ~Progress();  // removes the heartbeat when the run stops by an exception (a failed write)
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  // Every step: refreshes the heartbeat when it is due.
  void step(int64_t s);
  // At a log step: prints the line (given its loss and accuracy part) when due.
  void logged(int64_t s, const std::string& losses, bool last);
  // Ends the live line and removes the heartbeat.
  void finish();
  double elapsed() const;        // training seconds, earlier sessions included
  double rate(int64_t s) const;  // steps per second in this session

 private:
  using Clock = std::chrono::steady_clock;
  std::filesystem::path dir_;
  bool live_;
  std::FILE* out_;
  int64_t start_, steps_;
  double prior_wall_;
  Clock::time_point t0_, last_print_, last_beat_;
  bool finished_ = false;
};

// "1h02m", "3m07s", "42s"; "?" for a negative or non-finite time.
std::string format_duration(double seconds);

}  // namespace gradscope
