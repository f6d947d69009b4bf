// Resolution of request paths under the served root (serve/safe_path.h).
#include "gradscope/serve/safe_path.h"

#include <system_error>

namespace gradscope::serve {

namespace fs = std::filesystem;

namespace {

// Why `rel` is refused by its text alone, or "" when its text is acceptable.
std::string text_refusal(const std::string& rel) {
  if (rel.size() > 1024) return "path too long";
  for (const unsigned char c : rel)
    if (c < 0x20 || c == 0x7f || c == '\\') return "control byte or backslash in path";
  if (!rel.empty() && rel.front() == '/') return "absolute path";
  size_t start = 0;
  while (start <= rel.size()) {
    const size_t end = std::min(rel.find('/', start), rel.size());
    if (rel.compare(start, end - start, "..") == 0 && end - start == 2) return "'..' in path";
    start = end + 1;
  }
  return "";
}

// Whether `path` is `root` or lies below it (component by component).
bool is_under(const fs::path& root, const fs::path& path) {
  auto r = root.begin(), p = path.begin();
  for (; r != root.end(); ++r, ++p)
    if (p == path.end() || *r != *p) return false;
  return true;
}

}  // namespace

std::optional<fs::path> resolve_under(const fs::path& root, const std::string& rel,
                                      std::string& why) {
  why = text_refusal(rel);
  if (!why.empty()) return std::nullopt;
  std::error_code ec;
  const fs::path resolved = fs::canonical(root / rel, ec);
  if (ec || !fs::is_directory(resolved, ec)) {
    why = "no such directory";
    return std::nullopt;
  }
  if (!is_under(root, resolved)) {
    why = "not under the root";
    return std::nullopt;
  }
  return resolved;
}

bool leads_out(const fs::path& root, const fs::path& path) {
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(path, ec))) return false;
  const fs::path target = fs::canonical(path, ec);
  return !ec && !is_under(root, target);  // a dangling link reads nothing
}

std::optional<fs::path> link_out_of(const fs::path& root, const fs::path& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (leads_out(root, it->path())) return it->path().lexically_relative(root);
  return std::nullopt;
}

std::string relative_name(const fs::path& root, const fs::path& path) {
  const std::string rel = path.lexically_relative(root).generic_string();
  return rel == "." ? "" : rel;
}

}  // namespace gradscope::serve
