// Tensor<T>: a non-owning view of row-major contiguous storage (data pointer + Shape).
// Storage is owned elsewhere: the ParamStore (parameters), the Arena (per-step activations) or a
// std::vector (datasets). Views are cheap: reshape shares the data (the tape's reshape and rows
// ops make views of Vars).
// T is float (the default precision) or double (the run-level `precision = "float64"` setting and
// gradient checks); every kernel and op is written once as a template over T.
#pragma once

#include <cstdint>
#include <string>

#include "gradscope/tensor/shape.h"

namespace gradscope {

template <class T>
struct Tensor {
  T* data = nullptr;
  Shape shape;

  Tensor() = default;
  Tensor(T* d, Shape s) : data(d), shape(s) {}

  int64_t numel() const { return shape.numel(); }
  T* begin() const { return data; }
  T* end() const { return data + numel(); }
  T& operator[](int64_t i) const { return data[i]; }

  // Same storage, new shape; the element count must match.
  Tensor reshape(Shape s) const {
    if (s.numel() != numel())
      throw ShapeError("reshape: cannot view " + shape.str() + " as " + s.str());
    return Tensor(data, s);
  }
};

// Name of the scalar type as used in configs and file headers.
template <class T>
constexpr const char* precision_name() {
  return sizeof(T) == 4 ? "float32" : "float64";
}

}  // namespace gradscope
