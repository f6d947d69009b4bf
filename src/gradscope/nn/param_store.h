// ParamStore: every parameter of a model in ONE flat buffer with named views, a gradient buffer
// of the same layout, and a copy of the initial weights W_0 (for spectra of W_t - W_0).
// The optimizer is one loop over the flat buffers; a checkpoint is one blob plus the name table.
// Each parameter starts at a multiple of 16 elements (64 bytes for float32); the padding between
// parameters is zero in every buffer and stays zero under every optimizer.
//
// Use: add() every parameter (names like "blocks.0.attn.W_Q"), then finalize(), initialize the
// values, then save_initial().
//
// Devices: to_device() gives the store device copies of the values and gradients; a tape on that
// device then reads and accumulates into them (on() picks by the tape), zero_grad() zeroes them,
// and download_values() / upload_values() copy the values between host and device (the host
// copy serves checkpoints, probes and metrics; the device copy is the one that trains; on the
// cpu both copies are the host buffers and the copies do nothing). W_0 stays on the host.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gradscope/autograd/tape.h"
#include "gradscope/tensor/tensor.h"

namespace gradscope {

struct ParamInfo {
  std::string name;
  Shape shape;
  int64_t offset = 0;  // first element in the flat buffers
};

template <class T>
class ParamStore {
 public:
  // Registers a parameter; returns its index. Names must be unique.
  int add(std::string name, Shape shape);
  // Allocates the zeroed buffers; no add() after this.
  void finalize();
  bool finalized() const { return finalized_; }

  int count() const { return static_cast<int>(params_.size()); }
  const std::vector<ParamInfo>& params() const { return params_; }
  const ParamInfo& info(int i) const { return params_[i]; }
  // Index of a parameter by name; throws listing the valid names when there is none.
  int index(std::string_view name) const;

  Tensor<T> value(int i) { return Tensor<T>(values_.data() + params_[i].offset, params_[i].shape); }
  Tensor<T> grad(int i) { return Tensor<T>(grads_.data() + params_[i].offset, params_[i].shape); }
  Tensor<const T> initial(int i) const {
    return Tensor<const T>(initial_.data() + params_[i].offset, params_[i].shape);
  }
  // The parameter as a leaf on a tape: backward accumulates into grad(i), or into the device
  // copy of it on a device tape.
  Var on(Tape<T>& tape, int i);

  // The flat buffers (padding included).
  std::span<T> values() { return values_; }
  std::span<T> grads() { return grads_; }
  std::span<const T> initial_values() const { return initial_; }
  int64_t size() const { return static_cast<int64_t>(values_.size()); }
  // The parameters' elements, without the padding: the model's parameter count.
  int64_t elements() const {
    int64_t n = 0;
    for (const ParamInfo& p : params_) n += p.shape.numel();
    return n;
  }
  // Each parameter's (first element, elements) in the flat buffers, in order.
  std::vector<std::pair<int64_t, int64_t>> spans() const {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const ParamInfo& p : params_) out.emplace_back(p.offset, p.shape.numel());
    return out;
  }

  // Zeroes the gradients (the device copy when there is one).
  void zero_grad();
  // W_0 := current values.
  void save_initial();

  // --- device copies ---
  void to_device(DeviceContext* device);  // allocates them and uploads the values
  // The copy that trains: the device's when there is one, else the host buffers.
  T* training_values() { return device_ ? dev_values_.get() : values_.data(); }
  T* training_grads() { return device_ ? dev_grads_.get() : grads_.data(); }
  void upload_values();    // host -> device (nothing on the cpu)
  void download_values();  // device -> host, waiting (nothing on the cpu)
  void download_grads();   // the gradients, device -> host, waiting (nothing on the cpu)

 private:
  struct DeviceFree {
    DeviceContext* device;
    void operator()(T* p) const {
      if (p) device->deallocate(p);
    }
  };
  std::vector<ParamInfo> params_;
  std::vector<T> values_, grads_, initial_;
  DeviceContext* device_ = nullptr;
  std::unique_ptr<T, DeviceFree> dev_values_{nullptr, {nullptr}}, dev_grads_{nullptr, {nullptr}};
  int64_t next_offset_ = 0;
  bool finalized_ = false;
};

}  // namespace gradscope
