// The one CSV writer (RFC 4180): metrics.csv and `gradscope export --csv`.
#pragma once

#include <string>
#include <vector>

namespace gradscope {

// A field, quoted (with doubled quotes) only when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& value);
// Fields joined by commas, ending in a newline.
std::string csv_line(const std::vector<std::string>& fields);

}  // namespace gradscope
