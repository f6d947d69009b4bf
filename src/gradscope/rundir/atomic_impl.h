// Template part of files.h: atomic binary writes.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

namespace gradscope {

// "cannot write <path>: <the reason errno gives>" (errno 0: no reason).
std::string write_error(const std::filesystem::path& path, int error);
// Renames tmp over path; when that fails, removes tmp and throws write_error(path, ...). A path
// that is a device or a pipe (/dev/null, /dev/stdout, through links) gets tmp's bytes written
// into it instead: renaming over it would replace the device with a file.
void rename_into_place(const std::filesystem::path& tmp, const std::filesystem::path& path);

template <class F>
void write_binary_atomic(const std::filesystem::path& path, F&& write) {
  // A name of this process's own: concurrent writers of one file (shards of a sweep writing its
  // manifest) never share a temporary file; the last rename wins whole.
  const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error(write_error(path, errno));
  auto fail = [&](int error) {  // nothing half-written stays behind
    std::fclose(f);
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw std::runtime_error(write_error(path, error));
  };
  errno = 0;
  try {
    write(f);
  } catch (const std::runtime_error&) {
    fail(errno);
  } catch (...) {
    std::fclose(f);
    std::filesystem::remove(tmp);
    throw;
  }
  if (std::fflush(f) != 0 || ::fsync(fileno(f)) != 0) fail(errno);
  if (std::fclose(f) != 0) {
    f = nullptr;
    const int error = errno;
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw std::runtime_error(write_error(path, error));
  }
  rename_into_place(tmp, path);
  fsync_directory(path.parent_path());
}

}  // namespace gradscope
