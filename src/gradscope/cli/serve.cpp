// `gradscope serve` (the live web viewer) and `gradscope report` (the same pages as one HTML file).
#include <fmt/core.h>

#include "gradscope/cli/commands.h"
#include "gradscope/rundir/files.h"
#include "gradscope/serve/http_server.h"
#include "gradscope/serve/report_html.h"

namespace gradscope::cli {

int serve(const std::string& root, const std::string& host, int port) {
  return serve::serve({root, host, port});
}

int report(const std::string& dir, const std::string& out) {
  if (out.empty())
    throw std::invalid_argument("report: --html OUT.html is required (the file to write)");
  write_file_atomic(out, serve::report_html(dir));
  fmt::print("wrote {}\n", out);
  return 0;
}

}  // namespace gradscope::cli
