// Claims as data: a published statement, the quantity of gradscope's runs that tests it and the
// rule the quantity must meet over seeds, read from a claim file (one per paper, claims/*.toml;
// the format is claims/README.md):
//
//   paper = "Liu, Michaud & Tegmark (2023), Omnigrok"     # who said it
//   reference = "REFERENCES.md 1d"
//   [runs.large]                                        # a run the claims read, by label
//   experiment = "../examples/omnigrok-large-init.toml" # relative to the claim file
//   overrides = ["train.steps=20000"]                   # key=value, or key=v1,v2 (a sweep axis)
//   ci = { overrides = ["train.steps=3000"], minutes = 0.2 }   # per budget: more overrides and
//   local = { minutes = 1 }                                    # minutes per seed on 2 cores
//   [[claim]]
//   id = "fixed-norm-shortens-delay"
//   where = "Figure 4"
//   says = "..."                # the paper's own words
//   published = "..."           # the published value
//   quantity = "large:summary.grokking_delay / fixed:summary.grokking_delay"
//   rule = ">= 5"
//   seeds = { ci = 1, local = 3 }   # the budgets it runs at, and its seeds there
//   share = 1.0                     # the share of seeds on which the rule must hold
//
// A quantity is a term, or two joined by " / ", " - " or " + "; a term is LABEL:summary.PATH
// (a field of summary.json, dots between keys), LABEL:final.COLUMN (the last metrics row),
// LABEL:COLUMN@STEP (the row of that step), len(LABEL:summary.PATH) (an array's length),
// min(LABEL:COLUMN) or max(LABEL:COLUMN) (over the logged rows), or first(LABEL:COLUMN < X) (the
// first logged step where the column is below X; > X for above). A run
// with a sweep axis gives one value per point, in the axis's order. A rule is "< x", "<= x",
// "> x", ">= x", "in [a, b]", "== WORD" (a text field), or "increasing" / "decreasing" (strictly,
// over a sweep's points). Everything is checked when the file is read (keys, budgets, labels,
// columns against run/metric_columns.h, summary fields): bad input throws ConfigError naming the
// file and what is valid, before anything runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gradscope {

enum class Budget { ci, local, full };
const char* budget_name(Budget b);
// "ci" | "local" | "full"; throws ConfigError naming `what`.
Budget parse_budget(const std::string& text, const std::string& what);
const std::vector<Budget>& all_budgets();

// A run of a claim file at one budget: what it adds to the run's overrides, and its estimated
// minutes per seed on two cores.
struct RunBudget {
  std::vector<std::string> overrides;
  double minutes = 0;
};

struct ClaimRun {
  std::string label;
  std::filesystem::path experiment;  // absolute, or relative to the working directory
  std::vector<std::string> overrides;
  std::map<Budget, RunBudget> budgets;  // the budgets it is defined at
  // Every override at `b`: the run's, then the budget's.
  std::vector<std::string> overrides_at(Budget b) const;
};

// One value read from a run directory.
struct Term {
  enum class Kind { summary, final, metric, length, min, max, first_below, first_above };
  Kind kind = Kind::summary;
  std::string run;       // the run's label
  std::string path;      // summary path (dots), or a column
  int64_t step = 0;      // Kind::metric: the logged step
  double threshold = 0;  // Kind::first_below, first_above
  std::string text;      // as written
};

struct Quantity {
  std::vector<Term> terms;  // one, or two joined by op
  char op = 0;              // '/', '-', '+' (two terms) or 0
  std::string text;
};

struct Rule {
  enum class Kind {
    less,
    less_equal,
    greater,
    greater_equal,
    within,
    equals,
    increasing,
    decreasing
  };
  Kind kind = Kind::greater_equal;
  double a = 0, b = 0;  // the bound, or [a, b]
  std::string word;     // Kind::equals
  std::string text;
};

struct Claim {
  std::string id;  // "<file stem>.<id>"
  std::string where, says, published, note;
  Quantity quantity;
  Rule rule;
  std::map<Budget, int64_t> seeds;  // the budgets it runs at
  double share = 1.0;
  std::vector<std::string> runs() const;  // the labels its terms read
};

struct ClaimFile {
  std::filesystem::path path;
  std::string name;  // the file's stem: "omnigrok"
  std::string paper, reference;
  std::map<std::string, ClaimRun> runs;
  std::vector<Claim> claims;
};

// Reads and checks one claim file. Throws ConfigError ("FILE: ...") on bad input.
ClaimFile read_claim_file(const std::filesystem::path& path);
// Every *.toml of the folder, by name. Throws ConfigError on the first bad file or an empty folder.
std::vector<ClaimFile> read_claim_folder(const std::filesystem::path& folder);

// What a quantity gives for one seed: numbers (one per sweep point; NaN where a run lacks the
// value), or a word.
struct Value {
  std::vector<double> numbers;
  std::optional<std::string> word;
  std::string text() const;  // "1.5", "[3, 2, 1]", "inf", "grokking", "null" (NaN)
};
// Whether the rule holds for the value (a NaN never holds; an infinity compares as a number).
bool rule_holds(const Rule& rule, const Value& value);

}  // namespace gradscope
