// The gradscope Config of one PyTorch-oracle fixture case (its "config" object of key -> bool,
// integer or string), shared by the oracle tests and the device tests that replay the fixtures.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "gradscope/config/config.h"

namespace gradscope {

inline Config fixture_config(const nlohmann::json& c) {
  Config cfg;
  for (auto& [k, v] : c.at("config").items()) {
    if (v.is_boolean())
      cfg.set(k, v.template get<bool>());
    else if (v.is_number_integer())
      cfg.set(k, v.template get<int64_t>());
    else
      cfg.set(k, v.template get<std::string>());
  }
  return cfg;
}

}  // namespace gradscope
