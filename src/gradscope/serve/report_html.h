// `gradscope report RUN_DIR|SWEEP_DIR --html OUT.html`: the viewer's pages as one self-contained
// HTML file (the web app, uPlot and the data inline), that opens offline from file:// in any
// browser, for sharing. The app reads the inlined answers where the server would be asked.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace gradscope::serve {

// The report of a run or sweep directory. Throws std::invalid_argument naming the directory when
// it is neither.
std::string report_html(const std::filesystem::path& dir);

// The plots' palette and styles (report/style.h) as the element the web app reads them from
// (<script type="application/json" id="gs-style">), for the served page and the report alike.
std::string style_element();

// The served page: the app's index.html with style_element() in its head.
std::string index_page(std::string_view index_html);

}  // namespace gradscope::serve
