// Run states: see run_state.h.
#include "gradscope/rundir/run_state.h"

#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_lock.h"

namespace gradscope {

const char* run_state_name(RunState s) {
  switch (s) {
    case RunState::none:
      return "none";
    case RunState::running:
      return "running";
    case RunState::complete:
      return "complete";
    case RunState::resumable:
      return "resumable";
    default:
      return "broken";
  }
}

namespace {
// The run's lock decides on this host (its holder may be dead but not yet reaped, so a pid
// alone would mislead); another host's run is alive while its heartbeat is fresh; a run with no
// lock file (trained by a gradscope before the lock) by its heartbeat alone.
bool is_running(const std::filesystem::path& run_dir, const std::optional<Heartbeat>& beat) {
  const std::optional<bool> held = lock_held(run_dir);
  if (held && *held) return true;
  if (beat && beat->host != this_host()) return heartbeat_alive(*beat);
  if (held) return false;
  return beat && heartbeat_alive(*beat);
}
}  // namespace

RunInspection inspect_run(const std::filesystem::path& run_dir) {
  RunInspection r;
  if (!rundir::is_run_dir(run_dir)) return r;
  try {
    r.summary = read_summary(run_dir);
  } catch (const std::exception&) {
    r.summary.reset();
  }
  r.heartbeat = read_heartbeat(run_dir);
  r.checkpoints = rundir::list_checkpoints(run_dir);
  if (is_running(run_dir, r.heartbeat))
    r.state = RunState::running;
  else if (r.summary && r.summary->finished())
    r.state = RunState::complete;
  else if (!r.checkpoints.empty())
    r.state = RunState::resumable;
  else
    r.state = RunState::broken;
  return r;
}

}  // namespace gradscope
