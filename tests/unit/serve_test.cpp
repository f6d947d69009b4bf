// The web viewer apart from the network (serve/): request paths resolved under the root and
// nowhere else, min/max downsampling, the request handler's answers and refusals, and the
// self-contained report. The browser and socket-level tests are in tests/web.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "../support/fake_run.h"
#include "gradscope/rundir/heartbeat.h"
#include "gradscope/serve/downsample.h"
#include "gradscope/serve/report_html.h"
#include "gradscope/serve/safe_path.h"
#include "gradscope/serve/viewer.h"

namespace {

namespace fs = std::filesystem;
using namespace gradscope::serve;

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("gs_serve_" + std::to_string(::getpid()));
    fs::remove_all(base_);
    root_ = base_ / "root";
    gradscope_test::write_fake_run(root_ / "run", 50);
    fs::create_directories(base_ / "outside" / "run");
    fs::create_symlink(base_ / "outside", root_ / "escape");
    fs::create_directory_symlink(root_ / "run", root_ / "alias");
    root_ = fs::canonical(root_);
  }
  void TearDown() override { fs::remove_all(base_); }
  Response get(const std::string& path, std::multimap<std::string, std::string> params = {}) {
    return Viewer(root_).handle({"GET", path, std::move(params)});
  }
  fs::path base_, root_;
};

TEST_F(ServeTest, ResolvesOnlyDirectoriesUnderTheRoot) {
  std::string why;
  EXPECT_EQ(resolve_under(root_, "run", why), root_ / "run");
  EXPECT_EQ(resolve_under(root_, "", why), root_);
  EXPECT_EQ(resolve_under(root_, "alias", why), root_ / "run");  // a link that stays inside
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"..", "'..' in path"},
      {"run/../..", "'..' in path"},
      {"/etc", "absolute path"},
      {std::string("run\0x", 5), "control byte or backslash in path"},
      {"..\\..", "control byte or backslash in path"},
      {"escape", "not under the root"},
      {"escape/run", "not under the root"},
      {"missing", "no such directory"},
      {"run/config.toml", "no such directory"},
      {std::string(2000, 'a'), "path too long"}};
  for (const auto& [rel, reason] : refused) {
    EXPECT_FALSE(resolve_under(root_, rel, why)) << rel;
    EXPECT_EQ(why, reason) << rel;
  }
  fs::create_directory(root_ / "run" / "..x");
  EXPECT_TRUE(resolve_under(root_, "run/..x", why)) << "a name that only starts with ..";
}

TEST(Downsample, KeepsEachBucketsExtremesInOrder) {
  std::vector<double> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.01 * i);
  v[517] = 100;  // a spike
  v[300] = NAN;  // a hole
  const auto rows = minmax_rows(v.data(), 1, 1000, 10);
  EXPECT_LE(rows.size(), 20u);
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));
  EXPECT_NE(std::find(rows.begin(), rows.end(), 517), rows.end()) << "the spike survives";
  EXPECT_EQ(std::find(rows.begin(), rows.end(), 300), rows.end());
  // Bucket 0 is rows 0..99: sin rises, so its min is row 0 and its max row 99.
  EXPECT_EQ(rows[0], 0);
  EXPECT_EQ(rows[1], 99);
  // Short series come back whole (finite rows only); a strided column reads every stride-th.
  const std::vector<double> table = {0, 1, 1, NAN, 2, 3};
  EXPECT_EQ(minmax_rows(table.data() + 1, 2, 3, 10), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(even_rows(5, 10), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(even_rows(101, 3), (std::vector<int64_t>{0, 50, 100}));
  EXPECT_EQ(even_rows(7, 1), (std::vector<int64_t>{6}));  // the last row always
}

TEST_F(ServeTest, AnswersTheApiForARun) {
  const Response run = get("/api/run", {{"dir", "run"}});
  ASSERT_EQ(run.status, 200) << run.body;
  const auto doc = nlohmann::json::parse(run.body);
  EXPECT_EQ(doc["dir"], "run");
  EXPECT_EQ(doc["metrics"]["rows"], 50);
  EXPECT_EQ(doc["probes"], nlohmann::json::array({"spectra"}));
  EXPECT_EQ(doc["config"]["optim.weight_decay"], gradscope::Config().real("optim.weight_decay"));

  const Response m =
      get("/api/metrics", {{"dir", "run"}, {"keys", "train_loss"}, {"buckets", "5"}});
  ASSERT_EQ(m.status, 200) << m.body;
  const auto series = nlohmann::json::parse(m.body)["series"]["train_loss"];
  EXPECT_LE(series["x"].size(), 10u);
  EXPECT_NE(std::find(series["y"].begin(), series["y"].end(), 50.0), series["y"].end());
  EXPECT_EQ(series["x"][0], 0.0);

  const auto probe =
      nlohmann::json::parse(get("/api/probe", {{"dir", "run"}, {"kind", "spectra"}}).body);
  EXPECT_EQ(probe["steps"], nlohmann::json::array({0.0, 10.0, 20.0, 30.0}));
  EXPECT_EQ(probe["matrices"][0]["name"], "W");
  EXPECT_EQ(probe["matrices"][0]["values"][3][0], 4.0);
  EXPECT_EQ(nlohmann::json::parse(get("/api/status", {{"dir", "run"}}).body)["state"], "broken");
  EXPECT_EQ(get("/").content_type, "text/html; charset=utf-8");
  EXPECT_NE(get("/uplot.js").body.find("uPlot"), std::string::npos);
}

// A run that trains now (a live heartbeat of this process) is listed before it is indexed, with
// its config and its progress; once its heartbeat is gone it is not.
TEST_F(ServeTest, ListsRunsThatTrainNow) {
  gradscope::write_heartbeat(root_ / "run", gradscope::heartbeat_now(250, 1000, 50.0, 5.0));
  const auto runs = nlohmann::json::parse(get("/api/runs").body)["runs"];
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["dir"], "run");
  EXPECT_EQ(runs[0]["status"], "running");
  EXPECT_EQ(runs[0]["progress"]["step"], 250);
  EXPECT_DOUBLE_EQ(runs[0]["progress"]["eta_s"].get<double>(), 750 / 50.0);
  // Its config as the index would hold it (a bool as 0 or 1, a list as its text): the table
  // compares live and indexed rows.
  EXPECT_EQ(runs[0]["task.name"], gradscope::Config().string("task.name"));
  EXPECT_EQ(runs[0]["task.unordered"], gradscope::Config().boolean("task.unordered") ? 1 : 0);
  EXPECT_EQ(runs[0]["task.target"], "[]");
  const auto status = nlohmann::json::parse(get("/api/status", {{"dir", "run"}}).body);
  EXPECT_EQ(status["state"], "running");
  gradscope::remove_heartbeat(root_ / "run");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the table's one-second cache
  EXPECT_TRUE(nlohmann::json::parse(get("/api/runs").body)["runs"].empty());
}

// A trainer that dies leaves its heartbeat unchanged: the cached answer still turns from running
// to stopped within a second.
TEST_F(ServeTest, ARunWhoseProcessDiedStopsRunningWithinASecond) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  gradscope::Heartbeat h = gradscope::heartbeat_now(10, 100, 5.0, 2.0);
  h.pid = child;
  gradscope::write_heartbeat(root_ / "run", h);
  const Viewer viewer(root_);
  const auto state = [&] {
    return nlohmann::json::parse(
        viewer.handle({"GET", "/api/status", {{"dir", "run"}}}).body)["state"];
  };
  EXPECT_EQ(state(), "running");
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(state(), "broken");  // no checkpoint to resume from
}

TEST_F(ServeTest, RefusesWhatItDoesNotServe) {
  EXPECT_EQ(Viewer(root_).handle({"POST", "/api/run", {{"dir", "run"}}}).status, 405);
  EXPECT_EQ(get("/api/nothing", {{"dir", "run"}}).status, 404);
  EXPECT_EQ(get("/etc/passwd").status, 404);
  EXPECT_EQ(get("/api/run", {{"dir", "../"}}).status, 404);
  EXPECT_EQ(get("/api/metrics", {{"dir", "run"}, {"keys", "nope"}}).status, 400);
  EXPECT_EQ(get("/api/metrics", {{"dir", "run"}, {"buckets", "0"}}).status, 400);
  EXPECT_EQ(get("/api/metrics", {{"dir", "run"}, {"buckets", "-3"}}).status, 400);
  EXPECT_EQ(get("/api/probe", {{"dir", "run"}, {"kind", "weights"}}).status, 400);
  EXPECT_EQ(get("/api/sweep", {{"dir", "run"}}).status, 400);
  // Bytes that are not UTF-8 in a request come back replaced (U+FFFD), never as an exception.
  const Response odd = Viewer(root_).handle({"\xff\xfeGET", "/", {}});
  EXPECT_EQ(odd.status, 405);
  EXPECT_NE(odd.body.find("\xef\xbf\xbd"), std::string::npos) << odd.body;
  EXPECT_EQ(get("/api/metrics", {{"dir", "run"}, {"keys", "\xff"}}).status, 400);
  EXPECT_EQ(get("/api/run", {{"dir", "\xff\xfe"}}).status, 404);
  // A damaged file: the error names it relative to ROOT, never by its host path.
  { std::ofstream(root_ / "run/metrics.jsonl", std::ios::app) << "{oops\n{\"step\": 1}\n"; }
  const Response broken = get("/api/metrics", {{"dir", "run"}});
  EXPECT_EQ(broken.status, 500) << broken.body;
  EXPECT_EQ(broken.body.find(root_.string()), std::string::npos) << broken.body;
  EXPECT_NE(broken.body.find("ROOT"), std::string::npos) << broken.body;
}

TEST_F(ServeTest, ApiKeysAreCanonical) {
  EXPECT_EQ(api_key("/api/metrics", {{"dir", "a b/c"}, {"buckets", "600"}}),
            "/api/metrics?buckets=600&dir=a%20b%2Fc");
  EXPECT_EQ(api_key("/api/runs", {}), "/api/runs");
}

TEST_F(ServeTest, ReportIsOneSelfContainedFile) {
  const std::string html = report_html(root_ / "run");
  EXPECT_EQ(html.find("src=\""), std::string::npos) << "no external script";
  EXPECT_EQ(html.find("href=\""), std::string::npos) << "no external style sheet";
  const size_t open = html.find("<script type=\"application/json\" id=\"gs-report\">");
  ASSERT_NE(open, std::string::npos);
  const size_t start = html.find('>', open) + 1, end = html.find("</script>", start);
  const auto doc = nlohmann::json::parse(html.substr(start, end - start));
  EXPECT_EQ(doc["start"], "#/run/run");
  EXPECT_TRUE(doc["answers"].contains("/api/run?dir=run"));
  EXPECT_TRUE(doc["answers"].contains("/api/metrics?buckets=600&dir=run"));
  EXPECT_TRUE(doc["answers"].contains("/api/probe?dir=run&kind=spectra"));
  EXPECT_THROW(report_html(base_ / "outside"), std::invalid_argument);
}

}  // namespace
