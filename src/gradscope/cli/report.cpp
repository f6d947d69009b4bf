// `gradscope report DIR --html OUT.html`: a run's or sweep's viewer pages as one self-contained
// HTML file, written atomically.
#include <fmt/core.h>

#include <memory>

#include "gradscope/cli/command.h"
#include "gradscope/rundir/files.h"
#include "gradscope/serve/report_html.h"

namespace gradscope::cli {
namespace {

struct ReportArgs {
  std::string dir, out;
};

int report(const ReportArgs& a) {
  write_file_atomic(a.out, serve::report_html(a.dir));
  fmt::print("wrote {}\n", a.out);
  return 0;
}

Action define(CLI::App& sub, const Globals& g) {
  auto a = std::make_shared<ReportArgs>();
  sub.add_option("dir", a->dir, "run or sweep directory")->required();
  sub.add_option("--html", a->out, "the HTML file to write")->required();
  return [a, &g] {
    host_only("report", g);
    return report(*a);
  };
}

}  // namespace

Command report_command() {
  return {"report", "write a run's or sweep's pages as one self-contained HTML file", &define};
}

}  // namespace gradscope::cli
