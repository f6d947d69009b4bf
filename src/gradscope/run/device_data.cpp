// Device copies of a run's data: see device_data.h.
#include "gradscope/run/device_data.h"

#include <stdexcept>

namespace gradscope {
namespace {

// x [n, F] doubles as T, into `out`.
template <class T>
void to_precision(const double* x, int64_t count, std::vector<T>& out) {
  out.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<T>(x[i]);
}

// n doubles into `out` (device memory) as T, through `staging`; waits, so `staging` may be reused.
template <class T>
void upload_reals(DeviceContext& device, DeviceBuffer<T>& out, const double* src, int64_t n,
                  std::vector<T>& staging) {
  to_precision(src, n, staging);
  out.upload(staging.data(), n);
  device.sync();
}

}  // namespace

template <class T>
Examples DeviceSplit<T>::examples() const {
  Examples e;
  e.ids = ids.data();
  e.targets = targets.data();
  e.xt = xt.data();
  e.yt = yt.data();
  e.n = n;
  return e;
}

template <class T>
DeviceSplit<T> upload_split(DeviceContext& device, const Dataset& d) {
  DeviceSplit<T> s;
  s.n = d.size();
  s.ids = DeviceBuffer<int32_t>(device, static_cast<int64_t>(d.inputs.size()));
  s.targets = DeviceBuffer<int32_t>(device, static_cast<int64_t>(d.targets.size()));
  s.ids.upload(d.inputs.data(), s.ids.size());
  s.targets.upload(d.targets.data(), s.targets.size());
  s.xt = DeviceBuffer<T>(device, static_cast<int64_t>(d.x.size()));
  s.yt = DeviceBuffer<T>(device, static_cast<int64_t>(d.y.size()));
  std::vector<T> staging;
  upload_reals(device, s.xt, d.x.data(), s.xt.size(), staging);
  upload_reals(device, s.yt, d.y.data(), s.yt.size(), staging);
  return s;
}

template <class T>
DeviceBatch<T>::DeviceBatch(DeviceContext& device, const Dataset& layout, int64_t n)
    : device_(device),
      L_(layout.length),
      F_(layout.features),
      P_(layout.targets_per_example),
      Y_(layout.outputs) {
  buffers_.n = n;
  buffers_.ids = DeviceBuffer<int32_t>(device, n * L_);
  buffers_.targets = DeviceBuffer<int32_t>(device, n * P_);
  buffers_.xt = DeviceBuffer<T>(device, n * F_);
  buffers_.yt = DeviceBuffer<T>(device, n * Y_);
}

template <class T>
Examples DeviceBatch<T>::upload(const Examples& host) {
  if (host.n > buffers_.n) throw std::logic_error("DeviceBatch: a batch larger than its buffers");
  if (host.ids) buffers_.ids.upload(host.ids, host.n * L_);
  if (host.targets) buffers_.targets.upload(host.targets, host.n * P_);
  if (host.x) upload_reals(device_, buffers_.xt, host.x, host.n * F_, staging_);
  if (host.y) upload_reals(device_, buffers_.yt, host.y, host.n * Y_, staging_);
  device_.sync();  // the host batch may change once this returns
  Examples e = buffers_.examples();
  e.n = host.n;
  return e;
}

template struct DeviceSplit<float>;
template struct DeviceSplit<double>;
template DeviceSplit<float> upload_split<float>(DeviceContext&, const Dataset&);
template DeviceSplit<double> upload_split<double>(DeviceContext&, const Dataset&);
template class DeviceBatch<float>;
template class DeviceBatch<double>;

}  // namespace gradscope
