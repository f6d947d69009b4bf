// Support for the libFuzzer targets: a scratch directory of this process for readers that take
// a path, and the one rule every target checks: a parser of outside input either returns or
// throws one of the documented exceptions (std::invalid_argument / ConfigError for bad input,
// std::runtime_error for a corrupt file); anything else (a crash, a hang, a leak, undefined
// behaviour, std::bad_alloc from a size read off the input) is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace gradscope_fuzz {

// This process's scratch directory (created once, removed when the process exits).
inline const std::filesystem::path& scratch() {
  struct Scratch {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("gradscope_fuzz_" + std::to_string(::getpid()));
    Scratch() { std::filesystem::create_directories(dir); }
    ~Scratch() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  };
  static const Scratch s;
  return s.dir;
}

// Writes the input to scratch()/name and returns the path.
inline std::filesystem::path write_input(const std::string& name, const uint8_t* data,
                                         size_t size) {
  const auto path = scratch() / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

inline std::string text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace gradscope_fuzz
