// `gradscope report RUN_DIR|SWEEP_DIR --html OUT.html`: the viewer's pages as one self-contained
// HTML file (the web app, uPlot and the data inline), that opens offline from file:// in any
// browser, for sharing. The app reads the inlined answers where the server would be asked.
#pragma once

#include <filesystem>
#include <string>

namespace gradscope::serve {

// The report of a run or sweep directory. Throws std::invalid_argument naming the directory when
// it is neither.
std::string report_html(const std::filesystem::path& dir);

}  // namespace gradscope::serve
