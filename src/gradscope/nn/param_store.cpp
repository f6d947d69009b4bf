// ParamStore implementation: see param_store.h.
#include "gradscope/nn/param_store.h"

#include <algorithm>
#include <stdexcept>

namespace gradscope {

namespace {
constexpr int64_t kAlignElems = 16;
}

template <class T>
int ParamStore<T>::add(std::string name, Shape shape) {
  if (finalized_) throw std::logic_error("ParamStore::add(\"" + name + "\") after finalize()");
  for (const ParamInfo& p : params_)
    if (p.name == name) throw std::invalid_argument("parameter \"" + name + "\" is defined twice");
  params_.push_back({std::move(name), shape, next_offset_});
  next_offset_ += (shape.numel() + kAlignElems - 1) / kAlignElems * kAlignElems;
  return count() - 1;
}

template <class T>
void ParamStore<T>::finalize() {
  values_.assign(next_offset_, T(0));
  grads_.assign(next_offset_, T(0));
  initial_.assign(next_offset_, T(0));
  finalized_ = true;
}

template <class T>
int ParamStore<T>::index(std::string_view name) const {
  for (int i = 0; i < count(); ++i)
    if (params_[i].name == name) return i;
  std::string valid;
  for (const ParamInfo& p : params_) valid += (valid.empty() ? "" : ", ") + p.name;
  throw std::invalid_argument("no parameter named \"" + std::string(name) + "\" (valid: " + valid +
                              ")");
}

template <class T>
Var ParamStore<T>::on(Tape<T>& tape, int i) {
  if (tape.backend().host_memory()) return tape.param(value(i), grad(i).data);  // host copies
  if (tape.device() != device_)
    throw std::logic_error("ParamStore::on: the tape's device holds no copy of the parameters");
  const ParamInfo& p = params_[i];
  return tape.param(Tensor<T>(dev_values_.get() + p.offset, p.shape), dev_grads_.get() + p.offset);
}

template <class T>
void ParamStore<T>::zero_grad() {
  (device_ ? *device_ : cpu_context()).zero(training_grads(), grads_.size() * sizeof(T));
}

template <class T>
void ParamStore<T>::to_device(DeviceContext* device) {
  if (!finalized_) throw std::logic_error("ParamStore::to_device before finalize()");
  const size_t bytes = values_.size() * sizeof(T);
  device_ = device;
  dev_values_ = {static_cast<T*>(device->allocate(bytes)), {device}};
  dev_grads_ = {static_cast<T*>(device->allocate(bytes)), {device}};
  device->zero(dev_grads_.get(), bytes);
  upload_values();
}

template <class T>
void ParamStore<T>::upload_values() {
  if (!device_) return;
  device_->upload(dev_values_.get(), values_.data(), values_.size() * sizeof(T));
  device_->sync();  // the host buffer may change right after
}

template <class T>
void ParamStore<T>::download_values() {
  if (!device_) return;
  device_->download(values_.data(), dev_values_.get(), values_.size() * sizeof(T));
}

template <class T>
void ParamStore<T>::download_grads() {
  if (!device_) return;
  device_->download(grads_.data(), dev_grads_.get(), grads_.size() * sizeof(T));
}

template <class T>
void ParamStore<T>::save_initial() {
  std::copy(values_.begin(), values_.end(), initial_.begin());
}

template class ParamStore<float>;
template class ParamStore<double>;

}  // namespace gradscope
