// The one grammar for values typed as text: key=value overrides on the command line, sweep axes
// (key=v1,v2,...), and (through Config::apply_override) the Python and test APIs. Files are
// TOML, and this grammar is TOML too, plus three shorthands people type:
//
//   a TOML value          train.steps=1e5   optim.lr=3e-3   task.unordered=true
//                         name="with spaces"   task.target=[3, 2, 1, 0.5]
//   a bare string         name=wd0.3   task.op=a+b        (string keys: any text that is not a
//                                                          TOML string, or for a key taking a
//                                                          string or a list not a comma list,
//                                                          is taken as it stands)
//   a comma list          task.target=3,2,1,0.5           (list keys: numbers between commas, or
//                         train.checkpoint_steps=30,70     one number; a key taking a string or a
//                                                          list: two numbers or more)
//   a sweep axis          optim.weight_decay=0.1,0.3,1    (gradscope sweep: values between
//                         task.target=[3,2],[1,1]          top-level commas; for list keys and
//                                                          keys taking a string or a list, each
//                                                          value a bracketed list)
//
// Integers may be written as integral numbers (1e5); a number where an integer is expected must
// be integral. Errors name the key, the text and what is valid.
#pragma once

#include <string>
#include <vector>

#include "gradscope/config/config.h"

namespace gradscope {

// One value of the key's type. Throws ConfigError "<key> = <text> (valid: ...)".
ConfigValue parse_value(const KeySpec& spec, const std::string& text);

// The values of a sweep axis, or one value when `text` is not an axis (no top-level comma; for
// a list key, not a comma list of bracketed lists). Throws ConfigError like parse_value.
std::vector<ConfigValue> parse_values(const KeySpec& spec, const std::string& text);

// The override that sets `key` to `values` in this grammar: "key=v" for one value, the sweep axis
// "key=v1,v2,..." for several (each value as TOML: strings quoted, numbers round-trip, lists
// bracketed). parse_values reads the values back.
std::string assignment_text(const std::string& key, const std::vector<ConfigValue>& values);

}  // namespace gradscope
