// Shape: the dimensions of a row-major, contiguous tensor of rank 0 to 4.
// A rank-0 shape is a scalar (numel 1). Shapes print as "[3830, 128]" in every error message.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace gradscope {

inline constexpr int kMaxRank = 4;

struct Shape {
  std::array<int64_t, kMaxRank> dims{};  // only the first `rank` entries are meaningful
  int rank = 0;

  Shape() = default;
  Shape(std::initializer_list<int64_t> d) {
    if (d.size() > kMaxRank) throw std::invalid_argument("Shape: rank above 4");
    for (int64_t v : d) {
      if (v < 0) throw std::invalid_argument("Shape: negative dimension");
      dims[rank++] = v;
    }
  }

  int64_t operator[](int i) const { return dims[i]; }
  int64_t& operator[](int i) { return dims[i]; }
  // Dimension counted from the end: back(0) is the last one.
  int64_t back(int i = 0) const { return dims[rank - 1 - i]; }

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  // Product of all dimensions but the last: the number of rows when viewed as a matrix.
  int64_t rows() const { return rank == 0 ? 1 : numel() / back(); }

  // Same shape with the last dimension replaced (e.g. linear's output).
  Shape with_last(int64_t last) const {
    Shape s = *this;
    s.dims[rank - 1] = last;
    return s;
  }

  // True when `suffix` equals the trailing dimensions of this shape (broadcast rule of add/mul).
  bool ends_with(const Shape& suffix) const {
    if (suffix.rank > rank) return false;
    for (int i = 0; i < suffix.rank; ++i)
      if (suffix.back(i) != back(i)) return false;
    return true;
  }

  bool operator==(const Shape& o) const {
    if (rank != o.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (dims[i] != o.dims[i]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }

  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < rank; ++i) {
      if (i) s += ", ";
      s += std::to_string(dims[i]);
    }
    return s + "]";
  }
};

// Thrown by an op given shapes it cannot combine; the message names the op and the shapes.
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

}  // namespace gradscope
