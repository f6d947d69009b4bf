// The rank-dynamics plots: see plot.h. They read the run's spectra, metrics and summary.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gradscope/report/plot.h"
#include "gradscope/report/style.h"
#include "gradscope/report/svg.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/spectra_files.h"
#include "gradscope/rundir/summary_file.h"
#include "gradscope/theory/saxe.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

Axis step_axis(double max_step) {
  return {1.0, std::pow(10.0, std::ceil(std::log10(std::max(max_step, 10.0)))), true};
}

// One file holding a grid of panels (pw x ph), one per probed matrix: panel(m) returns the
// curves of matrix m and the panel's axes and labels.
struct PanelSpec {
  std::vector<Series> series;
  Axis ax, ay;
  std::string ylabel, xlabel;
};
template <class F>
fs::path per_matrix_svg(const fs::path& file, const Spectra& sp, const std::string& title,
                        F&& spec) {
  const double pw = 300, ph = 200;
  const size_t count = sp.names.size(), cols = std::min<size_t>(count, 4),
               rows = (count + cols - 1) / cols;
  std::string body;
  for (size_t m = 0; m < count; ++m) {
    const PanelSpec p = spec(m);
    body += panel(80 + double(m % cols) * (pw + 90), 60 + double(m / cols) * (ph + 80), pw, ph,
                  p.ax, p.ay, p.series, sp.names[m], p.ylabel, p.xlabel, m == 0);
  }
  write_file_atomic(file, svg_document(90 + double(cols) * (pw + 90), 70 + double(rows) * (ph + 80),
                                       title, body));
  return file;
}

constexpr size_t kTopValues = 8;  // singular values drawn per matrix

fs::path spectra_svg(const fs::path& run_dir, const Spectra& sp, const std::string& title) {
  return per_matrix_svg(rundir::plot_file(run_dir, "spectra"), sp,
                        title + ": singular values of W_t - W_0", [&](size_t m) {
                          PanelSpec p{{}, step_axis(sp.steps.back()), {}, "singular value", "step"};
                          const size_t k =
                              sp.rows[m].empty() ? 0 : std::min(kTopValues, sp.rows[m][0].size());
                          std::vector<std::pair<double, double>> all;
                          for (size_t i = 0; i < k; ++i) {
                            Series s{fmt::format("s{}", i + 1), palette(i), {}};
                            for (size_t j = 0; j < sp.rows[m].size(); ++j)
                              if (sp.steps[j] >= 1 && sp.rows[m][j][i] > 0)
                                s.points.emplace_back(sp.steps[j], sp.rows[m][j][i]);
                            all.insert(all.end(), s.points.begin(), s.points.end());
                            p.series.push_back(std::move(s));
                          }
                          p.ay = log_axis(all);
                          p.ay.lo = std::max(p.ay.lo, p.ay.hi * 1e-6);
                          return p;
                        });
}

fs::path normalized_svg(const fs::path& run_dir, const Spectra& sp, const std::string& title) {
  // About five logged steps, log-spaced over the run.
  std::vector<size_t> picks;
  const double last = sp.steps.back();
  for (int q = 1; q <= 5; ++q) {
    const double target = std::pow(std::max(last, 10.0), q / 5.0);
    size_t best = 0;
    for (size_t j = 0; j < sp.steps.size(); ++j)
      if (std::abs(std::log(std::max(sp.steps[j], 1.0) / target)) <
          std::abs(std::log(std::max(sp.steps[best], 1.0) / target)))
        best = j;
    if (std::find(picks.begin(), picks.end(), best) == picks.end()) picks.push_back(best);
  }
  return per_matrix_svg(
      rundir::plot_file(run_dir, "normalized_spectra"), sp,
      title + ": normalized spectra of W_t - W_0", [&](size_t m) {
        PanelSpec p{{}, {}, Axis{1e-4, 1, true}, "sigma_i / sigma_max", "i"};
        size_t k = 1;
        for (size_t c = 0; c < picks.size(); ++c) {
          const auto& row = sp.rows[m][picks[c]];
          k = std::max(k, row.size());
          Series s{fmt::format("step {}", int64_t(sp.steps[picks[c]])), palette(c), {}};
          for (size_t i = 0; i < row.size(); ++i)
            if (row[0] > 0 && row[i] / row[0] >= 1e-4)
              s.points.emplace_back(double(i + 1), row[i] / row[0]);
          p.series.push_back(std::move(s));
        }
        p.ax = Axis{0, nice_ceiling(double(k)), false};
        return p;
      });
}

fs::path stable_rank_svg(const fs::path& run_dir, const Spectra& sp,
                         const std::vector<MetricsRow>& rows, const std::string& title) {
  std::vector<Series> series;
  for (size_t m = 0; m < sp.names.size(); ++m) {
    Series s{sp.names[m], palette(m), {}, m >= 10};  // dashed after the palette's 10 colours
    const std::string key = "spectra." + sp.names[m] + ".stable_rank";
    for (const MetricsRow& r : rows)
      if (r.step() >= 1 && std::isfinite(r.get(key)) && r.get(key) > 0)
        s.points.emplace_back(double(r.step()), r.get(key));
    series.push_back(std::move(s));
  }
  std::vector<std::pair<double, double>> all;
  for (const Series& s : series) all.insert(all.end(), s.points.begin(), s.points.end());
  double hi = 1;
  for (const auto& p : all) hi = std::max(hi, p.second);
  const double W = 1100, H = std::max(520.0, 80 + 16.0 * double(series.size()));
  const std::string body =
      panel(90, 60, 680, 400, step_axis(sp.steps.back()), Axis{0, nice_ceiling(hi * 1.05), false},
            series, "stable rank ||dW||_F^2 / ||dW||_2^2", "stable rank", "step", false) +
      legend_box(790, 60, series);
  const fs::path out = rundir::plot_file(run_dir, "stable_rank");
  write_file_atomic(out, svg_document(W, H, title + ": stable rank of W_t - W_0", body));
  return out;
}

fs::path staircase_svg(const fs::path& run_dir, const json& theory,
                       const std::vector<MetricsRow>& rows, const std::string& title) {
  const json& p = theory["prediction"];
  const auto jumps = p["jump_times"].get<std::vector<double>>();
  const auto plateaus = p["plateau_losses"].get<std::vector<double>>();
  Series observed{"observed train loss", style::kBlue, {}}, predicted{"predicted", style::kRed, {}};
  double tmax = 0;
  for (const MetricsRow& r : rows) {
    const double t = r.get("rescaled_time"), l = r.get("train_loss");
    if (std::isfinite(t) && l > 0) observed.points.emplace_back(t, l), tmax = std::max(tmax, t);
  }
  const double floor_loss = 1e-6 * std::max(plateaus.front(), 1e-30);
  double t = 0;
  for (size_t k = 0; k < plateaus.size(); ++k) {
    const double next = k < jumps.size() ? jumps[k] : tmax;
    const double level = std::max(plateaus[k], floor_loss);
    predicted.points.emplace_back(t, level);
    predicted.points.emplace_back(std::min(next, tmax), level);
    t = std::min(next, tmax);
  }
  std::vector<std::pair<double, double>> all = observed.points;
  all.insert(all.end(), predicted.points.begin(), predicted.points.end());
  Axis ay = log_axis(all);
  ay.lo = std::max(ay.lo, floor_loss);
  std::vector<Series> series{observed, predicted};
  // Observed rank increments (spectral half-value crossings) as short vertical ticks.
  const json& obs = theory["observed"];
  if (obs.contains("spectral_jump_times"))
    for (const json& v : obs["spectral_jump_times"]) {
      const double x = v.get<double>();
      if (x <= tmax)
        series.push_back(Series{series.size() == 2 ? "rank increments (spectra)" : "",
                                style::kGreen,
                                {{x, ay.hi}, {x, ay.lo}}});
    }
  const double W = 900, H = 500;
  const std::string body = panel(90, 60, 720, 380, Axis{0, nice_ceiling(tmax), false}, ay, series,
                                 "train loss and the predicted staircase", "loss",
                                 "rescaled time  step * lr / log(1/alpha)");
  const fs::path out = rundir::plot_file(run_dir, "staircase");
  write_file_atomic(out, svg_document(W, H, title + ": incremental learning", body));
  return out;
}

fs::path modes_svg(const fs::path& run_dir, const json& theory, const std::vector<MetricsRow>& rows,
                   const std::string& title) {
  const json& p = theory["prediction"];
  const double lr = p["lr"].get<double>();
  const int64_t depth = p["depth"].get<int64_t>();
  std::vector<Series> series;
  double tmax = 0, smax = 0;
  for (const MetricsRow& r : rows) tmax = std::max(tmax, double(r.step()) * lr);
  size_t c = 0;
  for (const json& m : p["modes"]) {
    const double s = m["s"].get<double>(), u0 = m["u0"].get<double>();
    smax = std::max(smax, s);
    const std::string key = fmt::format("mode.{}", m["mode"].get<int64_t>());
    Series obs{fmt::format("mode {} (s = {:g})", m["mode"].get<int64_t>(), s), palette(c), {}};
    for (const MetricsRow& r : rows)
      if (std::isfinite(r.get(key))) obs.points.emplace_back(double(r.step()) * lr, r.get(key));
    std::vector<double> t;
    for (int i = 0; i <= 400; ++i) t.push_back(tmax * i / 400.0);
    const auto u = saxe_mode_curve(s, u0, depth, t);
    Series pred{"closed form", style::kBlack, {}, true};
    for (size_t i = 0; i < t.size(); ++i) pred.points.emplace_back(t[i], u[i]);
    if (c > 0) pred.label.clear();  // one legend entry for every closed-form curve
    series.push_back(std::move(obs));
    series.push_back(std::move(pred));  // dashed, over the observed curve
    ++c;
  }
  const double W = 900, H = 500;
  const Axis ax{0, nice_ceiling(tmax), false}, ay{0, nice_ceiling(smax * 1.05), false};
  const std::string body = panel(90, 60, 720, 380, ax, ay, series,
                                 "mode strengths v_i^T W u_i: observed and closed form (dashed)",
                                 "mode strength", "t = step * lr");
  const fs::path out = rundir::plot_file(run_dir, "modes");
  write_file_atomic(out, svg_document(W, H, title + ": Saxe et al. mode dynamics", body));
  return out;
}

}  // namespace

std::vector<fs::path> write_rank_plots(const fs::path& run_dir) {
  std::vector<fs::path> written;
  const std::optional<Summary> summary = read_summary(run_dir);
  std::vector<std::string> order;  // the probe's order of matrices
  if (summary && summary->spectral_jump_steps.is_object())
    for (const auto& [name, v] : summary->spectral_jump_steps.items()) order.push_back(name);
  const std::string title = run_dir.filename().empty() ? run_dir.parent_path().filename().string()
                                                       : run_dir.filename().string();
  const Spectra sp = read_spectra(run_dir, order);
  const std::vector<MetricsRow> rows = read_metrics(run_dir);
  if (!sp.steps.empty() && !sp.names.empty()) {
    written.push_back(spectra_svg(run_dir, sp, title));
    written.push_back(normalized_svg(run_dir, sp, title));
    written.push_back(stable_rank_svg(run_dir, sp, rows, title));
  }
  if (summary && !summary->theory.is_null()) {
    const json th = json::parse(summary->theory.dump());
    if (th["prediction"]["kind"] == "stages")
      written.push_back(staircase_svg(run_dir, th, rows, title));
    if (th["prediction"]["kind"] == "saxe") written.push_back(modes_svg(run_dir, th, rows, title));
  }
  return written;
}

}  // namespace gradscope
