// Paths a web request names, resolved under the served root and nowhere else. A request names a
// run or sweep directory relative to ROOT ("sweep-wd/0f3a..."); everything that could leave ROOT
// is refused before the file system is asked: absolute paths, "..", NUL and other control bytes,
// backslashes; then the path is resolved through its symlinks and must still lie under ROOT.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace gradscope::serve {

// The canonical directory `rel` names under `root` (itself canonical), or nullopt with `why`
// set to a short reason that names no host path ("not under the root", "no such directory").
std::optional<std::filesystem::path> resolve_under(const std::filesystem::path& root,
                                                   const std::string& rel, std::string& why);

// `path` relative to `root` with '/' separators ("" for root itself); both canonical.
std::string relative_name(const std::filesystem::path& root, const std::filesystem::path& path);

}  // namespace gradscope::serve
