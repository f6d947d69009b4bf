// The geometry plot of a run with probe.hessian or probe.llc: see plot.h.
#include <algorithm>
#include <cmath>

#include "gradscope/report/metric_series.h"
#include "gradscope/report/plot.h"
#include "gradscope/report/style.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/rundir/spectra_files.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;

// c / lr at the steps of `of`, lr that of the last logged row at or before each: a stability
// threshold (gradient descent's 2 / lr for the sharpness; Adam's (2 + 2 beta1) / ((1 - beta1) lr)
// for the preconditioned sharpness).
Series threshold(const Series& of, const std::vector<MetricsRow>& rows, double c,
                 const std::string& label) {
  Series s{label, style::kRed, {}, true};
  for (const auto& [step, value] : of.points) {
    double lr = NAN;
    for (const MetricsRow& r : rows)
      if (double(r.step()) <= step) lr = r.get("lr");
    if (lr > 0) s.points.emplace_back(step, c / lr);
  }
  return s;
}

// The column `key` over the rows, or where no row has it (the measure was taken by gradscope llc or
// gradscope hessian, not a probe) from the measure's folder (rundir/spectra_files.h).
Series measured(const std::vector<MetricsRow>& rows, const fs::path& run_dir,
                const std::string& key, const std::string& label, const std::string& color) {
  Series s = curve(rows, key, label, color, false);
  if (s.points.size() < 2) s.points = folder_measure_series(run_dir, key);
  return s;
}

}  // namespace

std::vector<fs::path> write_geometry_plots(const fs::path& run_dir) {
  const std::vector<MetricsRow> rows = read_metrics(run_dir);
  std::vector<std::pair<std::string, std::vector<Series>>> panels;  // (y label, curves)
  const Series top =
      measured(rows, run_dir, "hessian.top", "sharpness (top eigenvalue)", style::kBlue);
  const Config config = read_run_config(run_dir);
  if (!top.points.empty()) {  // 2 / lr: gradient descent's threshold, not an adaptive rule's
    std::vector<Series> s = {top};
    if (config.string("optim.name") == "sgd") s.push_back(threshold(top, rows, 2, "2 / lr"));
    panels.push_back({"sharpness", s});
  }
  const Series adam = measured(rows, run_dir, "hessian.preconditioned",
                               "preconditioned sharpness (Adam)", style::kBlue);
  if (!adam.points.empty()) {
    const double b1 = config.real("optim.beta1");
    panels.push_back({"preconditioned",
                      {adam, threshold(adam, rows, (2 + 2 * b1) / (1 - b1),
                                       "(2 + 2 beta1) / ((1 - beta1) lr)")}});
  }
  const Series llc = measured(rows, run_dir, "llc.mean", "LLC (mean over chains)", style::kGreen);
  if (!llc.points.empty()) panels.push_back({"lambda-hat", {llc}});
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
