// SVG loss and accuracy curves: see plot.h.
#include "gradscope/report/plot.h"
#include "gradscope/report/style.h"

#include "gradscope/report/svg.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "gradscope/rundir/files.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"

namespace gradscope {

std::string run_title(const std::filesystem::path& run_dir) {
  if (rundir::is_run_dir(run_dir)) {
    const Config c = read_run_config(run_dir);
    return fmt::format("{} (seed {})", c.string("name"), c.integer("seed"));
  }
  return run_dir.filename().empty() ? run_dir.parent_path().filename().string()
                                    : run_dir.filename().string();
}

void write_curves_svg(const std::filesystem::path& run_dir, const std::filesystem::path& svg) {
  const std::vector<MetricsRow> rows = read_metrics(run_dir);
  Series train_loss{"train", style::kBlue, {}}, test_loss{"test", style::kRed, {}};
  Series train_acc{"train", style::kBlue, {}}, test_acc{"test", style::kRed, {}};
  Series rel_error{"test", style::kRed, {}};
  for (const MetricsRow& r : rows) {
    const double x = double(r.step());
    if (x < 1) continue;
    auto add = [&](Series& s, const char* key, bool positive) {
      const double y = r.get(key);
      if (std::isfinite(y) && (!positive || y > 0)) s.points.emplace_back(x, y);
    };
    add(train_loss, "train_loss", true);
    add(test_loss, "test_loss", true);
    add(train_acc, "train_acc", false);
    add(test_acc, "test_acc", false);
    add(rel_error, "test_rel_error", true);
  }
  if (train_loss.points.empty())
    throw std::runtime_error(rundir::metrics_jsonl(run_dir).string() +
                             ": no logged steps after step 0 to plot");
  const double xmax = train_loss.points.back().first;
  const Axis ax{1.0, std::pow(10.0, std::ceil(std::log10(std::max(xmax, 10.0)))), true};
  double lmin = INFINITY, lmax = 0;
  for (const Series* s : {&train_loss, &test_loss})
    for (const auto& p : s->points)
      lmin = std::min(lmin, p.second), lmax = std::max(lmax, p.second);
  const Axis ay_loss{std::pow(10.0, std::floor(std::log10(lmin))),
                     std::pow(10.0, std::ceil(std::log10(lmax))), true};
  const Axis ay_acc{0.0, 1.0, false};
  std::string out =
      panel(90, 70, 420, 320, ax, ay_loss, {train_loss, test_loss},
            rel_error.points.empty() ? "loss (cross-entropy)" : "loss (1/2 squared error)", "loss");
  if (!rel_error.points.empty()) {  // regression: relative test error instead of accuracy
    out += panel(630, 70, 420, 320, ax, log_axis(rel_error.points), {rel_error},
                 "relative error ||f(x) - y|| / ||y||", "relative error");
  } else {
    out += panel(630, 70, 420, 320, ax, ay_acc, {train_acc, test_acc}, "accuracy", "accuracy");
  }
  write_file_atomic(svg, svg_document(1100, 460, run_title(run_dir), out));
}

}  // namespace gradscope
