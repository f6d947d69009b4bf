// NumPy's array files: see npy.h. Reading: A .npy file is the magic "\x93NUMPY", a version (1.0: a
// uint16 header length; 2.0 and 3.0: uint32), an ASCII Python dict {'descr': '<i8',
// 'fortran_order': False, 'shape': (N, L), } and the raw elements.
#include "gradscope/tensor/npy.h"

#include <fmt/core.h>
#include <zip.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace gradscope {
namespace {

[[noreturn]] void fail(const std::string& origin, const std::string& why) {
  throw std::invalid_argument(origin + ": " + why);
}

// The value text after 'key': in a .npy header dict ("" when the key is missing).
std::string dict_value(const std::string& dict, const std::string& key) {
  size_t at = dict.find("'" + key + "'");
  if (at == std::string::npos) return "";
  at = dict.find(':', at);
  if (at == std::string::npos) return "";
  ++at;
  while (at < dict.size() && dict[at] == ' ') ++at;
  if (at >= dict.size()) return "";
  const char open = dict[at];
  const char close = open == '(' ? ')' : open == '[' ? ']' : open;
  if (open == '\'' || open == '"' || open == '(' || open == '[') {
    const size_t end = dict.find(close, at + 1);
    return end == std::string::npos ? "" : dict.substr(at, end - at + 1);
  }
  const size_t end = dict.find_first_of(",}", at);
  return dict.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// kind and itemsize from a descr such as '<i8', '|b1', '<f4'.
void read_descr(const std::string& descr, const std::string& origin, NpyArray& a) {
  if (descr.size() < 4 || descr.front() != '\'' || descr.back() != '\'')
    fail(origin, "dtype " + (descr.empty() ? std::string("missing") : descr) +
                     " is not a plain one (valid: bool, integer or floating point arrays)");
  const std::string d = descr.substr(1, descr.size() - 2);
  const char order = d[0], kind = d[1];
  int size = 0;
  for (size_t i = 2; i < d.size(); ++i) {
    if (d[i] < '0' || d[i] > '9' || size > 100) fail(origin, "unreadable dtype '" + d + "'");
    size = size * 10 + (d[i] - '0');
  }
  const bool known =
      (kind == 'b' && size == 1) ||
      ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
      (kind == 'f' && (size == 4 || size == 8));
  if (kind == 'O')
    fail(origin,
         "dtype object (ragged rows, or Python objects) is not read (valid: bool, "
         "integer or float32/float64 arrays with rows of equal length)");
  if (!known || (order != '<' && order != '|' && order != '=' && order != '>'))
    fail(origin, "dtype '" + d +
                     "' is not read (valid: bool, int8..int64, uint8..uint64, "
                     "float32, float64)");
  if (order == '>' && size > 1)
    fail(origin, "dtype '" + d + "' is big-endian (valid: little-endian; save a.astype('<" +
                     d.substr(1) + "'))");
  a.kind = kind;
  a.itemsize = size;
}

// The shape tuple text "(3, 4)" as dimensions.
std::vector<int64_t> read_shape(const std::string& text, const std::string& origin) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    fail(origin, "unreadable shape " + (text.empty() ? std::string("(missing)") : text));
  std::vector<int64_t> shape;
  std::stringstream in(text.substr(1, text.size() - 2));
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t b = item.find_first_not_of(' ');
    if (b == std::string::npos) continue;  // the trailing comma of (N,)
    int64_t v = 0;
    for (size_t i = b; i < item.size() && item[i] != ' ' && item[i] != 'L'; ++i) {
      if (item[i] < '0' || item[i] > '9' || v > (int64_t{1} << 50))
        fail(origin, "unreadable shape " + text);
      v = v * 10 + (item[i] - '0');
    }
    shape.push_back(v);
  }
  return shape;
}

// A 2-D array's elements from Fortran (column-major) to C order.
std::string to_c_order(const std::string& data, int64_t rows, int64_t cols, int itemsize) {
  std::string out(data.size(), '\0');
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      std::memcpy(&out[(r * cols + c) * itemsize], &data[(c * rows + r) * itemsize], itemsize);
  return out;
}

// zip_t closed on scope exit.
struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};

std::string zip_error_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string text = zip_error_strerror(&e);
  zip_error_fini(&e);
  return text;
}

// The bytes of entry i (its declared size, checked).
std::string read_entry(zip_t* z, zip_uint64_t i, const std::string& origin) {
  zip_stat_t st;
  if (zip_stat_index(z, i, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
    fail(origin, "unreadable archive entry");
  // Deflate expands at most ~1032x: a larger declared size is a corrupt (or hostile) entry, and
  // is refused before anything is allocated for it.
  const bool bounded = (st.valid & ZIP_STAT_COMP_SIZE) && st.size <= st.comp_size * 1100 + 4096;
  if (!bounded) fail(origin, fmt::format("corrupt entry (declares {} bytes)", st.size));
  std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(zip_fopen_index(z, i, 0), zip_fclose);
  if (!f) fail(origin, std::string("cannot open the entry: ") + zip_strerror(z));
  std::string bytes(static_cast<size_t>(st.size), '\0');
  zip_uint64_t got = 0;
  while (got < st.size) {
    const zip_int64_t n = zip_fread(f.get(), bytes.data() + got, st.size - got);
    if (n <= 0)
      fail(origin, "truncated or corrupt entry (" + std::string(zip_file_strerror(f.get())) + ")");
    got += static_cast<zip_uint64_t>(n);
  }
  return bytes;
}

}  // namespace

int64_t NpyArray::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

double NpyArray::real(int64_t i) const {
  const char* p = data.data() + i * itemsize;
  if (kind != 'f') return static_cast<double>(integer(i));
  if (itemsize == 4) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  double v;
  std::memcpy(&v, p, 8);
  return v;
}

int64_t NpyArray::integer(int64_t i) const {
  const char* p = data.data() + i * itemsize;
  switch (kind == 'u' ? -itemsize : itemsize) {
    case 1:
      return static_cast<int8_t>(*p);
    case -1:
      return static_cast<uint8_t>(*p);
    case 2: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case -2: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case -4: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case 8: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
    default: {  // uint64: values above int64's range read as the largest int64
      uint64_t v;
      std::memcpy(&v, p, 8);
      return v > uint64_t(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v);
    }
  }
}

std::string NpyArray::dtype() const {
  if (kind == 'b') return "bool";
  const char* base = kind == 'f' ? "float" : kind == 'u' ? "uint" : "int";
  return fmt::format("{}{}", base, itemsize * 8);
}

std::string NpyArray::shape_text() const {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

NpyArray parse_npy(const std::string& bytes, const std::string& origin) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    fail(origin, "not a .npy array (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  if (major < 1 || major > 3)
    fail(origin, fmt::format(".npy format version {} is not read", major));
  const size_t start = major == 1 ? 10 : 12;
  if (bytes.size() < start) fail(origin, "truncated .npy header");
  size_t hlen = 0;
  for (size_t i = start; i-- > 8;) hlen = hlen << 8 | static_cast<unsigned char>(bytes[i]);
  if (bytes.size() - start < hlen) fail(origin, "truncated .npy header");
  const std::string dict = bytes.substr(start, hlen);
  NpyArray a;
  read_descr(dict_value(dict, "descr"), origin, a);
  const std::string fortran = dict_value(dict, "fortran_order");
  if (fortran != "True" && fortran != "False") fail(origin, "unreadable fortran_order");
  a.shape = read_shape(dict_value(dict, "shape"), origin);
  const size_t have = bytes.size() - start - hlen;
  int64_t n = 1;
  for (int64_t d : a.shape)
    if (d != 0 && n > static_cast<int64_t>(have) / d)
      n = -1;  // more than the data holds
    else if (n >= 0)
      n *= d;
  if (n < 0 || static_cast<size_t>(n) * a.itemsize != have)
    fail(origin,
         fmt::format("{} bytes of data for shape {} of {} (expected {})", have, a.shape_text(),
                     a.dtype(), n < 0 ? std::string("more") : std::to_string(n * a.itemsize)));
  a.data = bytes.substr(start + hlen);
  if (fortran == "True" && a.shape.size() > 2)
    fail(origin,
         "a Fortran-ordered array of more than 2 dimensions is not read (save "
         "numpy.ascontiguousarray(a))");
  if (fortran == "True" && a.shape.size() == 2)
    a.data = to_c_order(a.data, a.shape[0], a.shape[1], a.itemsize);
  return a;
}

std::map<std::string, NpyArray> parse_npz(const std::string& bytes, const std::string& origin) {
  if (bytes.empty()) fail(origin, "empty file (not a .npz archive)");  // libzip: a new archive
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!src) fail(origin, "cannot read the archive");
  std::unique_ptr<zip_t, ZipCloser> z(
      zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error));
  if (!z) {
    zip_source_free(src);
    const int code = zip_error_code_zip(&error);
    zip_error_fini(&error);
    fail(origin, "not a .npz archive (" + zip_error_text(code) + ")");
  }
  zip_error_fini(&error);
  std::map<std::string, NpyArray> out;
  const zip_int64_t n = zip_get_num_entries(z.get(), 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* raw = zip_get_name(z.get(), static_cast<zip_uint64_t>(i), 0);
    std::string name = raw ? raw : "";
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
      name.resize(name.size() - 4);
    const std::string where = origin + ": " + (raw ? raw : "(unnamed entry)");
    if (out.count(name)) fail(where, "appears twice");
    out[name] = parse_npy(read_entry(z.get(), static_cast<zip_uint64_t>(i), where), where);
  }
  return out;
}

std::map<std::string, NpyArray> read_npz(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail(path.string(), "no such file");
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (!in) fail(path.string(), "cannot read");
  return parse_npz(bytes.str(), path.string());
}

// Writing: magic "\x93NUMPY", version 1.0, a little-endian uint16 header length, an ASCII dict
// padded with spaces to a multiple of 64 bytes and ending in '\n', then the raw data.
std::string encode_npy_f32(const std::vector<float>& data, const std::vector<int64_t>& shape) {
  std::string dims;
  int64_t n = 1;
  for (int64_t d : shape) dims += fmt::format("{}, ", d), n *= d;
  if (!shape.empty()) dims.resize(dims.size() - (shape.size() > 1 ? 2 : 1));  // "3, 4"; "5,"
  std::string dict =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims);
  const size_t prefix = 10;  // magic (6) + version (2) + header length (2)
  const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  out += dict;
  if (data.size() != static_cast<size_t>(n))
    throw std::logic_error("encode_npy_f32: data size does not match shape");
  out.append(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float));
  return out;
}

std::string encode_npy_f32(const std::vector<float>& data, int64_t rows, int64_t cols) {
  return cols > 0 ? encode_npy_f32(data, std::vector<int64_t>{rows, cols})
                  : encode_npy_f32(data, std::vector<int64_t>{rows});
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
