// The report layer: axes and ticks (linear and log), legend placement, XML escaping, and the
// structure of a small phase diagram drawn from a results index.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/index/results_index.h"
#include "gradscope/report/phase_diagram.h"
#include "gradscope/report/seed_curves.h"
#include "gradscope/report/svg.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/rundir/summary_file.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;

// One SVG element: its attributes and its text content (unescaped as written).
struct Element {
  std::map<std::string, std::string> attr;
  std::string text;
  double num(const std::string& name) const { return std::stod(attr.at(name)); }
};

// The attributes name='value' of one start tag's inside (between the tag name and its end).
std::map<std::string, std::string> attributes(const std::string& inside) {
  std::map<std::string, std::string> attr;
  for (size_t pos = 0;;) {
    const size_t eq = inside.find("='", pos);
    if (eq == std::string::npos) return attr;
    const size_t close = inside.find('\'', eq + 2);
    const size_t name = inside.find_last_of(" \t\n", eq) + 1;
    attr[inside.substr(name, eq - name)] = inside.substr(eq + 2, close - eq - 2);
    pos = close + 1;
  }
}

// Every <tag ...> element of an SVG document, in document order (a small reader for the writer's
// own output: attributes in single quotes, text without nested elements; no std::regex, whose
// libstdc++ headers trip -Wmaybe-uninitialized under the sanitizer build).
std::vector<Element> elements(const std::string& svg, const std::string& tag) {
  std::vector<Element> out;
  const std::string open = "<" + tag, close = "</" + tag + ">";
  for (size_t pos = svg.find(open); pos != std::string::npos; pos = svg.find(open, pos + 1)) {
    const char next = svg[pos + open.size()];
    if (next != ' ' && next != '/' && next != '>' && next != '\n') continue;
    size_t end = pos + open.size();
    for (bool quoted = false; end < svg.size() && (quoted || svg[end] != '>'); ++end)
      if (svg[end] == '\'') quoted = !quoted;
    const bool empty = svg[end - 1] == '/';
    Element e;
    e.attr = attributes(svg.substr(pos + open.size(), end - pos - open.size() - (empty ? 1 : 0)));
    if (!empty) e.text = svg.substr(end + 1, svg.find(close, end) - end - 1);
    out.push_back(std::move(e));
  }
  return out;
}

// The texts of one font size, in document order.
std::vector<Element> texts_of_size(const std::string& svg, const std::string& size) {
  std::vector<Element> out;
  for (const Element& e : elements(svg, "text"))
    if (e.attr.at("font-size") == size) out.push_back(e);
  return out;
}

const Element* text_named(const std::vector<Element>& texts, const std::string& text) {
  for (const Element& e : texts)
    if (e.text == text) return &e;
  return nullptr;
}

TEST(ReportAxis, MapsLinearAndLogAxes) {
  const Axis lin{0, 10, false};
  EXPECT_DOUBLE_EQ(lin.map(0, 100, 200), 100);
  EXPECT_DOUBLE_EQ(lin.map(10, 100, 200), 200);
  EXPECT_DOUBLE_EQ(lin.map(5, 100, 200), 150);
  EXPECT_DOUBLE_EQ(lin.map(2.5, 400, 0), 300);  // y axes map upwards
  const Axis log{1, 1000, true};
  EXPECT_DOUBLE_EQ(log.map(1, 0, 300), 0);
  EXPECT_DOUBLE_EQ(log.map(1000, 0, 300), 300);
  EXPECT_NEAR(log.map(10, 0, 300), 100, 1e-9);  // one decade of three
  EXPECT_NEAR(log.map(std::pow(10.0, 1.5), 0, 300), 150, 1e-9);
  EXPECT_NEAR(log.map(100, 300, 0), 100, 1e-9);
}

TEST(ReportAxis, NiceCeilingRoundsUpToRoundValues) {
  const std::vector<std::pair<double, double>> cases = {
      {1, 1},    {1.1, 1.2},   {1.3, 1.5},     {2.2, 2.5}, {2.9, 3},   {7, 8}, {8.5, 10},
      {95, 100}, {1730, 2000}, {0.013, 0.015}, {3e5, 3e5}, {0.7, 0.8}, {0, 1}, {-2, 1}};
  for (const auto& [v, want] : cases) EXPECT_NEAR(nice_ceiling(v), want, want * 1e-12) << v;
}

TEST(ReportAxis, LogAxisSpansThePointsDecades) {
  Axis a = log_axis({{0, 0.03}, {1, 5}, {2, 200}, {3, 0}, {4, -1}});  // <= 0: not plottable
  EXPECT_TRUE(a.log);
  EXPECT_NEAR(a.lo, 0.01, 1e-15);
  EXPECT_NEAR(a.hi, 1000, 1e-9);
  a = log_axis({{0, 10}});  // one value on a decade: one decade up
  EXPECT_NEAR(a.lo, 10, 1e-12);
  EXPECT_NEAR(a.hi, 100, 1e-12);
  a = log_axis({});
  EXPECT_EQ(a.lo, 0.1);
  EXPECT_EQ(a.hi, 1);
}

TEST(ReportPanel, LogTicksAtDecadesAtTheirPixels) {
  const Series s{"loss", "#123456", {{1, 0.1}, {1000, 10}}};
  const std::string svg = panel(100, 50, 300, 200, Axis{1, 1000, true}, Axis{0.01, 100, true}, {s},
                                "title", "loss", "step");
  const std::vector<Element> ticks = texts_of_size(svg, "12");
  // x: 1, 10, 100, 1000 at a third of the width apart, 16 pixels under the frame.
  const std::vector<std::string> xl = {"1", "10", "100", "1000"};
  for (size_t i = 0; i < xl.size(); ++i) {
    const Element* t = text_named(ticks, xl[i]);
    ASSERT_NE(t, nullptr) << xl[i] << "\n" << svg;
    EXPECT_NEAR(t->num("x"), 100 + 100.0 * double(i), 0.01) << xl[i];
    EXPECT_NEAR(t->num("y"), 266, 0.01) << xl[i];
    EXPECT_EQ(t->attr.at("text-anchor"), "middle");
  }
  // y: 1e-2 .. 100, one decade every 50 pixels upwards, right-aligned left of the frame.
  const std::vector<std::string> yl = {"1e-2", "1e-1", "1", "10", "100"};
  for (size_t i = 0; i < yl.size(); ++i) {
    const Element* t = nullptr;
    for (const Element& e : ticks)
      if (e.text == yl[i] && e.attr.at("text-anchor") == "end") t = &e;
    ASSERT_NE(t, nullptr) << yl[i] << "\n" << svg;
    EXPECT_NEAR(t->num("x"), 94, 0.01);
    EXPECT_NEAR(t->num("y"), 250 - 50.0 * double(i) + 4, 0.01) << yl[i];
  }
  EXPECT_EQ(ticks.size(), xl.size() + yl.size());
}

TEST(ReportPanel, LinearTicksAreRoundValues) {
  const Series s{"acc", "#123456", {{0, 0.5}, {1730, 1}}};
  const std::string svg = panel(100, 50, 300, 200, Axis{0, nice_ceiling(1730), false},
                                Axis{0, 1, false}, {s}, "title", "accuracy");
  const std::vector<Element> ticks = texts_of_size(svg, "12");
  const std::vector<std::string> xl = {"0", "400", "800", "1200", "1600", "2000"};
  const std::vector<std::string> yl = {"0", "0.2", "0.4", "0.6", "0.8", "1"};
  ASSERT_EQ(ticks.size(), xl.size() + yl.size()) << svg;
  for (size_t i = 0; i < xl.size(); ++i) {
    EXPECT_EQ(ticks[i].text, xl[i]);
    EXPECT_NEAR(ticks[i].num("x"), 100 + 60.0 * double(i), 0.01) << xl[i];
    EXPECT_NEAR(ticks[i].num("y"), 266, 0.01);
  }
  for (size_t i = 0; i < yl.size(); ++i) {
    const Element& t = ticks[xl.size() + i];
    EXPECT_EQ(t.text, yl[i]);
    EXPECT_NEAR(t.num("y"), 250 - 40.0 * double(i) + 4, 0.01) << yl[i];
  }
  // The y label is turned a quarter left, beside the middle of the frame.
  const std::vector<Element> labels = texts_of_size(svg, "13");
  const Element* ylabel = text_named(labels, "accuracy");
  ASSERT_NE(ylabel, nullptr);
  EXPECT_EQ(ylabel->attr.at("transform"), "translate(48,150) rotate(-90)");
  ASSERT_NE(text_named(labels, "step"), nullptr);
  // Wider tick labels push it further left, clear of them (about 7 px a character).
  const std::string wide = panel(100, 50, 300, 200, Axis{0, 1, false}, Axis{0, 4e4, false}, {s},
                                 "title", "preconditioned");
  const std::vector<Element> wide_labels = texts_of_size(wide, "13");
  const Element* moved = text_named(wide_labels, "preconditioned");
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(moved->attr.at("transform"), "translate(31,150) rotate(-90)");  // "3.2e+04": 7 chars
}

TEST(ReportLegend, OneEntryPerLabelledSeriesInOrderInsideTheFrame) {
  const double x0 = 100, y0 = 50, w = 300, h = 200;
  const std::vector<Series> series = {{"train loss", "#111111", {{1, 1}, {2, 2}}},
                                      {"", "#222222", {{1, 2}, {2, 1}}},
                                      {"test loss", "#333333", {{1, 1}, {2, 1}}, true}};
  const std::string svg =
      panel(x0, y0, w, h, Axis{1, 2, false}, Axis{0, 3, false}, series, "t", "y");
  const std::vector<Element> entries = texts_of_size(svg, "11");
  ASSERT_EQ(entries.size(), 2u) << svg;
  EXPECT_EQ(entries[0].text, "train loss");
  EXPECT_EQ(entries[1].text, "test loss");
  EXPECT_LT(entries[0].num("y"), entries[1].num("y"));
  for (const Element& e : entries) {
    EXPECT_GT(e.num("x"), x0);
    EXPECT_LT(e.num("x") + 6.5 * double(e.text.size()), x0 + w);
    EXPECT_GT(e.num("y"), y0);
    EXPECT_LT(e.num("y"), y0 + h);
  }
  // The box: the second rect (after the frame), inside the frame.
  const std::vector<Element> rects = elements(svg, "rect");
  ASSERT_EQ(rects.size(), 2u);
  const Element& box = rects[1];
  EXPECT_EQ(box.attr.at("stroke"), "#ccc");
  EXPECT_GE(box.num("x"), x0);
  EXPECT_LE(box.num("x") + box.num("width"), x0 + w);
  EXPECT_GE(box.num("y"), y0);
  EXPECT_LE(box.num("y") + box.num("height"), y0 + h);
  // The swatch lines: the labelled series' colours in order, the dashed one dashed.
  std::vector<Element> swatches;
  for (const Element& e : elements(svg, "line"))
    if (e.attr.count("stroke-width") && e.attr.at("stroke-width") == "3") swatches.push_back(e);
  ASSERT_EQ(swatches.size(), 2u);
  EXPECT_EQ(swatches[0].attr.at("stroke"), "#111111");
  EXPECT_EQ(swatches[1].attr.at("stroke"), "#333333");
  EXPECT_EQ(swatches[1].attr.count("stroke-dasharray"), 1u);
  // No legend when asked for none, or when no series has a label.
  EXPECT_TRUE(texts_of_size(panel(x0, y0, w, h, Axis{1, 2, false}, Axis{0, 3, false}, series, "t",
                                  "y", "step", false),
                            "11")
                  .empty());
  EXPECT_EQ(legend_box(0, 0, {series[1]}), "");
}

TEST(ReportSvg, EscapesTextAndWrapsADocument) {
  const std::string t = svg_text(1, 2, "loss < 1 & acc > 0 'q'");
  EXPECT_NE(t.find(">loss &lt; 1 &amp; acc &gt; 0 &apos;q&apos;</text>"), std::string::npos) << t;
  const Series s{"a<b & c", "#000", {{1, 1}, {2, 2}}};
  const std::string p =
      panel(0, 0, 100, 100, Axis{1, 2, false}, Axis{0, 3, false}, {s}, "x<y", "f&g", "h<i");
  for (const char* raw : {"a<b", "x<y", "f&g", "h<i"})
    EXPECT_EQ(p.find(raw), std::string::npos) << raw;
  for (const char* escaped : {"a&lt;b &amp; c", "x&lt;y", "f&amp;g", "h&lt;i"})
    EXPECT_NE(p.find(escaped), std::string::npos) << escaped;
  EXPECT_EQ(xml_escape("\"&\""), "&quot;&amp;&quot;");

  const std::string doc = svg_document(300, 200, "run <1>", "BODY");
  EXPECT_EQ(doc.rfind("<svg ", 0), 0u);
  EXPECT_EQ(doc.substr(doc.size() - 7), "</svg>\n");
  const std::vector<Element> rects = elements(doc, "rect");
  ASSERT_EQ(rects.size(), 1u);  // the white background, the whole size
  EXPECT_EQ(rects[0].num("width"), 300);
  EXPECT_EQ(rects[0].num("height"), 200);
  ASSERT_EQ(elements(doc, "text").size(), 1u);
  EXPECT_EQ(elements(doc, "text")[0].text, "run &lt;1&gt;");
  EXPECT_NE(doc.find("BODY"), std::string::npos);
  EXPECT_TRUE(elements(svg_document(300, 200, "", "BODY"), "text").empty());
}

// A sweep "grid" of 2 x 2 points (optim.weight_decay x task.train_fraction) under a runs root,
// indexed as `gradscope sweep` indexes it; (1, 0.6) has no summary (unfinished), and two points
// have a second seed.
class PhaseDiagram : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("gradscope_report_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    sweep_ = root_ / "grid";
    fs::create_directories(sweep_);
    write_file_atomic(rundir::sweep_manifest(sweep_), "{}\n");
    ResultsIndex index(rundir::index_file(root_));
    add(index, "a", 0.1, 0.3, "memorization", std::nullopt, 0.25);
    add(index, "b", 1, 0.3, "grokking", 1000, 0.5);
    add(index, "b2", 1, 0.3, "grokking", 3000, 1.5);
    add(index, "c", 0.1, 0.6, "comprehension", 100, 2);
    add(index, "c2", 0.1, 0.6, "comprehension", std::nullopt, 3);
    add(index, "d", 1, 0.6, "", std::nullopt, 0);
    // Another sweep's run in the same index: neither drawn nor counted.
    fs::create_directories(root_ / "other");
    write_file_atomic(rundir::sweep_manifest(root_ / "other"), "{}\n");
    add(index, "../other/e", 0.1, 0.3, "confusion", std::nullopt, 0, "other");
  }
  void TearDown() override { fs::remove_all(root_); }

  // A run directory of the sweep (no summary when regime is empty) with two metrics rows whose
  // last weight_norm is `norm`, added to the index.
  void add(ResultsIndex& index, const std::string& name, double wd, double tf,
           const std::string& regime, std::optional<int64_t> generalized, double norm,
           const std::string& sweep = "grid") {
    const fs::path d = (sweep_ / name).lexically_normal();
    fs::create_directories(d);
    Config c;
    c.set("name", name);
    c.set("optim.weight_decay", wd);
    c.set("task.train_fraction", tf);
    write_run_config(d, "# a phase-diagram test run\n", c);
    {
      MetricsLog log(d, -1);
      log.append({{{"step", 0}, {"test_acc", 0}, {"weight_norm", 10}}});
      log.append({{{"step", 10}, {"test_acc", 1}, {"weight_norm", norm}}});
    }
    if (!regime.empty()) {
      Summary s;
      s.status = "completed";
      s.regime = regime;
      s.generalized_step = generalized;
      s.steps_done = 10;
      write_summary(d, s);
    }
    index.add_run(d, sweep);
  }

  std::string draw(const std::string& z, std::string& svg) {
    const fs::path file = root_ / ("phase_" + z + ".svg");
    const std::string what = write_phase_diagram(
        sweep_, {"optim.weight_decay", "task.train_fraction", z, true, false}, file);
    svg = read_file(file);
    return what;
  }

  // The cell rects (outlined in white) by their top-left corner.
  static std::map<std::pair<double, double>, Element> cells(const std::string& svg) {
    std::map<std::pair<double, double>, Element> out;
    for (const Element& e : elements(svg, "rect"))
      if (e.attr.count("stroke") && e.attr.at("stroke") == "white")
        out[{e.num("x"), e.num("y")}] = e;
    return out;
  }

  fs::path root_, sweep_;
};

// The plot box is (110, 60) to (530, 400): log x edges at 110, 320, 530; y edges 400, 230, 60.
TEST_F(PhaseDiagram, RegimeCellsTicksAndLegend) {
  std::string svg;
  EXPECT_EQ(draw("regime", svg), "4 cells from 5 runs (1 unfinished runs left out)");
  const auto c = cells(svg);
  ASSERT_EQ(c.size(), 4u) << svg;
  const std::map<std::pair<double, double>, std::string> fills = {
      {{110, 230}, "#1f77b4"},  // (0.1, 0.3) memorization
      {{320, 230}, "#ff7f0e"},  // (1, 0.3) grokking
      {{110, 60}, "#2ca02c"},   // (0.1, 0.6) comprehension
      {{320, 60}, "#f4f4f4"}};  // (1, 0.6) only an unfinished run: empty
  for (const auto& [at, fill] : fills) {
    ASSERT_TRUE(c.count(at)) << at.first << "," << at.second << "\n" << svg;
    EXPECT_EQ(c.at(at).attr.at("fill"), fill) << at.first << "," << at.second;
    EXPECT_NEAR(c.at(at).num("width"), 210, 0.01);
    EXPECT_NEAR(c.at(at).num("height"), 170, 0.01);
  }
  std::vector<std::string> inside;
  for (const Element& e : texts_of_size(svg, "10")) inside.push_back(e.text);
  EXPECT_EQ(inside, (std::vector<std::string>{"memor", "compr", "grokk"}));
  // Ticks at the cell centres.
  const std::vector<Element> ticks = texts_of_size(svg, "11");
  ASSERT_EQ(ticks.size(), 4u);
  EXPECT_EQ(ticks[0].text, "0.1");
  EXPECT_NEAR(ticks[0].num("x"), 215, 0.01);
  EXPECT_NEAR(ticks[0].num("y"), 416, 0.01);
  EXPECT_EQ(ticks[1].text, "1");
  EXPECT_NEAR(ticks[1].num("x"), 425, 0.01);
  EXPECT_EQ(ticks[2].text, "0.3");
  EXPECT_NEAR(ticks[2].num("y"), 319, 0.01);
  EXPECT_EQ(ticks[3].text, "0.6");
  EXPECT_NEAR(ticks[3].num("y"), 149, 0.01);
  const std::vector<Element> labels = texts_of_size(svg, "13");
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0].text, "optim.weight_decay (log)");
  EXPECT_EQ(labels[1].text, "task.train_fraction");
  EXPECT_EQ(labels[1].attr.at("transform"), "translate(48,230) rotate(-90)");
  ASSERT_NE(text_named(texts_of_size(svg, "16"), "grid: regime"), nullptr);
  // The legend: the four regimes in order, each swatch its colour.
  std::vector<std::string> legend, swatch;
  for (const Element& e : texts_of_size(svg, "12")) legend.push_back(e.text);
  for (const Element& e : elements(svg, "rect"))
    if (e.attr.at("width") == "16") swatch.push_back(e.attr.at("fill"));
  EXPECT_EQ(legend,
            (std::vector<std::string>{"confusion", "memorization", "grokking", "comprehension"}));
  EXPECT_EQ(swatch, (std::vector<std::string>{"#bbbbbb", "#1f77b4", "#ff7f0e", "#2ca02c"}));
}

TEST_F(PhaseDiagram, NumericZUsesTheRampAndSaysNever) {
  std::string svg;
  EXPECT_EQ(draw("generalized_step", svg), "4 cells from 5 runs (1 unfinished runs left out)");
  const auto c = cells(svg);
  ASSERT_EQ(c.size(), 4u) << svg;
  // Values 100 .. 3000 span more than a factor 20: a log scale. (1, 0.3): mean 2000.
  EXPECT_EQ(c.at({320, 230}).attr.at("fill"), ramp_colour(std::log(20.0) / std::log(30.0)));
  EXPECT_EQ(c.at({110, 60}).attr.at("fill"), ramp_colour(0));  // mean 100 of one seed
  EXPECT_EQ(c.at({110, 230}).attr.at("fill"), "#dddddd");      // never generalized
  EXPECT_EQ(c.at({320, 60}).attr.at("fill"), "#f4f4f4");       // no finished run
  const std::vector<Element> inside = texts_of_size(svg, "10");
  ASSERT_EQ(inside.size(), 3u);
  EXPECT_EQ(inside[0].text, "never");
  EXPECT_EQ(inside[1].text, "100 (1 never)");
  EXPECT_EQ(inside[1].attr.at("fill"), "#fff");  // light ink on the dark end of the ramp
  EXPECT_EQ(inside[2].text, "2000");
  EXPECT_EQ(inside[2].attr.at("fill"), "#000");
  // The colour bar: 21 steps of the ramp from the bottom up, its ends and scale labelled, and a
  // swatch for never.
  std::vector<std::string> bar;
  for (const Element& e : elements(svg, "rect"))
    if (e.attr.at("width") == "16" && e.attr.at("height") != "16") bar.push_back(e.attr.at("fill"));
  ASSERT_EQ(bar.size(), 21u);
  for (int k = 0; k <= 20; ++k) EXPECT_EQ(bar[k], ramp_colour(k / 20.0)) << k;
  std::vector<std::string> legend;
  for (const Element& e : texts_of_size(svg, "11")) legend.push_back(e.text);
  for (const char* want : {"3000", "100", "(log)", "never"})
    EXPECT_NE(std::find(legend.begin(), legend.end(), want), legend.end()) << want;
}

TEST_F(PhaseDiagram, FinalMetricsFromColumnsAndTheMetricsTable) {
  std::string svg;
  draw("final.test_acc", svg);  // a column of the runs table: 1 everywhere
  for (const Element& e : texts_of_size(svg, "10")) EXPECT_EQ(e.text, "1");
  draw("final.weight_norm", svg);  // no column: the last logged value
  std::vector<std::string> inside;
  for (const Element& e : texts_of_size(svg, "10")) inside.push_back(e.text);
  EXPECT_EQ(inside, (std::vector<std::string>{"0.25", "2.5", "1"}));
  ResultsIndex index(rundir::index_file(root_));
  EXPECT_EQ(index.final_metric("grid/b2", "weight_norm"), 1.5);
  EXPECT_FALSE(index.final_metric("grid/b2", "no_such_metric").has_value());
}

TEST_F(PhaseDiagram, BadInputIsNamed) {
  std::string svg;
  try {
    draw("grokking_step", svg);
    FAIL() << "an unknown --z was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--z grokking_step (valid: regime"), std::string::npos)
        << e.what();
  }
  try {
    write_phase_diagram(sweep_, {"task.name", "optim.weight_decay"}, root_ / "p.svg");
    FAIL() << "a string axis was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("task.name is not a number"), std::string::npos)
        << e.what();
  }
  fs::remove(rundir::index_file(root_));
  try {
    draw("regime", svg);
    FAIL() << "no index, no error";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(rundir::index_file(root_).string()), std::string::npos) << what;
    EXPECT_NE(what.find("gradscope index rebuild"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace gradscope

namespace gradscope {
namespace {

// `gradscope plot SWEEP_DIR`: runs that differ only in seed are one group (mean, min and max),
// the others stand alone; the legend names each group by the keys that vary.
TEST(SeedCurves, GroupsRunsThatDifferOnlyInSeed) {
  const fs::path sweep =
      fs::temp_directory_path() / ("gradscope_seeds_" + std::to_string(::getpid()));
  fs::remove_all(sweep);
  fs::create_directories(sweep);
  write_file_atomic(rundir::sweep_manifest(sweep), "{}\n");
  const auto add = [&](const std::string& name, double wd, int64_t seed, double loss) {
    Config c;
    c.set("name", name);
    c.set("seed", seed);
    c.set("optim.weight_decay", wd);
    fs::create_directories(sweep / name);
    write_run_config(sweep / name, "# a seed-curves test run\n", c);
    MetricsLog log(sweep / name, -1);
    log.append({{{"step", 10}, {"test_loss", loss}, {"test_acc", loss / 8}}});
    log.append({{{"step", 20}, {"test_loss", loss / 2}, {"test_acc", loss / 4}}});
  };
  add("a", 0.3, 0, 1);
  add("b", 0.3, 1, 2);
  add("c", 0.3, 2, 3);
  add("d", 1.0, 0, 4);
  const std::string what = write_seed_curves(sweep, sweep / "seeds.svg");
  EXPECT_EQ(what, "2 groups of runs that differ only in seed (4 runs) -> " +
                      (sweep / "seeds.svg").string());
  const std::string svg = read_file(sweep / "seeds.svg");
  EXPECT_NE(svg.find("optim.weight_decay=0.3 (3 seeds)"), std::string::npos);
  EXPECT_NE(svg.find("optim.weight_decay=1.0 (1 seed)"), std::string::npos);
  // Per panel: the group's mean, min and max, and the single run's line.
  EXPECT_EQ(elements(svg, "polyline").size(), 2u * 4u);
  EXPECT_THROW(write_seed_curves(sweep / "a", sweep / "x.svg"), std::invalid_argument);
  fs::remove_all(sweep);
}

}  // namespace
}  // namespace gradscope
