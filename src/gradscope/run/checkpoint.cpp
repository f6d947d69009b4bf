// Checkpoint files: see checkpoint.h.
#include "gradscope/run/checkpoint.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "gradscope/run/run_files.h"
#include "gradscope/tensor/tensor.h"

namespace gradscope {
namespace {
constexpr char kMagic[9] = "GSCKPT01";

template <class T>
std::vector<std::pair<std::string, std::span<T>>> buffers(ParamStore<T>& params,
                                                          Optimizer<T>& optimizer) {
  std::vector<std::pair<std::string, std::span<T>>> b;
  b.emplace_back("values", params.values());
  b.emplace_back("initial", std::span<T>(const_cast<T*>(params.initial_values().data()),
                                         params.initial_values().size()));
  for (auto& s : optimizer.state()) b.emplace_back("optim." + s.first, s.second);
  return b;
}
}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir, int64_t step) {
  return run_dir / "checkpoints" / fmt::format("step_{:08d}.ckpt", step);
}

std::vector<int64_t> list_checkpoints(const std::filesystem::path& run_dir) {
  std::vector<int64_t> steps;
  const auto dir = run_dir / "checkpoints";
  if (!std::filesystem::is_directory(dir)) return steps;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.size() == 18 && n.rfind("step_", 0) == 0 && n.ends_with(".ckpt"))
      steps.push_back(std::stoll(n.substr(5, 8)));
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

template <class T>
void save_checkpoint(const std::filesystem::path& path, int64_t step, double wall_time_s,
                     const std::string& config_toml, const std::string& optimizer_name,
                     ParamStore<T>& params, Optimizer<T>& optimizer) {
  nlohmann::ordered_json h;
  h["format"] = "gradscope-checkpoint-1";
  h["step"] = step;
  h["precision"] = precision_name<T>();
  h["wall_time_s"] = wall_time_s;
  h["config"] = config_toml;
  h["optimizer"] = {{"name", optimizer_name}, {"steps", optimizer.steps()}};
  for (const ParamInfo& p : params.params()) {
    std::vector<int64_t> shape(p.shape.dims.begin(), p.shape.dims.begin() + p.shape.rank);
    h["params"].push_back({{"name", p.name}, {"shape", shape}, {"offset", p.offset}});
  }
  auto bufs = buffers(params, optimizer);
  for (auto& [name, span] : bufs)
    h["buffers"].push_back({{"name", name}, {"elements", span.size()}});
  const std::string header = h.dump();
  std::filesystem::create_directories(path.parent_path());
  write_binary_atomic(path, [&](std::FILE* f) {
    const uint64_t len = header.size();
    bool ok = std::fwrite(kMagic, 1, 8, f) == 8 && std::fwrite(&len, 8, 1, f) == 1 &&
              std::fwrite(header.data(), 1, len, f) == len;
    for (auto& [name, span] : bufs)
      ok = ok && std::fwrite(span.data(), sizeof(T), span.size(), f) == span.size();
    if (!ok) throw std::runtime_error("cannot write " + path.string());
  });
}

template <class T>
CheckpointInfo load_checkpoint(const std::filesystem::path& path, const std::string& optimizer_name,
                               ParamStore<T>& params, Optimizer<T>& optimizer) {
  auto fail = [&](const std::string& what) {
    throw std::runtime_error(path.string() + ": " + what);
  };
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("cannot read");
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  char magic[8];
  uint64_t len = 0;
  if (std::fread(magic, 1, 8, f) != 8 || std::memcmp(magic, kMagic, 8) != 0 ||
      std::fread(&len, 8, 1, f) != 1 || len > (uint64_t{1} << 30))
    fail("not a gradscope checkpoint");
  std::string header(len, '\0');
  if (std::fread(header.data(), 1, len, f) != len) fail("truncated header");
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception&) {
    fail("malformed header");
  }
  if (h.value("precision", "") != precision_name<T>())
    fail("precision " + h.value("precision", "?") + " does not match the run's " +
         precision_name<T>());
  if (h["optimizer"].value("name", "") != optimizer_name)
    fail("optimizer " + h["optimizer"].value("name", "?") + " does not match the run's " +
         optimizer_name);
  const auto& ps = h.at("params");
  if (ps.size() != params.params().size()) fail("parameter count differs from the model's");
  for (size_t i = 0; i < ps.size(); ++i) {
    const ParamInfo& p = params.info(static_cast<int>(i));
    std::vector<int64_t> shape(p.shape.dims.begin(), p.shape.dims.begin() + p.shape.rank);
    if (ps[i].at("name") != p.name || ps[i].at("shape").get<std::vector<int64_t>>() != shape ||
        ps[i].at("offset").get<int64_t>() != p.offset)
      fail("parameter " + ps[i].at("name").get<std::string>() + " does not match the model's " +
           p.name);
  }
  auto bufs = buffers(params, optimizer);
  const auto& hb = h.at("buffers");
  if (hb.size() != bufs.size()) fail("optimizer state does not match");
  std::vector<T> staging;
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (hb[i].at("name") != bufs[i].first ||
        hb[i].at("elements").get<size_t>() != bufs[i].second.size())
      fail("buffer " + hb[i].at("name").get<std::string>() + " does not match");
  }
  // Read everything before changing anything.
  for (auto& [name, span] : bufs) {
    const size_t at = staging.size();
    staging.resize(at + span.size());
    if (std::fread(staging.data() + at, sizeof(T), span.size(), f) != span.size())
      fail("truncated data");
  }
  size_t at = 0;
  for (auto& [name, span] : bufs) {
    std::copy(staging.begin() + at, staging.begin() + at + span.size(), span.begin());
    at += span.size();
  }
  optimizer.set_steps(h["optimizer"].at("steps").get<int64_t>());
  return {h.at("step").get<int64_t>(), h.value("wall_time_s", 0.0), h.value("config", "")};
}

#define GRADSCOPE_INSTANTIATE(T)                                                               \
  template void save_checkpoint<T>(const std::filesystem::path&, int64_t, double,              \
                                   const std::string&, const std::string&, ParamStore<T>&,     \
                                   Optimizer<T>&);                                             \
  template CheckpointInfo load_checkpoint<T>(const std::filesystem::path&, const std::string&, \
                                             ParamStore<T>&, Optimizer<T>&);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
