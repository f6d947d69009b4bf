// When the training loop writes a checkpoint, and which it keeps:
//   kept for good   the steps train.checkpoint_steps keeps ("log": 0, 100, 200, 500, 1000, ...)
//   periodic        every train.checkpoint_every steps, only the newest kept (a resume needs it)
//   the end         the run's last step, and the step at which a signal stops it
// A resumed run does not rewrite the checkpoint it resumed from.
#pragma once

#include <cstdint>
#include <vector>

#include "gradscope/run/train_options.h"

namespace gradscope {

class CheckpointPolicy {
 public:
  explicit CheckpointPolicy(const TrainConfig& train) : train_(train) {}
  // Whether to write a checkpoint at `step` (end: the run's last step; stopping: a signal came).
  bool due(int64_t step, bool end, bool stopping) const;
  // After writing `step`: the checkpoints among `present` to delete (older periodic ones).
  std::vector<int64_t> to_remove(int64_t step, const std::vector<int64_t>& present) const;
  bool kept(int64_t step) const { return train_.checkpoint_steps.keeps(step); }

 private:
  TrainConfig train_;
};

}  // namespace gradscope
