// The layers of src/gradscope, bottom to top (README "Layout", CMakeLists.txt): every include of
// another folder must point to a lower layer. Folders on one rank are beside each other and do
// not include one another. The test reads the sources themselves, so a new back edge fails here.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

namespace {

namespace fs = std::filesystem;

// Rank of each folder: lower ranks never include higher ones.
const std::map<std::string, int> kRank = {
    {"tensor", 0}, {"config", 0}, {"cuda", 1},   {"autograd", 2}, {"nn", 3},         {"optim", 3},
    {"tasks", 3},  {"theory", 3}, {"probes", 4}, {"rundir", 5},   {"run", 6},        {"index", 7},
    {"report", 8}, {"sweep", 9},  {"serve", 10}, {"python", 10},  {"reproduce", 10}, {"cli", 11}};

// Edges the ranks allow but the design does not: the file layer reads and writes named buffers,
// never live models, optimizers or tapes (run/training_state.h maps them); reports draw from
// files, never from a probe's code.
const std::map<std::string, std::set<std::string>> kForbidden = {
    {"rundir", {"autograd", "cuda", "nn", "optim", "probes"}}, {"report", {"probes"}}};

// The folder X of a line `#include "gradscope/X/..."`, or "" for any other line.
std::string included_layer(const std::string& line) {
  const std::string prefix = "#include \"gradscope/";
  if (line.rfind(prefix, 0) != 0) return "";
  const size_t end = line.find('/', prefix.size());
  return end == std::string::npos ? "" : line.substr(prefix.size(), end - prefix.size());
}

TEST(Layering, NoIncludePointsToAHigherOrSiblingLayer) {
  const fs::path src = fs::path(GRADSCOPE_SOURCE_DIR) / "src/gradscope";
  std::map<std::pair<std::string, std::string>, std::string> edges;  // (from, to) -> a file
  for (const auto& e : fs::recursive_directory_iterator(src)) {
    if (!e.is_regular_file()) continue;
    const std::string from = fs::relative(e.path(), src).begin()->string();
    ASSERT_TRUE(kRank.count(from)) << "a folder outside the layer list: " << from;
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) {
      const std::string to = included_layer(line);
      if (!to.empty() && to != from)
        edges.emplace(std::make_pair(from, to), e.path().filename().string());
    }
  }
  std::string graph;
  for (const auto& [edge, file] : edges) {
    graph += edge.first + " -> " + edge.second + " (" + file + ")\n";
    ASSERT_TRUE(kRank.count(edge.second)) << edge.second;
    EXPECT_LT(kRank.at(edge.second), kRank.at(edge.first))
        << edge.first << " includes " << edge.second << " in " << file;
    if (kForbidden.count(edge.first)) {
      EXPECT_EQ(kForbidden.at(edge.first).count(edge.second), 0u)
          << edge.first << " includes " << edge.second << " in " << file;
    }
  }
  std::cout << graph;
  EXPECT_GT(edges.size(), 20u);  // the scan saw the sources
}

}  // namespace
