// NumPy .npy (format version 1.0) encoding of float32 2-D arrays, so spectra open with
// numpy.load. Bytes in and out; the run layer writes the files atomically.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gradscope {

// The .npy bytes of a little-endian float32 array [rows, cols] (C order); cols = 0 writes a 1-D
// array [rows].
std::string encode_npy_f32(const std::vector<float>& data, int64_t rows, int64_t cols);

// Parses a float32 .npy array of 1 or 2 dimensions (1-D arrays read as [rows, 1]), such as
// encode_npy_f32 writes. Throws std::runtime_error naming `origin` when they are not one.
std::vector<float> decode_npy_f32(const std::string& bytes, int64_t& rows, int64_t& cols,
                                  const std::string& origin);

}  // namespace gradscope
