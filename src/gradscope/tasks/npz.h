// NumPy .npz archives (numpy.savez, numpy.savez_compressed): a zip of .npy arrays, opened with
// libzip. The arrays come back as their raw little-endian elements in C order, with dtype and
// shape, for the arrays task (tasks/arrays.h) to check and convert. Every malformation (not a
// zip, a truncated entry, a bad .npy header, an object or big-endian dtype, a data size that
// does not match the shape) is one std::invalid_argument naming the origin and the array.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gradscope {

struct NpyArray {
  char kind = 'f';             // 'i' signed, 'u' unsigned, 'b' bool, 'f' floating point
  int itemsize = 8;            // bytes per element: 1, 2, 4 or 8
  std::vector<int64_t> shape;  // empty for a scalar
  std::string data;            // size() elements, C order, little-endian

  int64_t size() const;  // elements: the product of shape (1 for a scalar)
  // Element i as a double (any kind) or an integer (integer and bool kinds).
  double real(int64_t i) const;
  int64_t integer(int64_t i) const;
  bool is_integer() const { return kind != 'f'; }
  std::string dtype() const;       // "int64", "float32", "bool", ...
  std::string shape_text() const;  // "(3, 4)", "(5,)", "()"
};

// One .npy file's bytes. Throws std::invalid_argument "<origin>: ..." when malformed.
NpyArray parse_npy(const std::string& bytes, const std::string& origin);

// The arrays of an .npz archive held in memory, by name (the entry name without ".npy").
// Throws std::invalid_argument "<origin>: ..." naming the entry when anything is malformed.
std::map<std::string, NpyArray> parse_npz(const std::string& bytes, const std::string& origin);

// The same for a file: "<path>: no such file" when it is missing.
std::map<std::string, NpyArray> read_npz(const std::filesystem::path& path);

}  // namespace gradscope
