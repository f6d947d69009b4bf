// Resolution of request paths under the served root (serve/safe_path.h).
#include "gradscope/serve/safe_path.h"

#include "gradscope/rundir/paths.h"

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
  const fs::path target = fs::canonical(path, ec);  // through every link on its way
  return !ec && !is_under(root, target);            // missing or dangling: reads nothing
}

std::optional<fs::path> link_out_of(const fs::path& root, const fs::path& run) {
  // What the viewer reads of a run: its files and measure folders (not checkpoints/ or data.npz,
  // which may lie elsewhere, e.g. on a scratch filesystem). Each is resolved through every link
  // on its way; a folder's files (inside/<step>/ two levels down) are resolved one by one.
  std::error_code ec;
  auto outside = [&](const fs::path& p) { return leads_out(root, p); };
  for (const fs::path& p :
       {rundir::config_file(run), rundir::metrics_jsonl(run), rundir::summary_file(run),
        rundir::heartbeat_file(run), rundir::theory_file(run), rundir::spectra_dir(run),
        rundir::fourier_dir(run), rundir::llc_dir(run), rundir::hessian_dir(run),
        rundir::inside_dir(run)}) {
    if (!fs::exists(fs::symlink_status(p, ec))) continue;
    if (outside(p)) return p.lexically_relative(root);
    if (!fs::is_directory(p, ec)) continue;
    using It = fs::recursive_directory_iterator;
    for (It it(p, fs::directory_options::follow_directory_symlink, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it.depth() >= 2) it.disable_recursion_pending();  // no deeper in any run folder
      if (outside(it->path())) return it->path().lexically_relative(root);
    }
  }
  return std::nullopt;
}

std::string relative_name(const fs::path& root, const fs::path& path) {
  const std::string rel = path.lexically_relative(root).generic_string();
  return rel == "." ? "" : rel;
}

}  // namespace gradscope::serve
