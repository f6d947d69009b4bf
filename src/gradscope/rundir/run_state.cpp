// Run states: see run_state.h.
#include "gradscope/rundir/run_state.h"

#include "gradscope/rundir/paths.h"

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
  if (r.heartbeat && heartbeat_alive(*r.heartbeat))
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
