// Tape: define-by-run reverse-mode autodiff.
//
// Every op called with a Tape computes its output at once (into the Arena) and, when any input
// needs a gradient, records a Node: a plain function pointer to its backward plus the indices and
// saved buffers that backward needs. backward() walks the nodes in reverse; each node's backward
// ACCUMULATES (+=) into its inputs' gradients. Gradients of activations are allocated (zeroed)
// the first time something flows into them; parameter gradients are the caller's buffers (the
// ParamStore's flat gradient buffer), which backward also accumulates into, so the caller zeroes
// them once per step. reset() forgets every Var and returns the arena; the vectors keep their
// capacity, so a steady-state step allocates nothing.
//
// Vars are small handles (an index into this tape), valid until the next reset().
//
// Devices: a tape built with a DeviceContext (cuda/device.h) keeps every value and gradient in
// that device's memory (its arena's blocks come from the device); a tape without one computes on
// the host. Either way backend() is where its kernels run (the cpu backend for a host tape), so an
// op written as a kernel runs on every device; the ops not yet written that way still branch on
// device(). Host code must not read such a tensor's data: it copies
// what it needs with the context's download(). The bookkeeping (Vars, nodes) stays on the host,
// so a whole forward and backward queue device work only, and can be captured as a CUDA graph.
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "gradscope/cuda/device.h"
#include "gradscope/tensor/arena.h"
#include "gradscope/tensor/tensor.h"

namespace gradscope {

struct Var {
  int32_t id = -1;
  bool valid() const { return id >= 0; }
};

template <class T>
class Tape;

// Which side of its kink each element of a piecewise-linear op was on at one point (a relu's
// input above 0, a hinge term active), recorded there and replayed at nearby points. Replayed,
// each such op is the linear piece of the recorded point, so a gradient at w + h u is that of the
// function's linearization at w, as autograd's second derivatives see it (relu'' = 0): central
// differences of gradients then give that Hessian instead of a jump across a kink
// (run/hessian.h). Host tapes only.
struct KinkPatterns {
  enum class Mode { record, replay };
  Mode mode = Mode::record;
  std::vector<std::vector<uint8_t>> sides;  // per op, in the forward pass's order: 1 above
  size_t next = 0;                          // while replaying: the next op's pattern
  // A forward pass begins: replay from the first op, or record afresh.
  void restart() {
    next = 0;
    if (mode == Mode::record) sides.clear();
  }
};

// What an op leaves for its backward. Fields mean what the op's backward says they mean.
template <class T>
struct Node {
  using Backward = void (*)(Tape<T>&, const Node&);
  Backward backward = nullptr;
  std::array<int32_t, 4> in{-1, -1, -1, -1};  // input Var ids (-1: unused)
  int32_t out = -1;                           // output Var id
  std::array<const void*, 3> saved{};         // buffers kept for backward
  std::array<int64_t, 4> i{};                 // integer attributes
  std::array<double, 2> f{};                  // real attributes
};

template <class T>
class Tape {
 public:
  // `device` (nullptr: the host) must be the memory of `arena`'s blocks.
  explicit Tape(Arena& arena, DeviceContext* device = nullptr);

  // --- leaves ---
  // A parameter: value lives in the ParamStore; backward accumulates into `grad` (same layout).
  Var param(Tensor<T> value, T* grad);
  // A constant input (data, targets): never gets a gradient.
  Var constant(Tensor<T> value);
  // A constant from host memory that stays alive and unchanged (a model's fixed table): a view on
  // the host; on a device, its copy uploaded on first use and kept (capture-safe afterwards).
  Var constant_table(const T* host, Shape shape);

  // --- used by ops ---
  // A new, uninitialized activation in the arena. It will take a gradient when `requires_grad`
  // and recording is on.
  Var make(Shape shape, bool requires_grad);
  // A view of `base` starting `offset` elements in: shares value and gradient storage.
  Var view(Var base, int64_t offset, Shape shape);
  void record(const Node<T>& node) { nodes_.push_back(node); }

  Tensor<T> value(Var v) const { return recs_[v.id].value; }
  const Shape& shape(Var v) const { return recs_[v.id].value.shape; }
  bool requires_grad(Var v) const { return v.valid() && recs_[v.id].requires_grad; }
  // Gradient buffer of v, allocated and zeroed on first use. v must require grad.
  // Like grad(), for an op that will WRITE every element of the gradient: if v has no gradient
  // yet, it gets uninitialized memory and `fresh` is set (the op must store, not add); otherwise
  // `fresh` is false and the op adds as usual. Saves zero-filling large activation gradients.
  T* grad_fresh(Var v, bool& fresh);
  T* grad(Var v);
  // For an op whose backward would copy its output's gradient g into input v unchanged (the
  // residual add): when v has no gradient yet and is not a view, v takes the buffer g itself and
  // this returns true (no copy, no zero fill); otherwise false, and the op adds into grad(v). g
  // must be the gradient of a Var no later backward reads: an op's own output, whose gradient is
  // complete once that op's backward runs (every reader of the output was recorded after it).
  bool adopt_grad(Var v, T* g);
  // Gradient buffer of v, or nullptr when nothing has flowed into it yet.
  T* grad_if_any(Var v) const { return recs_[v.id].grad; }

  // Kinks recorded or replayed by the piecewise-linear ops (nullptr: off; the ops as they are).
  // The patterns outlive the tape's use; this and reset() restart them (a forward pass begins).
  void set_kinks(KinkPatterns* kinks);
  KinkPatterns* kinks() const { return kinks_; }

  // While disabled (evaluation), ops record nothing and outputs take no gradient.
  void set_grad_enabled(bool enabled) { grad_enabled_ = enabled; }
  bool grad_enabled() const { return grad_enabled_; }

  // Seeds d(loss) = 1 for a scalar loss and runs every recorded backward in reverse. An op
  // output's gradient buffer is handed on once that op's backward has run (its gradient is
  // complete and nothing later reads it) to the next activation gradient of the same size, so
  // gradients take about one layer's memory rather than the whole graph's; afterwards only the
  // parameters' gradients (and buffers an input adopted) are to be read.
  void backward(Var loss);
  // Seeds d(y) = dy (same shape as y; host memory) and runs every recorded backward in reverse.
  void backward(Var y, const T* dy);
  // Forgets every Var and node and resets the arena.
  void reset();

  Arena& arena() { return arena_; }
  // The device the tape computes on; nullptr for the host.
  DeviceContext* device() const { return device_; }
  // Where its kernels run: the device, or the cpu backend (cpu_context()) for a host tape. An op
  // written once as a kernel launches it here and runs on every device.
  DeviceContext& backend() const { return device_ ? *device_ : cpu_context(); }
  size_t node_count() const { return nodes_.size(); }

 private:
  struct Rec {
    Tensor<T> value;
    T* grad = nullptr;   // nullptr until allocated (activations) or the caller's (parameters)
    int32_t base = -1;   // for views: the Var whose storage this one shares
    int64_t offset = 0;  // for views: element offset into base
    bool requires_grad = false;
  };
  Var push(Rec rec);
  void run_backward();  // every recorded backward, in reverse
  // An activation gradient of n elements: a buffer handed back by release_output_grad, or new.
  T* take_grad(int64_t n);
  // After node's backward: its output's gradient buffer to the free buffers, unless an input
  // adopted it (adopt_grad).
  void release_output_grad(const Node<T>& node);

  Arena& arena_;
  DeviceContext* device_ = nullptr;
  std::vector<Rec> recs_;
  std::vector<Node<T>> nodes_;
  std::unordered_map<int64_t, std::vector<T*>> free_grads_;  // by element count
  bool grad_enabled_ = true;
  KinkPatterns* kinks_ = nullptr;
};

}  // namespace gradscope
