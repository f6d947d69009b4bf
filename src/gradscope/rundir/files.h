// Whole files of a run directory: atomic writes (readers see the old file or the new one, never a
// mix, also after a crash) and whole-file reads.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

namespace gradscope {

// Writes `content` to a temporary file beside `path`, fsyncs it, renames it over `path` and
// fsyncs the directory.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);
// Same, for a binary payload produced by `write` into an open FILE*.
template <class F>
void write_binary_atomic(const std::filesystem::path& path, F&& write);
// Replaces `path` by renaming a temporary file over it, without fsync: for files rewritten every
// few seconds whose loss in a crash costs nothing (the heartbeat).
void replace_file(const std::filesystem::path& path, const std::string& content);

// The whole file as bytes. Throws std::runtime_error naming the file when it cannot be read.
std::string read_file(const std::filesystem::path& path);

void fsync_directory(const std::filesystem::path& dir);

}  // namespace gradscope

#include "gradscope/rundir/atomic_impl.h"
