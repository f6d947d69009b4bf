// Checkpoint policy: see checkpoint_policy.h.
#include "gradscope/run/checkpoint_policy.h"

namespace gradscope {

bool CheckpointPolicy::due(int64_t step, bool end, bool stopping) const {
  const bool periodic = train_.checkpoint_every > 0 && step % train_.checkpoint_every == 0;
  return kept(step) || periodic || end || stopping;
}

std::vector<int64_t> CheckpointPolicy::to_remove(int64_t step,
                                                 const std::vector<int64_t>& present) const {
  std::vector<int64_t> out;
  if (kept(step)) return out;  // a kept checkpoint leaves the newest periodic one alone
  for (int64_t k : present)
    if (k != step && !kept(k)) out.push_back(k);
  return out;
}

}  // namespace gradscope
