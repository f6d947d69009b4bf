// NumPy .npy encoding: see npy.h. Layout: magic "\x93NUMPY", version 1.0, a little-endian uint16
// header length, an ASCII dict padded with spaces to a multiple of 64 bytes and ending in '\n',
// then the raw data. Reading goes through tasks/npz.h's general .npy parser.
#include "gradscope/probes/npy.h"

#include <fmt/core.h>

#include <cstring>
#include <stdexcept>

#include "gradscope/tasks/npz.h"

namespace gradscope {

std::string encode_npy_f32(const std::vector<float>& data, int64_t rows, int64_t cols) {
  std::string dict =
      cols > 0 ? fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
                             rows, cols)
               : fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}", rows);
  const size_t prefix = 10;  // magic (6) + version (2) + header length (2)
  const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  out += dict;
  const size_t n = static_cast<size_t>(rows * (cols > 0 ? cols : 1));
  if (data.size() != n) throw std::logic_error("encode_npy_f32: data size does not match shape");
  out.append(reinterpret_cast<const char*>(data.data()), n * sizeof(float));
  return out;
}

std::vector<float> decode_npy_f32(const std::string& bytes, int64_t& rows, int64_t& cols,
                                  const std::string& origin) {
  NpyArray a;
  try {
    a = parse_npy(bytes, origin);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  if (a.kind != 'f' || a.itemsize != 4 || a.shape.empty() || a.shape.size() > 2)
    throw std::runtime_error(origin + ": " + a.dtype() + " " + a.shape_text() +
                             " (valid: float32 [rows] or [rows, cols], as gradscope writes)");
  rows = a.shape[0];
  cols = a.shape.size() == 2 ? a.shape[1] : 1;
  std::vector<float> out(static_cast<size_t>(a.size()));
  if (!out.empty()) std::memcpy(out.data(), a.data.data(), out.size() * sizeof(float));
  return out;
}

}  // namespace gradscope
