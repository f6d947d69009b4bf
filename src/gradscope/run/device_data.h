// The data a run on a device reads (cuda/device.h): each split uploaded once (ids, class targets,
// and real inputs and targets converted to the model's precision), and fixed buffers that each
// step's batch is uploaded into, so that a captured training step reads the same addresses every
// step (a smaller batch, the last of an epoch, uses the start of the same buffers).
#pragma once

#include <cstdint>
#include <vector>

#include "gradscope/cuda/device.h"
#include "gradscope/probes/objective.h"
#include "gradscope/tasks/dataset.h"

namespace gradscope {

template <class T>
struct DeviceSplit {
  DeviceBuffer<int32_t> ids, targets;  // [N, L], [N, P]
  DeviceBuffer<T> xt, yt;              // [N, F], [N, Y]
  int64_t n = 0;
  Examples examples() const;  // device pointers
};

// Uploads every example of `d` (waits until the copies are done).
template <class T>
DeviceSplit<T> upload_split(DeviceContext& device, const Dataset& d);

template <class T>
class DeviceBatch {
 public:
  // Buffers for batches of n examples laid out as `layout`.
  DeviceBatch(DeviceContext& device, const Dataset& layout, int64_t n);
  // Copies a host batch of at most n examples in; the device pointers returned are the same
  // every call.
  Examples upload(const Examples& host);

 private:
  DeviceContext& device_;
  int64_t L_, F_, P_, Y_;
  DeviceSplit<T> buffers_;
  std::vector<T> staging_;  // [N, F] or [N, Y]: real values in T
};

}  // namespace gradscope
