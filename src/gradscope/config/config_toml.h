// The TOML side of Config, for the code that reads TOML itself (sweep specs, value_text.cpp).
#pragma once

#include <toml++/toml.h>

#include <string>

#include "gradscope/config/config.h"

namespace gradscope {

// A TOML scalar or array of numbers as a ConfigValue (its type is checked later against the key's).
// Throws ConfigError naming `where` for other node types.
ConfigValue value_from_toml(const toml::node& node, const std::string& where);

}  // namespace gradscope
