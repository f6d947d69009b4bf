// The metric columns a run may log, known from its config before it runs: the trainer's own
// (run/evaluation.cpp), its task family's measures' and those of every probe switched on, as the
// patterns of probes/measures.h (Measure::columns). A claim file that names a column outside
// them is refused before anything runs (reproduce/claims.h); tests/unit/metric_columns_test.cpp
// keeps the patterns true to what runs log.
#pragma once

#include <string>
#include <vector>

#include "gradscope/config/config.h"

namespace gradscope {

// The patterns of every column a run of `config` may log. Throws ConfigError on an unknown
// task.name.
std::vector<std::string> declared_columns(const Config& config);
// Whether one of `patterns` matches `column`.
bool column_declared(const std::vector<std::string>& patterns, const std::string& column);

}  // namespace gradscope
