// A replica group trained in lockstep: see replicas.h.
#include "gradscope/run/replicas.h"

#include <fmt/core.h>

#include <algorithm>
#include <exception>
#include <memory>

#include "gradscope/tensor/threads.h"

namespace gradscope {
namespace {

// A replica that has not ended: its run and, once it ends in a round, its status.
struct LiveReplica {
  size_t index = 0;
  std::unique_ptr<SteppedRun> run;
  int status = -1;  // set when the replica ended in this round
};

// The exit status of an exception as the command line gives it, after its line on `err` (a line
// that cannot be written, on a full disk, is dropped: nothing leaves a worker).
int failed(const std::exception& e, std::FILE* err) {
  try {
    fmt::print(err, "gradscope: error: {}\n", e.what());
    std::fflush(err);
  } catch (...) {
  }
  return dynamic_cast<const std::invalid_argument*>(&e) ? 2 : 1;
}

// One iteration of replica r, finished when it ends; never throws.
void advance(LiveReplica& r, const RunOptions& o) {
  try {
    if (!r.run->advance()) r.status = r.run->finish();
  } catch (const std::exception& e) {
    r.status = failed(e, o.err);
  } catch (...) {
    r.status = 1;
  }
  if (r.status >= 0) r.run.reset();  // releases its directory's lock
}

}  // namespace

std::vector<int> run_replicas(const std::vector<ReplicaRun>& group, int threads,
                              const std::function<void(size_t, int)>& ended) {
  std::vector<int> status(group.size(), -1);
  std::vector<LiveReplica> live;
  auto end = [&](size_t i, int code) {
    status[i] = code;
    if (ended) ended(i, code);
  };
  const StopOnSignal signals;  // from the first start on: a stop while starting stops the group
  for (size_t i = 0; i < group.size(); ++i) {
    if (stop_requested()) {
      end(i, 130);  // not started: the same sweep command starts it again
      continue;
    }
    try {
      live.push_back({i, start_run(group[i].config, group[i].options)});
    } catch (const std::exception& e) {
      end(i, failed(e, group[i].options.err));
    }
  }
  // On a device the replicas take turns on it; on the cpu each round spreads them over threads.
  const bool cpu = std::all_of(group.begin(), group.end(), [](const ReplicaRun& r) {
    return r.config.string("device") == "cpu";
  });
  while (!live.empty()) {
    const int workers = cpu ? std::min<int>(threads, static_cast<int>(live.size())) : 1;
    for_each_alone(static_cast<int64_t>(live.size()), workers,
                   [&](int64_t j, int) { advance(live[j], group[live[j].index].options); });
    for (const LiveReplica& r : live)
      if (r.status >= 0) end(r.index, r.status);
    std::erase_if(live, [](const LiveReplica& r) { return r.status >= 0; });
  }
  return status;
}

}  // namespace gradscope
