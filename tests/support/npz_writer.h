// Test support: .npz archives written as numpy.savez writes them (a zip of .npy 1.0 files), and
// zips of arbitrary entries for the malformed cases, without Python.
#pragma once

#include <fmt/core.h>
#include <zip.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gradscope_test {

// The .npy bytes of `values` with this descr ('<i8', '<f4', '|b1', ...) and shape.
template <class T>
std::string npy(const std::string& descr, const std::vector<int64_t>& shape,
                const std::vector<T>& values, bool fortran = false) {
  std::string dims;
  for (int64_t d : shape) dims += fmt::format("{}, ", d);
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  if (shape.size() == 1) dims.resize(dims.size() - 1);
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': {}, 'shape': ({}), }}", descr,
                                 fortran ? "True" : "False", dims);
  const size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  out += dict;
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  return out;
}

// A zip archive at `path` of {entry name, bytes}; deflated when `compress`.
inline void write_zip(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, std::string>>& entries,
                      bool compress = false) {
  int error = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (!z) throw std::runtime_error("write_zip: cannot create " + path.string());
  for (const auto& [name, bytes] : entries) {
    zip_source_t* src = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    const zip_int64_t i = zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE);
    if (i < 0) throw std::runtime_error("write_zip: cannot add " + name);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(i),
                             compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  if (zip_close(z) != 0) throw std::runtime_error("write_zip: cannot write " + path.string());
}

}  // namespace gradscope_test
