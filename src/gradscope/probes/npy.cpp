// NumPy .npy encoding: see npy.h. Layout: magic "\x93NUMPY", version 1.0, a little-endian uint16
// header length, an ASCII dict padded with spaces to a multiple of 64 bytes and ending in '\n',
// then the raw data.
#include "gradscope/probes/npy.h"

#include <fmt/core.h>

#include <cstring>
#include <stdexcept>

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
  auto fail = [&](const std::string& why) {
    throw std::runtime_error(origin + ": not a float32 .npy array written by gradscope (" + why +
                             ")");
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) fail("bad magic");
  const size_t hlen = static_cast<unsigned char>(bytes[8]) |
                      (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  if (bytes.size() < 10 + hlen) fail("truncated header");
  const std::string dict = bytes.substr(10, hlen);
  if (dict.find("'<f4'") == std::string::npos) fail("dtype is not <f4");
  const size_t open = dict.find("'shape': (");
  if (open == std::string::npos) fail("no shape");
  long long r = 0, c = 0;
  const char* shape = dict.c_str() + open + 10;
  if (std::sscanf(shape, "%lld, %lld)", &r, &c) == 2) {
    rows = r, cols = c;
  } else if (std::sscanf(shape, "%lld,)", &r) == 1) {
    rows = r, cols = 1;
  } else {
    fail("unreadable shape");
  }
  const size_t n = static_cast<size_t>(rows * cols);
  if (bytes.size() != 10 + hlen + n * sizeof(float)) fail("data size does not match the shape");
  std::vector<float> out(n);
  if (n) std::memcpy(out.data(), bytes.data() + 10 + hlen, n * sizeof(float));
  return out;
}

}  // namespace gradscope
