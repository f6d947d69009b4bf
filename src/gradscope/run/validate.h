// Validation of a whole experiment before anything is built or written: the keys of every layer
// (each layer checks its own options), the task family's checks, and whether task, model and
// loss fit each other. Every error is a ConfigError naming the key and what would be valid.
#pragma once

#include "gradscope/config/config.h"

namespace gradscope {

void validate_experiment(const Config& config);

}  // namespace gradscope
