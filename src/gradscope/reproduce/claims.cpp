// Claim files: reading and checking them, and the rules. See claims.h.
#include "gradscope/reproduce/claims.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cmath>
#include <set>

#include "gradscope/config/config.h"
#include "gradscope/probes/spectra.h"
#include "gradscope/run/geometry_probes.h"
#include "gradscope/run/metric_columns.h"
#include "gradscope/rundir/files.h"
#include "gradscope/sweep/sweep_spec.h"

namespace gradscope {

namespace fs = std::filesystem;

const char* budget_name(Budget b) {
  return b == Budget::ci ? "ci" : b == Budget::local ? "local" : "full";
}

const std::vector<Budget>& all_budgets() {
  static const std::vector<Budget> all = {Budget::ci, Budget::local, Budget::full};
  return all;
}

Budget parse_budget(const std::string& text, const std::string& what) {
  for (Budget b : all_budgets())
    if (text == budget_name(b)) return b;
  throw ConfigError(fmt::format("{} = \"{}\" (valid: ci, local, full)", what, text));
}

std::vector<std::string> ClaimRun::overrides_at(Budget b) const {
  std::vector<std::string> out = overrides;
  const auto it = budgets.find(b);
  if (it != budgets.end())
    out.insert(out.end(), it->second.overrides.begin(), it->second.overrides.end());
  return out;
}

std::vector<std::string> Claim::runs() const {
  std::vector<std::string> out;
  for (const Term& t : quantity.terms)
    if (std::find(out.begin(), out.end(), t.run) == out.end()) out.push_back(t.run);
  return out;
}

namespace {

// A file's table, whose keys must be among `known` (ConfigError naming the key otherwise).
void check_keys(const toml::table& t, const std::vector<std::string>& known,
                const std::string& where) {
  for (auto&& [k, node] : t)
    if (std::find(known.begin(), known.end(), std::string(k.str())) == known.end())
      throw ConfigError(fmt::format("{}{} is not a field here (valid: {})", where, k.str(),
                                    fmt::join(known, ", ")));
}

std::string required_text(const toml::table& t, const std::string& key, const std::string& where) {
  const auto v = t[key].value<std::string>();
  if (!v || v->empty()) throw ConfigError(where + key + " is missing (a non-empty string)");
  return *v;
}

std::string optional_text(const toml::table& t, const std::string& key, const std::string& where) {
  if (!t.contains(key)) return "";
  const auto v = t[key].value<std::string>();
  if (!v) throw ConfigError(where + key + " must be a string");
  return *v;
}

std::vector<std::string> text_list(const toml::table& t, const std::string& key,
                                   const std::string& where) {
  std::vector<std::string> out;
  if (!t.contains(key)) return out;
  const toml::array* a = t[key].as_array();
  if (!a) throw ConfigError(where + key + " must be a list of \"key=value\" strings");
  for (const toml::node& n : *a) {
    const auto s = n.value<std::string>();
    if (!s) throw ConfigError(where + key + " must be a list of \"key=value\" strings");
    out.push_back(*s);
  }
  return out;
}

double number(const toml::node& n, const std::string& what) {
  if (const auto v = n.value<double>()) return *v;
  throw ConfigError(what + " must be a number");
}

ClaimRun read_run(const std::string& label, const toml::table& t, const fs::path& home,
                  const std::string& where) {
  check_keys(t, {"experiment", "overrides", "ci", "local", "full"}, where);
  ClaimRun r;
  r.label = label;
  r.experiment = home / required_text(t, "experiment", where);
  if (!fs::exists(r.experiment))
    throw ConfigError(where + "experiment: no file " + r.experiment.string());
  r.overrides = text_list(t, "overrides", where);
  for (Budget b : all_budgets()) {
    if (!t.contains(budget_name(b))) continue;
    const std::string at = where + budget_name(b) + ".";
    const toml::table* bt = t[budget_name(b)].as_table();
    if (!bt) throw ConfigError(at + " must be a table { overrides = [...], minutes = M }");
    check_keys(*bt, {"overrides", "minutes"}, at);
    RunBudget rb;
    rb.overrides = text_list(*bt, "overrides", at);
    if (!bt->contains("minutes"))
      throw ConfigError(at + "minutes is missing (the estimated minutes per seed on 2 cores)");
    rb.minutes = number(*bt->get("minutes"), at + "minutes");
    if (!(rb.minutes >= 0) || !std::isfinite(rb.minutes))
      throw ConfigError(
          fmt::format("{}minutes = {} (valid: a finite number >= 0)", at, rb.minutes));
    r.budgets[b] = rb;
  }
  if (r.budgets.empty())
    throw ConfigError(where + "no budget (give ci, local or full: { minutes = M })");
  return r;
}

double parse_number(const std::string& text, const std::string& bad) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw ConfigError(bad);
}

// The name of a term's function ("len", "min", "max", "first") and its argument, or "" and the
// text itself.
std::pair<std::string, std::string> unwrap(const std::string& text) {
  for (const char* f : {"len", "min", "max", "first"}) {
    const std::string open = std::string(f) + "(";
    if (text.rfind(open, 0) == 0 && text.back() == ')')
      return {f, text.substr(open.size(), text.size() - open.size() - 1)};
  }
  return {"", text};
}

Term parse_term(const std::string& written, const std::string& where) {
  Term t;
  t.text = written;
  auto [function, text] = unwrap(written);
  const bool length = function == "len";
  const std::string bad =
      where + "quantity term '" + t.text +
      "' (valid: LABEL:summary.PATH, LABEL:final.COLUMN, LABEL:COLUMN@STEP, "
      "len(LABEL:summary.PATH), min(LABEL:COLUMN), max(LABEL:COLUMN), first(LABEL:COLUMN < X))";
  if (function == "first") {
    const size_t op = text.find_first_of("<>");
    if (op == std::string::npos || op < 2 || text[op - 1] != ' ' || op + 2 >= text.size() ||
        text[op + 1] != ' ')
      throw ConfigError(bad);
    t.kind = text[op] == '<' ? Term::Kind::first_below : Term::Kind::first_above;
    t.threshold = parse_number(text.substr(op + 2), bad);
    text = text.substr(0, op - 1);
  }
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) throw ConfigError(bad);
  t.run = text.substr(0, colon);
  const std::string rest = text.substr(colon + 1);
  const size_t at = rest.find('@');
  if (function == "min" || function == "max" || function == "first") {
    if (function != "first") t.kind = function == "min" ? Term::Kind::min : Term::Kind::max;
    if (at != std::string::npos || rest.rfind("summary.", 0) == 0 || rest.rfind("final.", 0) == 0)
      throw ConfigError(bad);
    t.path = rest;
  } else if (rest.rfind("summary.", 0) == 0 && at == std::string::npos) {
    t.kind = length ? Term::Kind::length : Term::Kind::summary;
    t.path = rest.substr(8);
  } else if (length) {
    throw ConfigError(bad);
  } else if (rest.rfind("final.", 0) == 0 && at == std::string::npos) {
    t.kind = Term::Kind::final;
    t.path = rest.substr(6);
  } else if (at != std::string::npos && at > 0) {
    t.kind = Term::Kind::metric;
    t.path = rest.substr(0, at);
    try {
      size_t used = 0;
      t.step = std::stoll(rest.substr(at + 1), &used);
      if (used != rest.size() - at - 1 || t.step < 0) throw std::invalid_argument("step");
    } catch (const std::exception&) {
      throw ConfigError(bad);
    }
  } else {
    throw ConfigError(bad);
  }
  if (t.path.empty()) throw ConfigError(bad);
  return t;
}

Quantity parse_quantity(const std::string& text, const std::string& where) {
  Quantity q;
  q.text = text;
  for (const char op : {'/', '-', '+'}) {
    const std::string sep = std::string(" ") + op + " ";
    const size_t at = text.find(sep);
    if (at == std::string::npos) continue;
    q.op = op;
    q.terms = {parse_term(text.substr(0, at), where),
               parse_term(text.substr(at + sep.size()), where)};
    return q;
  }
  q.terms = {parse_term(text, where)};
  return q;
}

Rule parse_rule(const std::string& text, const std::string& where) {
  Rule r;
  r.text = text;
  const std::string bad =
      where + "rule '" + text +
      "' (valid: '< x', '<= x', '> x', '>= x', 'in [a, b]', '== WORD', 'increasing', "
      "'decreasing')";
  if (text == "increasing" || text == "decreasing") {
    r.kind = text == "increasing" ? Rule::Kind::increasing : Rule::Kind::decreasing;
    return r;
  }
  if (text.rfind("in [", 0) == 0 && text.back() == ']') {
    const std::string inner = text.substr(4, text.size() - 5);
    const size_t comma = inner.find(',');
    if (comma == std::string::npos) throw ConfigError(bad);
    r.kind = Rule::Kind::within;
    r.a = parse_number(inner.substr(0, comma), bad);
    std::string hi = inner.substr(comma + 1);
    hi.erase(0, hi.find_first_not_of(' '));
    r.b = parse_number(hi, bad);
    if (!(r.a <= r.b)) throw ConfigError(bad);
    return r;
  }
  const std::vector<std::pair<std::string, Rule::Kind>> ops = {{"<= ", Rule::Kind::less_equal},
                                                               {">= ", Rule::Kind::greater_equal},
                                                               {"== ", Rule::Kind::equals},
                                                               {"< ", Rule::Kind::less},
                                                               {"> ", Rule::Kind::greater}};
  for (const auto& [op, kind] : ops) {
    if (text.rfind(op, 0) != 0) continue;
    r.kind = kind;
    const std::string arg = text.substr(op.size());
    if (arg.empty()) throw ConfigError(bad);
    if (kind == Rule::Kind::equals)
      r.word = arg;
    else
      r.a = parse_number(arg, bad);
    return r;
  }
  throw ConfigError(bad);
}

// The summary fields a term may start with: the summary's own and every probe measure's section.
std::set<std::string> summary_fields() {
  std::set<std::string> out = {
      "status",      "message",     "memorized_step", "generalized_step",    "grokking_delay",
      "regime",      "thresholds",  "final",          "steps_done",          "n_params",
      "wall_time_s", "steps_per_s", "phase_changes",  "spectral_jump_steps", "theory",
      "numerics"};
  for (const Measure& m : run_measures())
    if (m.is_probe()) out.insert(m.name);
  return out;
}

// Summary fields that hold one value (no path goes below them), the text ones among them, and
// those that only runs with test accuracy (classification) write.
const std::set<std::string> kScalarFields = {
    "status", "message",    "memorized_step", "generalized_step", "grokking_delay",
    "regime", "steps_done", "n_params",       "wall_time_s",      "steps_per_s"};
const std::set<std::string> kTextFields = {"status", "message", "regime"};
const std::set<std::string> kAccuracyFields = {"memorized_step", "generalized_step",
                                               "grokking_delay", "regime"};

// The config key a summary section needs on ("" when none): a probe measure's own key, the
// spectra probe's for spectral_jump_steps.
std::string section_key(const std::string& field) {
  if (field == "spectral_jump_steps") return "probe.spectra";
  for (const Measure& m : run_measures())
    if (m.is_probe() && m.name == field) return m.key;
  return "";
}

// The sweep points of a run at a budget (1 without axes); its resolved config into `base`, and
// each point's into `configs` when given.
int64_t sweep_points(const ClaimRun& run, Budget b, Config& base, const std::string& where,
                     std::vector<Config>* configs = nullptr) {
  try {
    SweepSpec spec = read_sweep(run.experiment, run.overrides_at(b), base);
    spec.seeds = 1;
    const std::vector<SweepRun> runs = expand_sweep(base, spec);
    if (configs)
      for (const SweepRun& r : runs) configs->push_back(r.config);
    return static_cast<int64_t>(runs.size());
  } catch (const ConfigError& e) {
    throw ConfigError(
        fmt::format("{}run '{}' at budget {}: {}", where, run.label, budget_name(b), e.what()));
  }
}

// A summary term against the run's config: a field that exists, no path below a one-value field,
// a probe's section only where the probe is on, and the accuracy phases only where the task has
// test accuracy. `field` is the path's first key.
void check_summary_term(const Term& t, const std::string& field, const Config& base,
                        const std::string& label, Budget b, const std::string& where) {
  const std::string at = fmt::format("{}quantity term '{}': ", where, t.text);
  if (kScalarFields.count(field) && (t.path != field || t.kind == Term::Kind::length))
    throw ConfigError(fmt::format("{}summary.{} is one value (valid: summary.{} itself{})", at,
                                  field, field,
                                  t.kind == Term::Kind::length ? ", without len()" : ""));
  const std::string key = section_key(field);
  if (!key.empty() && !base.boolean(key))
    throw ConfigError(fmt::format("{}run '{}' at budget {} writes no summary.{} ({} is false)", at,
                                  label, budget_name(b), field, key));
  if (kAccuracyFields.count(field) && !column_declared(declared_columns(base), "test_acc"))
    throw ConfigError(fmt::format(
        "{}run '{}' at budget {} logs no test accuracy (task.name = {}), so its summary has no "
        "{}",
        at, label, budget_name(b), base.string("task.name"), field));
}

// A COLUMN@STEP term's step has a row with the column in the metrics of a run of `config` (each
// sweep point's): at most train.steps, and a multiple of train.log_every, the last step or a
// probe step (with a probe that logs columns on); a probe's column only at its probe steps.
void check_logged_step(const Term& t, const Config& config, Budget b, const std::string& where) {
  const int64_t steps = config.integer("train.steps"), every = config.integer("train.log_every");
  bool probing = config.boolean("probe.spectra");
  bool probe_column = t.path.rfind("spectra.", 0) == 0;
  for (const Measure& m : run_measures()) {
    if (!m.is_probe() || m.columns.empty() || !config.boolean(m.key)) continue;
    probing = true;
    probe_column = probe_column || column_declared(m.columns, t.path);
  }
  const bool probe_step = probing && probe_options(config).is_probe_step(t.step, steps);
  const bool row =
      t.step >= 0 && t.step <= steps &&
      (probe_column ? probe_step : t.step % every == 0 || t.step == steps || probe_step);
  if (!row)
    throw ConfigError(fmt::format(
        "{}quantity term '{}': run '{}' at budget {} logs no {} at step {} ({})", where, t.text,
        t.run, budget_name(b), t.path, t.step,
        probe_column ? "a probe's column: at its probe steps, probe.every or probe.per_decade"
                     : fmt::format("its rows: steps 0 to {} every train.log_every = {}, the "
                                   "last step{}",
                                   steps, every, probing ? " and the probe steps" : "")));
}

// Checks a claim's terms against the runs it reads at each of its budgets: the label exists, is
// defined at the budget, and names a column its config logs or a summary field it writes; the
// rule fits the values (a word rule on one text field of a run without axes, a number rule on
// numbers, an ordering over two or more points); two terms over axes have as many points.
void check_terms(const Claim& c, const ClaimFile& f, const std::string& where) {
  static const std::set<std::string> fields = summary_fields();
  const bool word_rule = c.rule.kind == Rule::Kind::equals;
  const bool ordering =
      c.rule.kind == Rule::Kind::increasing || c.rule.kind == Rule::Kind::decreasing;
  for (const auto& [b, n] : c.seeds) {
    std::vector<int64_t> points;
    for (const Term& t : c.quantity.terms) {
      const auto run = f.runs.find(t.run);
      if (run == f.runs.end()) {
        std::vector<std::string> labels;
        for (const auto& [l, r] : f.runs) labels.push_back(l);
        throw ConfigError(fmt::format("{}quantity reads run '{}' (valid: {})", where, t.run,
                                      fmt::join(labels, ", ")));
      }
      if (!run->second.budgets.count(b))
        throw ConfigError(fmt::format("{}runs at budget {} but run '{}' has no {} budget", where,
                                      budget_name(b), t.run, budget_name(b)));
      Config base;
      std::vector<Config> configs;
      points.push_back(sweep_points(run->second, b, base, where, &configs));
      const bool in_summary = t.kind == Term::Kind::summary || t.kind == Term::Kind::length;
      const std::string field = in_summary ? t.path.substr(0, t.path.find('.')) : "";
      if (in_summary && !fields.count(field))
        throw ConfigError(
            fmt::format("{}quantity term '{}': summary.json has no field '{}' "
                        "(valid: {})",
                        where, t.text, field, fmt::join(fields, ", ")));
      const bool text = in_summary && kTextFields.count(field) && t.kind == Term::Kind::summary;
      if (word_rule && !text)
        throw ConfigError(
            fmt::format("{}rule '{}' compares a word, but '{}' is a number (words: summary.{})",
                        where, c.rule.text, t.text, fmt::join(kTextFields, ", summary.")));
      if (!word_rule && text)
        throw ConfigError(
            fmt::format("{}rule '{}' compares numbers, but '{}' is a word (valid: "
                        "'== WORD')",
                        where, c.rule.text, t.text));
      if (in_summary && field != "final") {
        check_summary_term(t, field, base, t.run, b, where);
        continue;
      }
      const std::string column = in_summary ? t.path.substr(std::string("final.").size()) : t.path;
      if (!column_declared(declared_columns(base), column))
        throw ConfigError(fmt::format(
            "{}quantity term '{}': run '{}' at budget {} logs no column {} (task.name = {}; "
            "gradscope keys and docs/FORMATS.md list the columns and the probe keys that add them)",
            where, t.text, t.run, budget_name(b), column, base.string("task.name")));
      if (t.kind == Term::Kind::metric)
        for (const Config& point : configs) check_logged_step(t, point, b, where);
    }
    const int64_t most = *std::max_element(points.begin(), points.end());
    if (word_rule && most > 1)
      throw ConfigError(fmt::format(
          "{}rule '{}' reads one run without a sweep axis; run '{}' has {} points at budget {}",
          where, c.rule.text, c.quantity.terms[0].run, most, budget_name(b)));
    if (ordering && most < 2)
      throw ConfigError(fmt::format(
          "{}rule '{}' orders a sweep's points; run '{}' has no sweep axis at budget {}", where,
          c.rule.text, c.quantity.terms[0].run, budget_name(b)));
    if (points.size() == 2 && points[0] > 1 && points[1] > 1 && points[0] != points[1])
      throw ConfigError(fmt::format(
          "{}the quantity's two terms sweep {} and {} points at budget {} (valid: as many points, "
          "or one term without a sweep axis)",
          where, points[0], points[1], budget_name(b)));
  }
}

Claim read_claim(const toml::table& t, const ClaimFile& f, const std::string& file) {
  const std::string id = required_text(t, "id", file + ": claim: ");
  const std::string where = fmt::format("{}: claim {}: ", file, id);
  check_keys(t, {"id", "where", "says", "published", "quantity", "rule", "seeds", "share", "note"},
             where);
  Claim c;
  c.id = f.name + "." + id;
  c.where = required_text(t, "where", where);
  c.says = required_text(t, "says", where);
  c.published = required_text(t, "published", where);
  c.note = optional_text(t, "note", where);
  c.quantity = parse_quantity(required_text(t, "quantity", where), where);
  c.rule = parse_rule(required_text(t, "rule", where), where);
  const toml::table* seeds = t["seeds"].as_table();
  if (!seeds || seeds->empty())
    throw ConfigError(where +
                      "seeds is missing: the budgets it runs at and its seeds there, e.g. "
                      "seeds = { ci = 1, local = 3 }");
  for (auto&& [k, n] : *seeds) {
    const Budget b = parse_budget(std::string(k.str()), where + "seeds budget");
    const auto v = n.value<int64_t>();
    if (!v || *v < 1) throw ConfigError(where + "seeds." + std::string(k.str()) + " (valid: >= 1)");
    c.seeds[b] = *v;
  }
  if (t.contains("share")) c.share = number(*t.get("share"), where + "share");
  if (!(c.share > 0 && c.share <= 1)) throw ConfigError(where + "share (valid: 0 < share <= 1)");
  const bool ordering =
      c.rule.kind == Rule::Kind::increasing || c.rule.kind == Rule::Kind::decreasing;
  if ((c.rule.kind == Rule::Kind::equals) && c.quantity.op)
    throw ConfigError(where + "rule '== WORD' needs one summary term (a text field)");
  if (ordering && c.quantity.op)
    throw ConfigError(where + "an ordering rule reads one term over a sweep's points");
  check_terms(c, f, where);
  return c;
}

}  // namespace

ClaimFile read_claim_file(const fs::path& path) {
  const std::string file = path.string();
  toml::table root;
  try {
    root = toml::parse(read_file(path), file);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}: {}", file, e.source().begin.line, e.description()));
  } catch (const std::runtime_error& e) {
    throw ConfigError(e.what());
  }
  ClaimFile f;
  f.path = path;
  f.name = path.stem().string();
  const std::string where = file + ": ";
  check_keys(root, {"paper", "reference", "runs", "claim"}, where);
  f.paper = required_text(root, "paper", where);
  f.reference = optional_text(root, "reference", where);
  const toml::table* runs = root["runs"].as_table();
  if (!runs || runs->empty()) throw ConfigError(where + "runs is missing ([runs.LABEL] tables)");
  for (auto&& [label, node] : *runs) {
    const std::string l(label.str());
    if (!node.as_table()) throw ConfigError(where + "runs." + l + " must be a table");
    f.runs[l] = read_run(l, *node.as_table(), path.parent_path(), where + "runs." + l + ": ");
  }
  const toml::array* claims = root["claim"].as_array();
  if (!claims || claims->empty()) throw ConfigError(where + "no claim ([[claim]] tables)");
  for (const toml::node& n : *claims) {
    if (!n.as_table()) throw ConfigError(where + "claim must be [[claim]] tables");
    Claim c = read_claim(*n.as_table(), f, file);
    for (const Claim& other : f.claims)
      if (other.id == c.id) throw ConfigError(where + "claim id " + c.id + " given twice");
    f.claims.push_back(std::move(c));
  }
  return f;
}

std::vector<ClaimFile> read_claim_folder(const fs::path& folder) {
  if (!fs::is_directory(folder))
    throw ConfigError("--claims " + folder.string() + ": no such folder of claim files");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder))
    if (e.path().extension() == ".toml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw ConfigError("--claims " + folder.string() + ": no *.toml claim files");
  std::vector<ClaimFile> out;
  for (const fs::path& p : files) out.push_back(read_claim_file(p));
  return out;
}

std::string Value::text() const {
  if (word) return *word;
  const auto one = [](double v) { return std::isnan(v) ? "null" : fmt::format("{:.4g}", v); };
  if (numbers.size() == 1) return one(numbers[0]);
  std::vector<std::string> parts;
  for (double v : numbers) parts.push_back(one(v));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

bool rule_holds(const Rule& r, const Value& v) {
  if (r.kind == Rule::Kind::equals) return v.word && *v.word == r.word;
  if (v.word || v.numbers.empty()) return false;
  for (double x : v.numbers)
    if (std::isnan(x)) return false;
  if (r.kind == Rule::Kind::increasing || r.kind == Rule::Kind::decreasing) {
    if (v.numbers.size() < 2) return false;
    for (size_t i = 1; i < v.numbers.size(); ++i)
      if (r.kind == Rule::Kind::increasing ? !(v.numbers[i] > v.numbers[i - 1])
                                           : !(v.numbers[i] < v.numbers[i - 1]))
        return false;
    return true;
  }
  for (double x : v.numbers) {
    const bool ok = r.kind == Rule::Kind::less            ? x < r.a
                    : r.kind == Rule::Kind::less_equal    ? x <= r.a
                    : r.kind == Rule::Kind::greater       ? x > r.a
                    : r.kind == Rule::Kind::greater_equal ? x >= r.a
                                                          : x >= r.a && x <= r.b;
    if (!ok) return false;
  }
  return true;
}

}  // namespace gradscope
