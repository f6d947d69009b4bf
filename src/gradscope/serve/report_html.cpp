// The self-contained HTML report of a run or sweep (serve/report_html.h).
#include "gradscope/serve/report_html.h"

#include <stdexcept>

#include "gradscope/report/style.h"
#include "gradscope/report/svg.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/serve/safe_path.h"
#include "gradscope/serve/viewer.h"
#include "gradscope/serve/viewer_data.h"
#include "gradscope/serve/web_assets.h"

namespace gradscope::serve {

namespace fs = std::filesystem;

namespace {

// Series of a sweep's runs are downsampled further: a report of a large sweep stays small.
constexpr int64_t kSweepRunBuckets = 200;
// Frames of the inside view a run's report holds (a sweep's report holds none: they are large).
constexpr size_t kInsideReportFrames = 4;

std::string asset(std::string_view name) {
  const WebAsset* a = find_asset(name);
  if (!a) throw std::logic_error("web asset missing: " + std::string(name));
  return std::string(a->content);
}

// Text safe inside a <script> element: no "</" can close it early.
std::string script_safe(std::string text) {
  for (size_t at = 0; (at = text.find("</", at)) != std::string::npos; at += 3)
    text.replace(at, 2, "<\\/");
  return text;
}

// The answers a run's page asks for, keyed as the app asks (api_key).
void add_run(Json& data, const fs::path& root, const fs::path& run, int64_t buckets) {
  const std::string dir = relative_name(root, run);
  const Json run_doc = run_json(root, run);
  data[api_key("/api/run", {{"dir", dir}})] = run_doc;
  data[api_key("/api/metrics", {{"buckets", std::to_string(buckets)}, {"dir", dir}})] =
      metrics_json(run, {}, buckets);
  for (const Json& kind : run_doc["probes"])
    if (kind != "inside")
      data[api_key("/api/probe", {{"dir", dir}, {"kind", kind.get<std::string>()}})] =
          probe_json(run, kind.get<std::string>());
}

// The inside view at a few steps (kInsideReportFrames, evenly spaced, the first and last among
// them): its index lists only those, so that the page's slider moves over what the report holds.
void add_inside(Json& data, const fs::path& root, const fs::path& run) {
  const std::string dir = relative_name(root, run);
  Json index = inside_json(run);
  const std::vector<int64_t> all = index["steps"].get<std::vector<int64_t>>();
  if (all.empty()) return;
  std::vector<size_t> picked;
  const size_t n = std::min(all.size(), kInsideReportFrames);
  for (size_t i = 0; i < n; ++i) picked.push_back(n == 1 ? 0 : i * (all.size() - 1) / (n - 1));
  Json steps = Json::array(), frames = Json::array();
  for (size_t i : picked) {
    steps.push_back(all[i]);
    frames.push_back(index["frames"][i]);
    data[api_key("/api/inside", {{"dir", dir}, {"step", std::to_string(all[i])}})] =
        inside_frame_json(run, all[i]);
  }
  index["steps"] = std::move(steps);
  index["frames"] = std::move(frames);
  data[api_key("/api/inside", {{"dir", dir}})] = std::move(index);
}

}  // namespace

std::string report_html(const fs::path& target) {
  std::error_code ec;
  const fs::path dir = fs::canonical(target, ec);
  if (ec || !(rundir::is_run_dir(dir) || rundir::is_sweep_dir(dir)))
    throw std::invalid_argument(target.string() +
                                ": not a run or sweep directory (valid: a folder with "
                                "config.toml, or a sweep folder with sweep.json)");
  const fs::path root = dir.parent_path();
  Json data = Json::object();
  std::string start, title = dir.filename().string();
  if (rundir::is_run_dir(dir)) {
    add_run(data, root, dir, kDefaultBuckets);
    add_inside(data, root, dir);
    start = "#/run/" + relative_name(root, dir);
    title = data[api_key("/api/run", {{"dir", relative_name(root, dir)}})]["title"];
  } else {
    const Json sweep = sweep_json(root, dir);
    data[api_key("/api/sweep", {{"dir", relative_name(root, dir)}})] = sweep;
    data[api_key("/api/runs", {})] = {{"runs", sweep["runs"]}};
    std::string why;
    for (const Json& r : sweep["runs"])
      if (r.contains("dir") && r["dir"].is_string())
        if (const auto run = resolve_under(root, r["dir"].get<std::string>(), why))
          add_run(data, root, *run, kSweepRunBuckets);
    start = "#/sweep/" + relative_name(root, dir);
  }
  const Json doc = {{"start", start},
                    {"buckets", rundir::is_run_dir(dir) ? kDefaultBuckets : kSweepRunBuckets},
                    {"answers", std::move(data)}};
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width\">\n<title>gradscope report: " +
         xml_escape(title) + "</title>\n" + style_element() + "\n<style>\n" + asset("uplot.css") +
         "\n" + asset("app.css") + "\n</style>\n</head>\n<body>\n<div id=\"app\"></div>\n" +
         "<script type=\"application/json\" id=\"gs-report\">" + script_safe(json_text(doc)) +
         "</script>\n<script>\n" + script_safe(asset("uplot.js")) + "\n</script>\n<script>\n" +
         script_safe(asset("app.js")) + "\n</script>\n</body>\n</html>\n";
}

std::string style_element() {
  return "<script type=\"application/json\" id=\"gs-style\">" + script_safe(style::style_json()) +
         "</script>";
}

std::string index_page(std::string_view index_html) {
  std::string page(index_html);
  const size_t head = page.find("</head>");
  if (head == std::string::npos) throw std::logic_error("index.html has no </head>");
  return page.insert(head, style_element() + "\n");
}

}  // namespace gradscope::serve
