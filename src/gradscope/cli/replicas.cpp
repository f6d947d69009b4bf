// `gradscope replicas SWEEP_DIR ID...` trains the listed runs of a sweep together as one replica
// group (sweep/replica_groups.h): the child process `gradscope sweep --replicas K` starts for each
// group, on --threads threads; each run's lines go to the sweep's logs/<id>.log.
#include <memory>

#include "gradscope/cli/command.h"
#include "gradscope/sweep/replica_groups.h"

namespace gradscope::cli {
namespace {

struct ReplicasArgs {
  std::string sweep_dir;
  std::vector<std::string> ids;
};

Action define(CLI::App& sub, const Globals& g) {
  auto a = std::make_shared<ReplicasArgs>();
  sub.add_option("sweep", a->sweep_dir, "the sweep's directory (runs/<name>)")->required();
  sub.add_option("ids", a->ids, "the run ids of the group (configs/<id>.toml)")->required();
  return [a, &g] {
    ReplicaGroupOptions o;
    o.threads = g.threads;
    o.device = g.device;
    o.version_header = run_version_header();
    return run_replica_group(a->sweep_dir, a->ids, o);
  };
}

}  // namespace

Command replicas_command() {
  return {"replicas",
          "train runs of a sweep together as one replica group (gradscope sweep --replicas K "
          "starts it)",
          &define};
}

}  // namespace gradscope::cli
