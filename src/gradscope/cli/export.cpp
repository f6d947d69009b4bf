// `gradscope export --csv [--out FILE] [--index FILE]`: the results index as one flat table.
#include <fmt/core.h>

#include <memory>

#include "gradscope/cli/command.h"
#include "gradscope/index/results_index.h"
#include "gradscope/rundir/files.h"

namespace gradscope::cli {
namespace {

struct ExportArgs {
  bool csv = false;
  std::string out, index;
};

int export_csv(const ExportArgs& a) {
  ResultsIndex db(existing_index(a.index), IndexAccess::read);
  const std::string csv = db.export_csv();
  if (a.out.empty() || a.out == "-") {
    fmt::print("{}", csv);
  } else {
    write_file_atomic(a.out, csv);  // all of it or, on failure, nothing
    fmt::print(stderr, "wrote {}\n", a.out);
  }
  return 0;
}

Action define(CLI::App& sub, const Globals&) {
  auto a = std::make_shared<ExportArgs>();
  sub.add_flag("--csv", a->csv, "CSV (the only format)")->required();
  sub.add_option("--out", a->out, "file (default: stdout)");
  sub.add_option("--index", a->index, "index file (default: runs/index.sqlite)");
  return [a] { return export_csv(*a); };
}

}  // namespace

Command export_command() {
  return {"export", "write the index as one flat table", &define};
}

}  // namespace gradscope::cli
