// What state a run directory is in, decided in one place for the trainer (--resume), sweeps
// (skip, resume or start), the index and viewers:
//
//   none       no run here (no config.toml)
//   running    a live heartbeat: some process trains it now
//   complete   it ended for good (summary status completed or diverged)
//   resumable  it stopped or crashed with a checkpoint to continue from (interrupted, killed)
//   broken     a config but nothing to continue from (killed before its first checkpoint)
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gradscope/rundir/heartbeat.h"
#include "gradscope/rundir/summary_file.h"

namespace gradscope {

enum class RunState { none, running, complete, resumable, broken };
const char* run_state_name(RunState s);  // "none", "running", ...

struct RunInspection {
  RunState state = RunState::none;
  std::optional<Summary> summary;      // when the run has a readable summary
  std::optional<Heartbeat> heartbeat;  // when it has a heartbeat (live or left by a crash)
  std::vector<int64_t> checkpoints;    // steps, ascending
};

// Never throws on a damaged run: an unreadable summary counts as none.
RunInspection inspect_run(const std::filesystem::path& run_dir);

}  // namespace gradscope
