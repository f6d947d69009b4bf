// The emergence plots: see plot.h. They read the run's metrics and config.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "gradscope/report/metric_series.h"
#include "gradscope/report/plot.h"
#include "gradscope/report/style.h"
#include "gradscope/report/svg.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;

// Keys of the last row starting with `prefix` and ending with `suffix`.
std::vector<std::string> keys_like(const std::vector<MetricsRow>& rows, const std::string& prefix,
                                   const std::string& suffix) {
  std::vector<std::string> out;
  if (rows.empty()) return out;
  for (const auto& [k, v] : rows.back().values)
    if (k.rfind(prefix, 0) == 0 && k.size() >= prefix.size() + suffix.size() &&
        k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(k);
  return out;
}

bool has(const std::vector<MetricsRow>& rows, const std::string& key) {
  return !rows.empty() && std::isfinite(rows.back().get(key));
}

// Query k = 1..K against the per-query errors `<prefix><k>` of the row (log y).
Series per_query(const MetricsRow& row, const std::string& prefix, const std::string& label,
                 const std::string& color, bool dashed = false) {
  Series s{label, color, {}, dashed};
  for (int k = 1;; ++k) {
    const double v = row.get(prefix + std::to_string(k));
    if (std::isnan(v)) break;
    if (v > 0 && std::isfinite(v)) s.points.emplace_back(double(k), v);
  }
  return s;
}

// In-context regression: the error per query on new and on pool tasks, the model's at the last
// logged step and at a quarter of the run beside every baseline's, and the model's distance to
// ridge and dmmse over training.
fs::path write_incontext_plot(const fs::path& run_dir, const std::vector<MetricsRow>& rows,
                              const std::string& name) {
  const double PW = 460, PH = 320, Y = 70;
  const MetricsRow& last = rows.back();
  const MetricsRow& early = rows[rows.size() / 4];
  std::string body;
  const std::vector<std::pair<std::string, std::string>> splits = {{"test", "new tasks"},
                                                                   {"train", "pool tasks"}};
  for (size_t j = 0; j < splits.size(); ++j) {
    const std::string& s = splits[j].first;
    std::vector<Series> series = {
        per_query(last, s + "_err.", fmt::format("model, step {}", last.step()), style::kBlack),
        per_query(early, s + "_err.", fmt::format("model, step {}", early.step()), style::kGrey,
                  true),
        per_query(last, s + "_ridge_err.", "ridge", style::kBlue),
        per_query(last, s + "_dmmse_err.", "dmmse", style::kGreen),
        per_query(last, s + "_least_squares_err.", "least squares", style::kOrange, true),
        per_query(last, s + "_zero_err.", "zero", style::kRed, true)};
    std::erase_if(series, [](const Series& c) { return c.points.empty(); });
    std::vector<std::pair<double, double>> all;
    for (const Series& c : series)
      if (c.color != style::kOrange) all.insert(all.end(), c.points.begin(), c.points.end());
    const double K = series.front().points.empty() ? 1 : series.front().points.back().first;
    // From 0 to a multiple of 5 at or above K: the 5 linear ticks fall on whole queries.
    body += panel(100 + double(j) * 560, Y, PW, PH, {0.0, 5 * std::ceil(K / 5), false},
                  log_axis(all), series, splits[j].second + ": squared error per query",
                  "mean squared error", "query k (k - 1 examples before it)");
  }
  std::vector<Series> dist;
  for (const char* s : {"test", "train"})
    for (const char* b : {"ridge", "dmmse"}) {
      Series c = curve(rows, fmt::format("{}_dist_{}", s, b),
                       fmt::format("{} to {}", std::string(s) == "test" ? "new tasks" : "pool", b),
                       std::string(b) == "ridge" ? style::kBlue : style::kGreen, false,
                       std::string(s) == "train");
      std::erase_if(c.points, [](const auto& p) { return !(p.second > 0); });
      if (!c.points.empty()) dist.push_back(c);
    }
  std::vector<std::pair<double, double>> all;
  for (const Series& c : dist) all.insert(all.end(), c.points.begin(), c.points.end());
  body += panel(1220, Y, PW, PH, {0.0, std::max(1.0, double(last.step())), false}, log_axis(all),
                dist, "distance of the model to the baselines", "mean squared difference");
  const fs::path file = rundir::plot_file(run_dir, "incontext");
  write_file_atomic(file, svg_document(1760, 450, name, body));
  return file;
}

}  // namespace

std::vector<fs::path> write_emergence_plots(const fs::path& run_dir) {
  const std::vector<MetricsRow> rows = read_metrics(run_dir);
  std::vector<fs::path> written;
  if (rows.size() < 2) return written;
  const std::string name = run_title(run_dir);
  const double xmax = double(rows.back().step());
  const Axis lin{0.0, std::max(1.0, xmax), false};
  const Axis logx{1.0, std::pow(10.0, std::ceil(std::log10(std::max(xmax, 10.0)))), true};
  const double W = 1180, PW = 400, PH = 300, X1 = 100, X2 = 680, Y = 70;

  if (has(rows, "relevant_share")) {  // sparse parity
    const Series loss = curve(rows, "test_loss", "test loss", style::kRed, false);
    const Series acc = curve(rows, "test_acc", "test accuracy", style::kRed, false);
    const Series share =
        curve(rows, "relevant_share", "relevant-weight share", style::kBlue, false);
    const Series dist = curve(rows, "dist_from_init", "||W_t - W_0||", style::kGreen, false);
    const Axis ay_share{0.0, 1.0, false};
    std::string body = panel(X1, Y, PW, PH, lin, value_axis({loss}), {loss},
                             "test loss and relevant-weight share", "test loss", "step", false);
    body += right_axis(X1, Y, PW, PH, lin, ay_share, {share}, "share of first-layer mass");
    body += legend_box(X1 + PW - 170, Y + 6, {loss, share});
    body += panel(X2, Y, PW, PH, lin, {0.0, 1.0, false}, {acc},
                  "exact-match accuracy and distance from init", "test accuracy", "step", false);
    body += right_axis(X2, Y, PW, PH, lin, value_axis({dist}), {dist}, "||W_t - W_0||");
    body += legend_box(X2 + PW - 150, Y + PH - 46, {acc, dist});
    // The share's rise over its starting (chance) level on a log axis: the hidden progress is
    // orders of magnitude below the final share while the loss sits on its plateau.
    Series excess{"relevant share - its step-0 value", style::kBlue, {}, false};
    const double base = share.points.empty() ? 0.0 : share.points.front().second;
    for (const auto& [x, y] : share.points)
      if (y - base > 0) excess.points.emplace_back(x, y - base);
    const double X3 = 1260;
    body += panel(X3, Y, PW, PH, lin, log_axis(excess.points), {excess},
                  "relevant share above its start (log)", "share - share at step 0", "step", false);
    body += right_axis(X3, Y, PW, PH, lin, value_axis({loss}), {loss}, "test loss");
    body += legend_box(X3 + 8, Y + 6, {excess, loss});
    written.push_back(rundir::plot_file(run_dir, "hidden_progress"));
    write_file_atomic(written.back(), svg_document(1760, 430, name, body));
  }

  const std::vector<std::string> sub_loss = keys_like(rows, "subtask.", ".test_loss");
  if (!sub_loss.empty()) {  // multitask sparse parity
    std::vector<Series> losses, accs;
    for (size_t i = 0; i < sub_loss.size(); ++i) {
      const std::string k = sub_loss[i], id = k.substr(8, k.find('.', 8) - 8);
      losses.push_back(curve(rows, k, "", palette(i), true));
      accs.push_back(curve(rows, "subtask." + id + ".test_acc", "", palette(i), true));
    }
    Series mean = curve(rows, "test_loss", "mean over examples", style::kBlack, true);
    Series mean_acc = curve(rows, "test_acc", "mean over examples", style::kBlack, true);
    losses.front().label = "subtask 0 (most frequent)";
    losses.back().label = fmt::format("subtask {} (rarest)", sub_loss.size() - 1);
    losses.push_back(mean);
    accs.push_back(mean_acc);
    std::string body = panel(X1, Y, PW + 60, PH, logx, value_axis(losses), losses,
                             "test loss per subtask and mean", "test loss (cross-entropy)");
    body += panel(X2, Y, PW + 60, PH, logx, {0.0, 1.0, false}, accs,
                  "test accuracy per subtask and mean", "test accuracy");
    written.push_back(rundir::plot_file(run_dir, "subtasks"));
    write_file_atomic(written.back(), svg_document(W + 60, 430, name, body));
  }

  if (has(rows, "test_icl_score")) {  // induction
    const std::vector<std::string> heads = keys_like(rows, "prefix_match.", "");
    std::vector<Series> head_curves;
    for (size_t i = 0; i < heads.size(); ++i) {
      const std::string id = heads[i].substr(13);  // "<layer>.<head>"
      const int layer = std::stoi(id.substr(0, id.find('.')));
      head_curves.push_back(
          curve(rows, heads[i],
                "layer " + id.substr(0, id.find('.')) + " head " + id.substr(id.find('.') + 1),
                palette(i), false, layer == 0));
    }
    const Series icl = curve(rows, "test_icl_score", "in-context score", style::kBlack, false);
    std::string body = panel(X1, Y, PW, PH, lin, value_axis({icl}), {icl},
                             "in-context score (late - early loss)", "nats", "step", false);
    Series best{"max prefix-matching score", style::kRed, {}, false};
    for (size_t r = 0; r < rows.size(); ++r) {
      double m = -INFINITY;
      for (const std::string& k : heads) m = std::max(m, rows[r].get(k));
      if (std::isfinite(m)) best.points.emplace_back(double(rows[r].step()), m);
    }
    body += right_axis(X1, Y, PW, PH, lin, {0.0, 1.0, false}, {best}, "attention");
    body += legend_box(X1 + PW - 200, Y + 6, {icl, best});
    body += panel(X2, Y, PW, PH, lin, {0.0, 1.0, false}, head_curves,
                  "prefix-matching score per head", "attention to the token after the match");
    written.push_back(rundir::plot_file(run_dir, "induction"));
    write_file_atomic(written.back(), svg_document(W, 430, name, body));
  }
  if (has(rows, "test_segment_exact_match")) {  // induction sequences (not text)
    // The metric matters: exact match of whole repeated segments beside per-token measures.
    const Series exact =
        curve(rows, "test_segment_exact_match", "segment exact match", style::kRed, false);
    const Series token =
        curve(rows, "test_induction_acc", "per-token accuracy", style::kBlue, false);
    const Series edit =
        curve(rows, "test_segment_edit_distance", "segment edit distance", style::kGreen, false);
    const Series tok_loss =
        curve(rows, "test_induction_loss", "per-token loss", style::kPurple, false);
    std::string m = panel(X1, Y, PW, PH, lin, {0.0, 1.0, false}, {exact, token},
                          "exact match vs per-token accuracy", "share");
    m += panel(X2, Y, PW, PH, lin, value_axis({edit}), {edit}, "continuous metrics",
               "edit distance (tokens per segment)", "step", false);
    m += right_axis(X2, Y, PW, PH, lin, value_axis({tok_loss}), {tok_loss}, "loss (nats)");
    m += legend_box(X2 + PW - 170, Y + 6, {edit, tok_loss});
    written.push_back(rundir::plot_file(run_dir, "metric_choice"));
    write_file_atomic(written.back(), svg_document(W, 430, name, m));
  }
  if (has(rows, "test_ridge_mse")) written.push_back(write_incontext_plot(run_dir, rows, name));
  return written;
}

}  // namespace gradscope
