// NumPy's array files, read and written in one place for every layer above: .npy arrays and .npz
// archives (numpy.savez, numpy.savez_compressed: a zip of .npy arrays, opened with libzip) read
// as their raw little-endian elements in C order, with dtype and shape (the arrays task checks
// and converts them, tasks/arrays.h); float32 2-D arrays written (spectra and Fourier norms open
// with numpy.load) and read back (the viewer, reports). Bytes in and out: the run layer writes
// the files atomically. Every malformation (not a zip, a truncated entry, a bad .npy header, an
// object or big-endian dtype, a data size that does not match the shape) is one exception naming
// the origin and the array.
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

// The .npy bytes of a little-endian float32 array [rows, cols] (C order); cols = 0 writes a 1-D
// array [rows].
std::string encode_npy_f32(const std::vector<float>& data, int64_t rows, int64_t cols);
// The .npy bytes of a little-endian float32 array of any shape (C order).
std::string encode_npy_f32(const std::vector<float>& data, const std::vector<int64_t>& shape);

// Parses a float32 .npy array of 1 or 2 dimensions (1-D arrays read as [rows, 1]), such as
// encode_npy_f32 writes. Throws std::runtime_error naming `origin` when they are not one.
std::vector<float> decode_npy_f32(const std::string& bytes, int64_t& rows, int64_t& cols,
                                  const std::string& origin);

}  // namespace gradscope
