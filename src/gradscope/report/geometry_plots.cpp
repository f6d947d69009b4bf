// The geometry plot of a run with probe.hessian or probe.llc: see plot.h.
#include <algorithm>
#include <cmath>

#include "gradscope/report/metric_series.h"
#include "gradscope/report/plot.h"
#include "gradscope/report/style.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;

// c / lr at the rows where `key` was measured: a stability threshold (gradient descent's 2 / lr
// for the sharpness; Adam's (2 + 2 beta1) / ((1 - beta1) lr) for the preconditioned sharpness).
Series threshold(const std::vector<MetricsRow>& rows, const std::string& key, double c,
                 const std::string& label) {
  Series s{label, style::kRed, {}, true};
  for (const MetricsRow& r : rows)
    if (std::isfinite(r.get(key)) && r.get("lr") > 0)
      s.points.emplace_back(double(r.step()), c / r.get("lr"));
  return s;
}

}  // namespace

std::vector<fs::path> write_geometry_plots(const fs::path& run_dir) {
  const std::vector<MetricsRow> rows = read_metrics(run_dir);
  std::vector<std::pair<std::string, std::vector<Series>>> panels;  // (y label, curves)
  const Series top = curve(rows, "hessian.top", "sharpness (top eigenvalue)", style::kBlue, false);
  if (top.points.size() >= 2)
    panels.push_back({"sharpness", {top, threshold(rows, "hessian.top", 2, "2 / lr")}});
  const Series adam =
      curve(rows, "hessian.preconditioned", "preconditioned sharpness (Adam)", style::kBlue, false);
  if (adam.points.size() >= 2) {
    const double b1 = read_run_config(run_dir).real("optim.beta1");
    panels.push_back({"preconditioned",
                      {adam, threshold(rows, "hessian.preconditioned", (2 + 2 * b1) / (1 - b1),
                                       "(2 + 2 beta1) / ((1 - beta1) lr)")}});
  }
  const Series llc = curve(rows, "llc.mean", "LLC (mean over chains)", style::kGreen, false);
  if (llc.points.size() >= 2) panels.push_back({"lambda-hat", {llc}});
  if (panels.empty()) return {};
  panels.insert(panels.begin(), {"loss",
                                 {curve(rows, "train_loss", "train loss", style::kBlue, false),
                                  curve(rows, "test_loss", "test loss", style::kRed, false)}});
  const double X = 90, W = 760, H = 240, gap = 80;
  const Axis ax{0.0, std::max(1.0, double(rows.back().step())), false};
  std::string body;
  for (size_t i = 0; i < panels.size(); ++i) {
    const auto& [label, series] = panels[i];
    std::vector<std::pair<double, double>> all;
    for (const Series& s : series) all.insert(all.end(), s.points.begin(), s.points.end());
    const Axis ay = i == 0 ? log_axis(all) : value_axis(series);
    body += panel(X, 60 + double(i) * (H + gap), W, H, ax, ay, series, label, label);
  }
  const fs::path out = rundir::plot_file(run_dir, "geometry");
  write_file_atomic(out,
                    svg_document(W + 160, 60 + double(panels.size()) * (H + gap) + 20,
                                 run_title(run_dir) + ": the loss's geometry over training", body));
  return {out};
}

}  // namespace gradscope
