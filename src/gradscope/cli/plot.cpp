// `gradscope plot PATH`: SVG plots, picked by the kind of PATH and the flags given (kHelp says
// which).
#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <stdexcept>

#include "gradscope/cli/command.h"
#include "gradscope/config/config.h"
#include "gradscope/report/phase_diagram.h"
#include "gradscope/report/plot.h"
#include "gradscope/report/seed_curves.h"
#include "gradscope/rundir/paths.h"

namespace gradscope::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kHelp =
    "What it draws, by PATH and flags:\n"
    "  a run directory          its loss and accuracy curves (RUN/curves.svg) and the rank,\n"
    "                           emergence and Fourier plots of what it measured\n"
    "  a sweep directory        every seed's curves aggregated (SWEEP/seed_curves.svg)\n"
    "    --x KEY --y KEY        a phase diagram over two config keys, coloured by --z\n"
    "    --x KEY --y FIELD,...  lines of summary fields or final.<metric>, one per value of --by\n"
    "A results root holds sweeps and runs: plot one of them. Another kind's flags are an error.";

struct PlotArgs {
  std::string path, out, x, y, z = "regime", by;
  bool log_x = false, log_y = false;
};

// A run's curves and the plots of its probes.
int plot_run(const PlotArgs& a) {
  const fs::path svg = a.out.empty() ? fs::path(a.path) / "curves.svg" : fs::path(a.out);
  write_curves_svg(a.path, svg);
  fmt::print("wrote {}\n", svg.string());
  for (const fs::path& f : write_rank_plots(a.path)) fmt::print("wrote {}\n", f.string());
  for (const fs::path& f : write_emergence_plots(a.path)) fmt::print("wrote {}\n", f.string());
  for (const fs::path& f : write_fourier_plots(a.path)) fmt::print("wrote {}\n", f.string());
  for (const fs::path& f : write_geometry_plots(a.path)) fmt::print("wrote {}\n", f.string());
  return 0;
}

int plot_phase_diagram(const PlotArgs& a) {
  const PhaseDiagramOptions o{a.x, a.y, a.z, a.log_x, a.log_y};
  const fs::path svg =
      a.out.empty() ? fs::path(a.path) / fmt::format("phase_{}.svg", a.z) : fs::path(a.out);
  fmt::print("wrote {}: {}\n", svg.string(), write_phase_diagram(a.path, o, svg));
  return 0;
}

int plot_lines(const PlotArgs& a) {
  SweepLinesOptions o{a.x, {}, a.log_x, a.log_y, a.by};
  std::string name;
  for (size_t at = 0; at <= a.y.size();) {
    const size_t comma = std::min(a.y.find(',', at), a.y.size());
    o.y.push_back(a.y.substr(at, comma - at));
    name += (name.empty() ? "" : "+") + o.y.back();
    at = comma + 1;
  }
  const fs::path svg =
      a.out.empty() ? fs::path(a.path) / fmt::format("lines_{}.svg", name) : fs::path(a.out);
  fmt::print("wrote {}: {}\n", svg.string(), write_sweep_lines(a.path, o, svg));
  return 0;
}

// A sweep's plot: the flags say which (kHelp); flags that belong to another plot are bad input.
int plot_sweep(const PlotArgs& a, const CLI::App& sub) {
  if (a.x.empty() != a.y.empty())
    throw std::invalid_argument("plot " + a.path +
                                ": --x and --y go together (a phase diagram or "
                                "lines); without both, the seeds' curves");
  if (a.x.empty()) {
    for (const char* flag : {"--z", "--by", "--logx", "--logy"})
      if (sub.count(flag) > 0)
        throw std::invalid_argument(std::string(flag) + ": without --x and --y, " + a.path +
                                    " draws the seeds' curves, which take no " + flag +
                                    " (valid: --x KEY --y ... for a phase diagram or lines)");
    const fs::path svg = a.out.empty() ? rundir::plot_file(a.path, "seed_curves") : fs::path(a.out);
    fmt::print("{}\n", write_seed_curves(a.path, svg));
    return 0;
  }
  const bool phase = a.y.find(',') == std::string::npos && Config::find(a.y) && a.by.empty();
  if (!phase && sub.count("--z") > 0)
    throw std::invalid_argument(
        "--z " + a.z + ": " +
        (a.by.empty() ? "--y " + a.y + " is not a config key, so these are lines"
                      : "--by " + a.by + " draws lines") +
        ", which have no colour field (valid: --z with a config key as --y and no --by, a "
        "phase diagram)");
  return phase ? plot_phase_diagram(a) : plot_lines(a);
}

int plot(const PlotArgs& a, const CLI::App& sub) {
  if (rundir::is_sweep_dir(a.path)) return plot_sweep(a, sub);
  if (!rundir::is_run_dir(a.path))
    throw std::invalid_argument(a.path +
                                ": not a run or sweep directory (valid: a directory "
                                "with config.toml, or a sweep's with sweep.json)");
  for (const char* flag : {"--x", "--y", "--z", "--by", "--logx", "--logy"})
    if (sub.count(flag) > 0)
      throw std::invalid_argument(std::string(flag) + ": " + a.path +
                                  " is a run directory, which plots its own curves (--x, --y, "
                                  "--z, --by, --logx and --logy are for a sweep directory)");
  return plot_run(a);
}

Action define(CLI::App& sub, const Globals&) {
  auto a = std::make_shared<PlotArgs>();
  sub.footer(kHelp);
  sub.add_option("path", a->path, "run directory, or sweep directory")->required();
  sub.add_option("--out", a->out, "SVG file (default: beside the plotted runs, named for it)");
  sub.add_option("--x", a->x,
                 "a sweep's phase diagram or lines: config key (lines: or n_params) on the x axis");
  sub.add_option("--y", a->y,
                 "phase diagram: config key on the y axis; lines: summary fields or "
                 "final.<metric>, comma-separated");
  sub.add_option("--z", a->z,
                 "phase diagram: regime, or a summary field (generalized_step, ...) or "
                 "final.<metric>")
      ->capture_default_str();
  sub.add_option("--by", a->by, "lines: one line per value of this config key (e.g. seed)");
  sub.add_flag("--logx", a->log_x, "phase diagram or lines: log x axis");
  sub.add_flag("--logy", a->log_y, "phase diagram or lines: log y axis");
  return [a, &sub] { return plot(*a, sub); };
}

}  // namespace

Command plot_command() {
  return {"plot", "draw a run's or a sweep's plots as SVG (plot --help: which, for which path)",
          &define};
}

}  // namespace gradscope::cli
