// Template part of files.h: atomic binary writes.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace gradscope {

template <class F>
void write_binary_atomic(const std::filesystem::path& path, F&& write) {
  // A name of this process's own: concurrent writers of one file (shards of a sweep writing its
  // manifest) never share a temporary file; the last rename wins whole.
  const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + tmp.string());
  try {
    write(f);
  } catch (...) {
    std::fclose(f);
    std::filesystem::remove(tmp);
    throw;
  }
  const bool ok = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  std::fclose(f);
  if (!ok) throw std::runtime_error("cannot write " + tmp.string());
  std::filesystem::rename(tmp, path);
  fsync_directory(path.parent_path());
}

}  // namespace gradscope
