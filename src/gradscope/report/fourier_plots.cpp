// The Fourier progress-measure plots (probe.fourier): see plot.h. They read fourier/*.npy, the
// metrics and the summary's phases.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "gradscope/report/plot.h"
#include "gradscope/report/style.h"
#include "gradscope/report/svg.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/spectra_files.h"
#include "gradscope/rundir/summary_file.h"
#include "gradscope/tensor/npy.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;

struct FourierRows {
  std::vector<double> steps;  // [n] the probe steps
  std::vector<float> norms;   // [n, K] norms per frequency
  int64_t n = 0, K = 0;
};

std::optional<FourierRows> read_fourier(const fs::path& run_dir, const std::string& matrix) {
  const auto files = read_probe_files(rundir::fourier_dir(run_dir));
  const auto s = files.find("steps.npy"), m = files.find(matrix + ".npy");
  if (s == files.end() || m == files.end()) return std::nullopt;
  FourierRows f;
  int64_t n = 0, one = 0;
  const std::vector<float> steps = decode_npy_f32(s->second, n, one, "fourier/steps.npy");
  f.norms = decode_npy_f32(m->second, f.n, f.K, "fourier/" + matrix + ".npy");
  if (f.n > n) throw std::runtime_error("fourier/" + matrix + ".npy has more rows than steps");
  f.steps.assign(steps.begin(), steps.begin() + f.n);
  return f;
}

// One heatmap panel at (x0, y0): frequency k (y, 1 at the bottom) by probe step (x, each cell
// reaching to the next probe step), colour = norm / the panel's largest norm; key frequencies
// labelled on the right.
std::string heatmap(double x0, double y0, double w, double h, const FourierRows& f,
                    const std::string& title, const std::vector<int64_t>& keys) {
  const Axis ax{0.0, std::max(1.0, f.steps.back()), false};
  const Axis ay{0.5, double(f.K) + 0.5, false};
  std::string s = panel(x0, y0, w, h, ax, ay, {}, title, "frequency k", "step", false);
  const float top = *std::max_element(f.norms.begin(), f.norms.end());
  const double ch = h / double(f.K);
  for (int64_t i = 0; i < f.n; ++i) {
    const double xa = ax.map(f.steps[i], x0, x0 + w);
    const double xb = i + 1 < f.n ? ax.map(f.steps[i + 1], x0, x0 + w) : x0 + w;
    for (int64_t k = 1; k <= f.K; ++k) {
      const double v = top > 0 ? f.norms[i * f.K + k - 1] / top : 0.0;
      s += svg_rect(xa, ay.map(double(k) + 0.5, y0 + h, y0), std::max(xb - xa, 0.5), ch,
                    ramp_colour(v));
    }
  }
  for (int64_t k : keys)
    s += svg_text(x0 + w + 4, ay.map(double(k), y0 + h, y0) + 4, fmt::format("k={}", k),
                  {.size = 10});
  return s;
}

fs::path fourier_svg(const fs::path& run_dir, const Summary* summary, const std::string& title) {
  std::vector<std::pair<std::string, FourierRows>> panels;
  for (const char* m : {"W_E", "W_L"})
    if (auto f = read_fourier(run_dir, m); f && f->n > 0) panels.emplace_back(m, std::move(*f));
  const double PW = 440, PH = 340, X = 90, GAP = 560, Y = 70;
  std::string body;
  for (size_t i = 0; i < panels.size(); ++i) {
    std::vector<int64_t> keys;
    if (summary && summary->fourier.contains("key_frequencies") &&
        summary->fourier["key_frequencies"].contains(panels[i].first))
      keys = summary->fourier["key_frequencies"][panels[i].first].get<std::vector<int64_t>>();
    body += heatmap(X + GAP * double(i), Y, PW, PH, panels[i].second,
                    "Fourier norms of " + panels[i].first, keys);
  }
  const double right = X + GAP * double(panels.size() - 1) + PW;
  body += colour_bar(right + 60, Y, PH, "0", "max", "norm / max");
  const fs::path out = rundir::plot_file(run_dir, "fourier");
  write_file_atomic(out, svg_document(right + 160, PH + 140,
                                      title + ": Fourier norms per frequency over training", body));
  return out;
}

Series metric_curve(const std::vector<MetricsRow>& rows, const std::string& key,
                    const std::string& label, const std::string& color, bool dashed = false) {
  Series s{label, color, {}, dashed};
  for (const MetricsRow& r : rows) {
    const double v = r.get(key);
    if (std::isfinite(v) && v > 0) s.points.emplace_back(double(r.step()), v);
  }
  return s;
}

// The summary's phases as (name, start, end) with end = the last step when open.
std::vector<std::tuple<std::string, double, double>> phase_spans(const Summary* summary,
                                                                 double last) {
  std::vector<std::tuple<std::string, double, double>> out;
  if (!summary || !summary->fourier.contains("phases")) return out;
  for (const auto& [name, ph] : summary->fourier["phases"].items()) {
    if (!ph["start"].is_number()) continue;
    const double end = ph["end"].is_number() ? ph["end"].get<double>() : last;
    out.emplace_back(name, ph["start"].get<double>(), end);
  }
  return out;
}

fs::path progress_svg(const fs::path& run_dir, const std::vector<MetricsRow>& rows,
                      const Summary* summary, const std::string& title) {
  const std::vector<Series> series = {
      metric_curve(rows, "train_loss", "train loss", style::kBlue),
      metric_curve(rows, "test_loss", "test loss", style::kRed),
      metric_curve(rows, "fourier.restricted_loss", "restricted loss", style::kGreen),
      metric_curve(rows, "fourier.excluded_loss_train", "excluded loss (train)", style::kPurple,
                   true)};
  std::vector<std::pair<double, double>> all;
  for (const Series& s : series) all.insert(all.end(), s.points.begin(), s.points.end());
  const double last = double(rows.back().step());
  const Axis ax{0.0, std::max(1.0, last), false}, ay = log_axis(all);
  const double X = 90, Y = 70, W = 800, H = 420;
  std::string body = panel(X, Y, W, H, ax, ay, series, "losses and Nanda's progress measures",
                           "loss (nats)", "step", false);
  const char* shades[] = {style::kBlue, style::kOrange, style::kGreen};
  size_t i = 0;
  for (const auto& [name, a, b] : phase_spans(summary, last)) {
    const double xa = ax.map(a, X, X + W), xb = ax.map(std::min(b, last), X, X + W);
    body += svg_rect(xa, Y, std::max(xb - xa, 1.0), H, shades[i++ % 3], "", 0.12);
    std::string label = name;
    std::replace(label.begin(), label.end(), '_', ' ');
    body += svg_text((xa + xb) / 2, Y + 16, label, {.size = 11, .anchor = "middle"});
  }
  body += legend_box(X + W - 200, Y + 28, series);
  const fs::path out = rundir::plot_file(run_dir, "progress");
  write_file_atomic(out, svg_document(W + 160, H + 140,
                                      title + ": train, test, restricted and excluded loss", body));
  return out;
}

}  // namespace

std::vector<fs::path> write_fourier_plots(const fs::path& run_dir) {
  std::vector<fs::path> written;
  if (!fs::exists(rundir::fourier_dir(run_dir))) return written;
  const std::optional<Summary> summary = read_summary(run_dir);
  const Summary* s = summary ? &*summary : nullptr;
  const std::string title = run_title(run_dir);
  written.push_back(fourier_svg(run_dir, s, title));
  const std::vector<MetricsRow> rows = read_metrics(run_dir);
  if (rows.size() >= 2) written.push_back(progress_svg(run_dir, rows, s, title));
  return written;
}

}  // namespace gradscope
