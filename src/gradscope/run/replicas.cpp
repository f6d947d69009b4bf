// A replica group trained in lockstep: see replicas.h.
#include "gradscope/run/replicas.h"

#include <fmt/core.h>

#include <algorithm>
#include <exception>
#include <memory>

#include "gradscope/cuda/replica_device.h"
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
  return exit_status_of(e);
}

// f() on replica r: one iteration (advance) or its first part (queue), finished when it ends;
// never throws.
template <class F>
void step(LiveReplica& r, const RunOptions& o, const F& f) {
  try {
    if (!f(*r.run)) r.status = r.run->finish();
  } catch (const std::exception& e) {
    r.status = failed(e, o.err);
  } catch (...) {
    r.status = 1;
  }
  if (r.status >= 0) r.run.reset();  // releases its directory's lock
}

void advance(LiveReplica& r, const RunOptions& o) {
  step(r, o, [](SteppedRun& run) { return run.advance(); });
}

// A round on the group's device: every replica queues its gradient, the group's one stacked
// step runs, then every replica goes on from there.
void device_round(std::vector<LiveReplica>& live, const std::vector<ReplicaRun>& group,
                  ReplicaDevice& device) {
  for (LiveReplica& r : live)
    step(r, group[r.index].options, [](SteppedRun& run) {
      run.queue();
      return true;
    });
  try {
    device.flush();
  } catch (const std::exception& e) {  // the device failed: every replica with it
    for (LiveReplica& r : live)
      if (r.status < 0) r.status = failed(e, group[r.index].options.err), r.run.reset();
  }
  for (LiveReplica& r : live)
    if (r.status < 0) advance(r, group[r.index].options);
}

// The group's device where its replicas run off the cpu (null on the cpu, or where the device
// cannot open: each replica then says why as its run would).
std::unique_ptr<ReplicaDevice> group_device(const std::vector<ReplicaRun>& group) {
  const std::string name = group.empty() ? "cpu" : group[0].config.string("device");
  for (const ReplicaRun& r : group)
    if (r.config.string("device") != name) return nullptr;
  if (name == "cpu") return nullptr;
  try {
    return std::make_unique<ReplicaDevice>(device_from_name(name), static_cast<int>(group.size()));
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace

std::vector<int> run_replicas(const std::vector<ReplicaRun>& group, int threads,
                              const std::function<void(size_t, int)>& ended, std::string* stacked) {
  std::vector<int> status(group.size(), -1);
  const std::unique_ptr<ReplicaDevice> device = group_device(group);  // outlives its members
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
      live.push_back(
          {i, start_run(group[i].config, group[i].options, device ? device->member() : nullptr)});
    } catch (const std::exception& e) {
      end(i, failed(e, group[i].options.err));
    }
  }
  // On a device each round is one stacked step; on the cpu a round spreads them over threads.
  const bool cpu = std::all_of(group.begin(), group.end(), [](const ReplicaRun& r) {
    return r.config.string("device") == "cpu";
  });
  while (!live.empty()) {
    const int workers = cpu ? std::min<int>(threads, static_cast<int>(live.size())) : 1;
    if (device)
      device_round(live, group, *device);
    else
      for_each_alone(static_cast<int64_t>(live.size()), workers,
                     [&](int64_t j, int) { advance(live[j], group[live[j].index].options); });
    for (const LiveReplica& r : live)
      if (r.status >= 0) end(r.index, r.status);
    std::erase_if(live, [](const LiveReplica& r) { return r.status >= 0; });
  }
  if (stacked && device) *stacked = device->describe();
  return status;
}

}  // namespace gradscope
