// Whole files of a run directory: see files.h.
#include "gradscope/rundir/files.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace gradscope {

void fsync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string write_error(const std::filesystem::path& path, int error) {
  return "cannot write " + path.string() + (error ? std::string(": ") + std::strerror(error) : "");
}

void rename_into_place(const std::filesystem::path& tmp, const std::filesystem::path& path) {
  std::error_code ec;
  const auto kind = std::filesystem::status(path, ec).type();  // through links
  using std::filesystem::file_type;
  if (kind == file_type::character || kind == file_type::block || kind == file_type::fifo ||
      kind == file_type::socket) {
    // A device or pipe (/dev/null, /dev/stdout): written through, never replaced by a file.
    std::ifstream in(tmp, std::ios::binary);
    std::ofstream out(path, std::ios::binary);
    out << in.rdbuf();
    const bool ok = static_cast<bool>(out);
    std::filesystem::remove(tmp, ec);
    if (!ok) throw std::runtime_error(write_error(path, errno));
    return;
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    const int error = ec.value();
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error(write_error(path, error));
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read");
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  write_binary_atomic(path, [&](std::FILE* f) {
    if (std::fwrite(content.data(), 1, content.size(), f) != content.size())
      throw std::runtime_error(write_error(path, errno));
  });
}

void replace_file(const std::filesystem::path& path, const std::string& content) {
  const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error(write_error(path, errno));
  const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const int error = errno;
  if (std::fclose(f) != 0 || !ok) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw std::runtime_error(write_error(path, ok ? errno : error));
  }
  rename_into_place(tmp, path);
}

}  // namespace gradscope
