// `gradscope ls [key=value ...] [--index FILE]`: the indexed runs that match the filters, with
// their phases and the config keys that differ between them.
#include <fmt/core.h>

#include <algorithm>
#include <memory>
#include <set>

#include "gradscope/cli/command.h"
#include "gradscope/config/config.h"
#include "gradscope/index/results_index.h"

namespace gradscope::cli {
namespace {

struct LsArgs {
  std::vector<std::string> filters;
  std::string index;
};

// The columns shown: identity and phases, then the config keys whose values differ.
std::vector<size_t> shown_columns(const std::vector<std::string>& columns,
                                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> show;
  for (const char* c : {"dir", "status", "regime", "memorized_step", "generalized_step",
                        "final_test_acc", "final_test_loss"})
    for (size_t i = 0; i < columns.size(); ++i)
      if (columns[i] == c) show.push_back(i);
  for (size_t i = 0; i < columns.size(); ++i) {
    // Config keys only (seed and precision among them); a run's name differs anyway.
    if (!Config::find(columns[i]) || columns[i] == "name") continue;
    std::set<std::string> distinct;
    for (const auto& r : rows) distinct.insert(r[i]);
    if (distinct.size() > 1) show.push_back(i);
  }
  return show;
}

int ls(const LsArgs& a) {
  ResultsIndex db(existing_index(a.index), IndexAccess::read);
  std::vector<std::string> columns;
  const auto rows = db.select(a.filters, columns);
  const std::vector<size_t> show = shown_columns(columns, rows);
  std::vector<size_t> width(show.size());
  for (size_t k = 0; k < show.size(); ++k) {
    width[k] = columns[show[k]].size();
    for (const auto& r : rows) width[k] = std::max(width[k], r[show[k]].size());
  }
  auto line = [&](auto&& cell) {
    std::string s;
    for (size_t k = 0; k < show.size(); ++k) s += fmt::format("{:<{}}  ", cell(show[k]), width[k]);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    fmt::print("{}\n", s);
  };
  line([&](size_t i) { return columns[i]; });
  for (const auto& r : rows) line([&](size_t i) { return r[i]; });
  fmt::print("{} runs\n", rows.size());
  return 0;
}

Action define(CLI::App& sub, const Globals&) {
  auto a = std::make_shared<LsArgs>();
  sub.add_option("filters", a->filters, "key=value (also !=, <, >, <=, >=), e.g. regime=grokking");
  sub.add_option("--index", a->index, "index file (default: runs/index.sqlite)");
  return [a] { return ls(*a); };
}

}  // namespace

Command ls_command() {
  return {"ls", "list indexed runs: phases and the config keys that vary", &define};
}

}  // namespace gradscope::cli
