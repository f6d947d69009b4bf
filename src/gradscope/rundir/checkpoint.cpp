// Checkpoint files: see checkpoint.h.
#include "gradscope/rundir/checkpoint.h"

#include <fmt/core.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "gradscope/rundir/files.h"
#include "gradscope/rundir/json_fields.h"
#include "gradscope/tensor/tensor.h"

namespace gradscope {
namespace {
constexpr char kMagic[9] = "GSCKPT01";
}  // namespace

template <class T>
void save_checkpoint(const std::filesystem::path& path, int64_t step, double wall_time_s,
                     const std::string& config_toml, const CheckpointBuffers<T>& contents) {
  nlohmann::ordered_json h;
  h["format"] = fmt::format("gradscope-checkpoint-{}", kCheckpointFormat);
  h["checksum"] = "crc32";
  h["step"] = step;
  h["precision"] = precision_name<T>();
  h["wall_time_s"] = wall_time_s;
  h["config"] = config_toml;
  h["optimizer"] = {{"name", contents.optimizer}, {"steps", contents.optimizer_steps}};
  for (const CheckpointParam& p : contents.params)
    h["params"].push_back({{"name", p.name}, {"shape", p.shape}, {"offset", p.offset}});
  const auto& bufs = contents.buffers;
  for (auto& [name, span] : bufs)
    h["buffers"].push_back({{"name", name}, {"elements", span.size()}});
  const std::string header = h.dump();
  std::filesystem::create_directories(path.parent_path());
  write_binary_atomic(path, [&](std::FILE* f) {
    uLong crc = crc32(0, nullptr, 0);
    auto put = [&](const void* data, size_t bytes) {
      if (std::fwrite(data, 1, bytes, f) != bytes) throw std::runtime_error("short write");
      crc = crc32_z(crc, static_cast<const Bytef*>(data), bytes);
    };
    const uint64_t len = header.size();
    put(kMagic, 8);
    put(&len, 8);
    put(header.data(), len);
    for (auto& [name, span] : bufs) put(span.data(), span.size_bytes());
    const auto trailer = static_cast<uint32_t>(crc);
    put(&trailer, 4);
  });
}

namespace {

// An open checkpoint file, closed on scope exit.
struct File {
  std::FILE* f = nullptr;
  ~File() {
    if (f) std::fclose(f);
  }
};

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw std::runtime_error(path.string() + ": " + what);
}
[[noreturn]] void damaged(const std::filesystem::path& path, const std::string& what) {
  throw CheckpointDamaged(path.string() + ": " + what);
}

// Whether the last 4 bytes of the file (`size` bytes) are the CRC-32 of the rest. Moves `f`.
bool trailer_matches(std::FILE* f, int64_t size) {
  if (size < 4) return false;
  uLong crc = crc32(0, nullptr, 0);
  std::vector<unsigned char> chunk(1 << 20);
  std::fseek(f, 0, SEEK_SET);
  for (int64_t left = size - 4; left > 0;) {
    const size_t n = std::fread(chunk.data(), 1, std::min<int64_t>(left, chunk.size()), f);
    if (n == 0) return false;
    crc = crc32_z(crc, chunk.data(), n);
    left -= static_cast<int64_t>(n);
  }
  uint32_t trailer = 0;
  return std::fread(&trailer, 4, 1, f) == 1 && trailer == static_cast<uint32_t>(crc);
}

// Reads the magic and the JSON header (leaving `f` at the first buffer); checks the version.
nlohmann::json read_header(std::FILE* f, const std::filesystem::path& path, int& format) {
  char magic[8];
  uint64_t len = 0;
  if (std::fread(magic, 1, 8, f) != 8 || std::memcmp(magic, kMagic, 8) != 0 ||
      std::fread(&len, 8, 1, f) != 1 || len > (uint64_t{1} << 30))
    damaged(path, "not a gradscope checkpoint");
  // A length the file cannot hold is damage, found before a buffer of that size is made.
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || len > size - 16) damaged(path, "truncated header");
  std::string header(len, '\0');
  if (std::fread(header.data(), 1, len, f) != len) damaged(path, "truncated header");
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception&) {
    damaged(path, "malformed header");
  }
  const std::string tag = h.is_object() ? h.value("format", std::string()) : std::string();
  format = tag.rfind("gradscope-checkpoint-", 0) == 0 ? std::atoi(tag.c_str() + 21) : 0;
  if (format < 1) damaged(path, "malformed header (format \"" + tag + "\")");
  // A newer format, or a damaged digit of ours: a file that carries a checksum and fails it is
  // damaged, whatever its header says.
  if (format > kCheckpointFormat && h.contains("checksum") &&
      !trailer_matches(f, static_cast<int64_t>(std::filesystem::file_size(path))))
    damaged(path, "checksum mismatch (the file was changed or damaged after it was written)");
  if (format > kCheckpointFormat)
    fail(path, fmt::format("written by a newer gradscope (checkpoint format {}; this build reads "
                           "formats 1 to {})",
                           format, kCheckpointFormat));
  return h;
}

CheckpointInfo info_of(const nlohmann::json& h, int format) {
  CheckpointInfo info;
  info.format = format;
  info.step = json_int_at(h, "step");
  info.wall_time_s = h.value("wall_time_s", 0.0);
  info.config_toml = h.value("config", "");
  info.precision = h.value("precision", "");
  info.optimizer = h.at("optimizer").value("name", "");
  info.optimizer_steps = json_int_at(h.at("optimizer"), "steps");
  return info;
}

// Formats 1 and 2: precision, optimizer, the parameter table and the buffers as listed, raw.
template <class T>
void load_buffers(std::FILE* f, const std::filesystem::path& path, const nlohmann::json& h,
                  const CheckpointBuffers<T>& into) {
  const std::string& optimizer_name = into.optimizer;
  if (h.value("precision", "") != precision_name<T>())
    fail(path, "precision " + h.value("precision", "?") + " does not match the run's " +
                   precision_name<T>());
  if (h["optimizer"].value("name", "") != optimizer_name)
    fail(path, "optimizer " + h["optimizer"].value("name", "?") + " does not match the run's " +
                   optimizer_name);
  const auto& ps = h.at("params");
  if (ps.size() != into.params.size()) fail(path, "parameter count differs from the model's");
  for (size_t i = 0; i < ps.size(); ++i) {
    const CheckpointParam& p = into.params[i];
    if (ps[i].at("name") != p.name || json_ints(ps[i].at("shape"), "shape") != p.shape ||
        json_int_at(ps[i], "offset") != p.offset)
      fail(path, "parameter " + ps[i].at("name").get<std::string>() +
                     " does not match the model's " + p.name);
  }
  const auto& bufs = into.buffers;
  const auto& hb = h.at("buffers");
  if (hb.size() != bufs.size()) fail(path, "optimizer state does not match");
  for (size_t i = 0; i < bufs.size(); ++i)
    if (hb[i].at("name") != bufs[i].first ||
        json_int_at(hb[i], "elements") != static_cast<int64_t>(bufs[i].second.size()))
      fail(path, "buffer " + hb[i].at("name").get<std::string>() + " does not match");
  // Read everything before changing anything.
  std::vector<T> staging;
  for (auto& [name, span] : bufs) {
    const size_t at = staging.size();
    staging.resize(at + span.size());
    if (std::fread(staging.data() + at, sizeof(T), span.size(), f) != span.size())
      damaged(path, "truncated data");
  }
  size_t at = 0;
  for (auto& [name, span] : bufs) {
    std::copy(staging.begin() + at, staging.begin() + at + span.size(), span.begin());
    at += span.size();
  }
}

}  // namespace

namespace {

// Format 2 on: the file is exactly as long as its header says and its CRC-32 trailer matches
// every byte before it. Leaves `f` where it was (at the first buffer).
void check_seal(std::FILE* f, const std::filesystem::path& path, const nlohmann::json& h) {
  const int64_t data_at = std::ftell(f);
  const std::string precision = h.value("precision", "");
  const int64_t element = precision == "float64" ? 8 : precision == "float32" ? 4 : 0;
  if (element == 0) damaged(path, "malformed header (precision \"" + precision + "\")");
  const auto size = static_cast<int64_t>(std::filesystem::file_size(path));
  int64_t expected = data_at + 4;
  for (const auto& b : h.at("buffers")) {
    const int64_t n = json_int_at(b, "elements");
    if (n < 0 || n > (size - expected) / element) damaged(path, "truncated data");
    expected += n * element;
  }
  if (size != expected)
    damaged(path, fmt::format("{} bytes where its header describes {}", size, expected));
  if (!trailer_matches(f, size))
    damaged(path, "checksum mismatch (the file was changed or damaged after it was written)");
  std::fseek(f, data_at, SEEK_SET);
}

// Opens `path`, reads its header (any version), verifies the checksum where asked (and the
// format has one) and returns read(file, header, format), the file left at the first buffer;
// JSON errors in the header become "malformed header".
template <class F>
auto with_header(const std::filesystem::path& path, bool verify, F&& read) {
  File file{std::fopen(path.c_str(), "rb")};
  if (!file.f) fail(path, "cannot read");
  int format = 0;
  try {
    const nlohmann::json h = read_header(file.f, path, format);
    if (verify && format >= 2) check_seal(file.f, path, h);
    return read(file.f, h, format);
  } catch (const nlohmann::json::exception& e) {
    damaged(path, std::string("malformed header (") + e.what() + ")");
  }
}

}  // namespace

CheckpointInfo read_checkpoint_info(const std::filesystem::path& path) {
  return with_header(path, false, [](std::FILE*, const nlohmann::json& h, int format) {
    return info_of(h, format);
  });
}

CheckpointLayout read_checkpoint_layout(const std::filesystem::path& path) {
  return with_header(path, true, [&](std::FILE* f, const nlohmann::json& h, int format) {
    CheckpointLayout l;
    l.info = info_of(h, format);
    l.element_size = l.info.precision == "float64" ? 8 : l.info.precision == "float32" ? 4 : 0;
    if (l.element_size == 0) damaged(path, "malformed header (precision " + l.info.precision + ")");
    for (const auto& p : h.at("params"))
      l.params.push_back({p.at("name").get<std::string>(), json_ints(p.at("shape"), "shape"),
                          json_int_at(p, "offset")});
    int64_t at = std::ftell(f);
    const auto size = static_cast<int64_t>(std::filesystem::file_size(path));
    for (const auto& b : h.at("buffers")) {
      const int64_t n = json_int_at(b, "elements");
      if (n < 0 || n > (size - at) / l.element_size) damaged(path, "truncated data");
      l.buffers.push_back({b.at("name").get<std::string>(), n, at});
      at += n * l.element_size;
    }
    return l;
  });
}

template <class T>
CheckpointInfo load_checkpoint(const std::filesystem::path& path,
                               const CheckpointBuffers<T>& into) {
  return with_header(path, true, [&](std::FILE* f, const nlohmann::json& h, int format) {
    const CheckpointInfo info = info_of(h, format);
    load_buffers(f, path, h, into);  // formats 1 and 2 alike
    return info;
  });
}

#define GRADSCOPE_INSTANTIATE(T)                                                     \
  template void save_checkpoint<T>(const std::filesystem::path&, int64_t, double,    \
                                   const std::string&, const CheckpointBuffers<T>&); \
  template CheckpointInfo load_checkpoint<T>(const std::filesystem::path&,           \
                                             const CheckpointBuffers<T>&);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
