// `gradscope index rebuild [ROOT]`: recreates the results index (ROOT/index.sqlite) from the run
// directories under ROOT; unreadable runs are named and skipped.
#include <fmt/core.h>

#include <memory>

#include "gradscope/cli/command.h"
#include "gradscope/index/results_index.h"
#include "gradscope/rundir/paths.h"

namespace gradscope::cli {
namespace {

int rebuild(const std::string& root) {
  std::vector<std::string> skipped;
  const std::filesystem::path db = rundir::index_file(root);
  const int64_t n = rebuild_index(root, db, skipped);
  for (const std::string& s : skipped) fmt::print(stderr, "gradscope: skipped {}\n", s);
  fmt::print("indexed {} runs into {}{}\n", n, db.string(),
             skipped.empty() ? "" : fmt::format(" ({} skipped)", skipped.size()));
  return 0;
}

Action define(CLI::App& sub, const Globals&) {
  auto root = std::make_shared<std::string>("runs");
  auto words = std::make_shared<std::vector<std::string>>();  // where the subcommand goes
  CLI::App* r = sub.add_subcommand("rebuild", "recreate it from the run directories");
  r->add_option("root", *root, "runs root (default: runs)");
  sub.add_option("subcommand", *words, "rebuild");
  return [root, words, r] {
    if (r->parsed() && !words->empty())
      throw ConfigError("index rebuild: '" + words->front() +
                        "' was not expected (valid: index rebuild [ROOT])");
    if (!r->parsed())
      throw ConfigError(words->empty() ? "index needs a subcommand (valid: rebuild [ROOT])"
                                       : "index: unknown subcommand '" + words->front() +
                                             "' (valid: rebuild [ROOT])");
    return rebuild(*root);
  };
}

}  // namespace

Command index_command() {
  return {"index", "the results index (runs/index.sqlite)", &define};
}

}  // namespace gradscope::cli
