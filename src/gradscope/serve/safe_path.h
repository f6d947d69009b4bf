// Paths a web request names, resolved under the served root and nowhere else. A request names a
// run or sweep directory relative to ROOT ("sweep-wd/0f3a..."); everything that could leave ROOT
// is refused before the file system is asked: absolute paths, "..", NUL and other control bytes,
// backslashes; then the path is resolved through its symlinks and must still lie under ROOT, and
// so must every file the viewer reads in it (a file linked out of ROOT is not read through it).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace gradscope::serve {

// The canonical directory `rel` names under `root` (itself canonical), or nullopt with `why`
// set to a short reason that names no host path ("not under the root", "no such directory").
std::optional<std::filesystem::path> resolve_under(const std::filesystem::path& root,
                                                   const std::string& rel, std::string& why);

// Whether `path` exists and resolves (through any link on its way) outside `root` (canonical).
bool leads_out(const std::filesystem::path& root, const std::filesystem::path& path);
// The first of the files the viewer reads of `run` (a directory under `root`, both canonical)
// that resolves outside `root`, through a link of its own or of a folder above it below the run,
// relative to `root`; nullopt when all stay under it. Such a run is not served. Its checkpoints
// and data file are not read and may lie anywhere.
std::optional<std::filesystem::path> link_out_of(const std::filesystem::path& root,
                                                 const std::filesystem::path& run);

// `path` relative to `root` with '/' separators ("" for root itself); both canonical.
std::string relative_name(const std::filesystem::path& root, const std::filesystem::path& path);

}  // namespace gradscope::serve
