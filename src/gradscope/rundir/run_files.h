// The small whole files of a run directory: the resolved config and the theory's prediction.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "gradscope/config/config.h"

namespace gradscope {

// The run's resolved config. Throws ConfigError naming the directory when it is missing, a
// sweep or no run (no config.toml), or the file when it is not a valid config.
Config read_run_config(const std::filesystem::path& run_dir);
// Writes header + the config atomically (file paths inside the run directory relative to it).
void write_run_config(const std::filesystem::path& run_dir, const std::string& header,
                      const Config& config);

// Writes the theory's prediction (theory.json) atomically.
void write_theory(const std::filesystem::path& run_dir, const nlohmann::json& prediction);

}  // namespace gradscope
