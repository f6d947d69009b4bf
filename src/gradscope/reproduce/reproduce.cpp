// Reproductions: running the claims' runs and judging them. See reproduce.h.
#include "gradscope/reproduce/reproduce.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "gradscope/config/config.h"
#include "gradscope/config/edit_distance.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/summary_file.h"
#include "gradscope/sweep/runner.h"
#include "gradscope/sweep/sweep_spec.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

// One run label of a claim file at the budget: its sweep over seeds (and the file's axes).
struct Planned {
  const ClaimFile* file = nullptr;
  const ClaimRun* run = nullptr;
  Config base;
  SweepSpec spec;
  std::vector<SweepRun> runs;  // expansion order: point-major, seeds innermost
  fs::path dir;                // <root>/<name>
  int64_t points() const { return static_cast<int64_t>(runs.size()) / spec.seeds; }
};

// A claim selected by the targets, with its seeds at the budget (0: not run at this budget).
struct Selected {
  const ClaimFile* file = nullptr;
  const Claim* claim = nullptr;
  int64_t seeds = 0;
};

std::vector<Selected> select(const std::vector<ClaimFile>& files, const ReproduceOptions& o) {
  std::vector<Selected> out;
  std::vector<bool> used(o.targets.size(), false);
  for (const ClaimFile& f : files)
    for (const Claim& c : f.claims) {
      bool chosen = o.targets.empty();
      for (size_t i = 0; i < o.targets.size(); ++i)
        if (o.targets[i] == f.name || o.targets[i] == c.id) chosen = used[i] = true;
      if (!chosen) continue;
      const auto it = c.seeds.find(o.budget);
      out.push_back({&f, &c, it == c.seeds.end() ? 0 : (o.seeds > 0 ? o.seeds : it->second)});
    }
  for (size_t i = 0; i < o.targets.size(); ++i)
    if (!used[i]) {
      std::vector<std::string> names;
      for (const ClaimFile& f : files) names.push_back(f.name);
      throw ConfigError(
          fmt::format("{}: no such claim or paper (valid: a paper, {}, or a claim id, e.g. {}; "
                      "gradscope reproduce --list)",
                      o.targets[i], fmt::join(names, ", "), files.front().claims.front().id));
    }
  return out;
}

// The largest seed count at the budget of the claims of `f` that read run `label`, as the files
// give them (not --seeds): what names the label's sweep folder, so that more or fewer seeds use
// the same folder and its finished runs.
int64_t own_seeds(const ClaimFile& f, const std::string& label, Budget b) {
  int64_t n = 0;
  for (const Claim& c : f.claims) {
    const auto it = c.seeds.find(b);
    const std::vector<std::string> reads = c.runs();
    if (it != c.seeds.end() && std::find(reads.begin(), reads.end(), label) != reads.end())
      n = std::max(n, it->second);
  }
  return n;
}

// The sweeps the selected claims read, each validated (expand_sweep) before anything runs.
std::vector<Planned> plan(const std::vector<Selected>& selected, const ReproduceOptions& o) {
  std::map<std::pair<const ClaimFile*, std::string>, int64_t> seeds;
  for (const Selected& s : selected)
    if (s.seeds > 0)
      for (const std::string& label : s.claim->runs()) {
        int64_t& n = seeds[{s.file, label}];
        n = std::max(n, s.seeds);
      }
  std::vector<Planned> out;
  for (const auto& [key, n] : seeds) {
    Planned p;
    p.file = key.first;
    p.run = &p.file->runs.at(key.second);
    try {
      p.spec = read_sweep(p.run->experiment, p.run->overrides_at(o.budget), p.base);
    } catch (const ConfigError& e) {
      throw ConfigError(
          fmt::format("{}: runs.{}: {}", p.file->path.string(), key.second, e.what()));
    }
    p.spec.seeds = own_seeds(*p.file, key.second, o.budget);  // the folder's name
    const std::string ident = config_hash(p.base) + describe_sweep(p.spec);
    p.spec.seeds = n;  // the seeds run: from the front of the folder's
    p.base.set("name",
               fmt::format("{}-{}-{}-{:08x}", p.file->name, key.second, budget_name(o.budget),
                           fnv1a(ident.data(), ident.size()) & 0xffffffffu));
    p.runs = expand_sweep(p.base, p.spec);
    p.dir = o.sweep.root / p.base.string("name");
    out.push_back(std::move(p));
  }
  return out;
}

const Planned& planned(const std::vector<Planned>& plan, const ClaimFile* f,
                       const std::string& label) {
  for (const Planned& p : plan)
    if (p.file == f && p.run->label == label) return p;
  throw std::logic_error("reproduce: unplanned run " + label);
}

// Whether a run ended for good: a summary whose status is not "interrupted" (as a sweep
// decides what to run again).
bool finished_run(const fs::path& run) {
  const std::optional<Summary> s = read_summary(run);
  return s && s->finished();
}

// The runs of a planned sweep that are not complete.
int64_t missing_runs(const Planned& p) {
  int64_t n = 0;
  for (const SweepRun& r : p.runs) n += !finished_run(p.dir / r.id);
  return n;
}

// The key of `object` within 2 edits of `key` (a misspelling), or "".
std::string near_key(const json& object, const std::string& key) {
  for (const auto& [k, v] : object.items())
    if (edit_distance(k.data(), k.size(), key.data(), key.size()) <= 2) return k;
  return "";
}

// A summary path (dots between keys; a key may itself hold dots, as the final row's columns do;
// a number indexes an array). Null when absent. `wrong` says why the path cannot name anything a
// run writes: it goes below a value, or a key is missing where a key within 2 edits of it is
// there (a misspelling). A key absent otherwise is a measure the run did not make (a phase change
// too small for its abrupt, a list shorter than the index): null, which no rule accepts.
const json* find_path(const json& root, const std::string& path, std::string& wrong) {
  const json* at = &root;
  size_t from = 0;
  while (from < path.size()) {
    if (at->is_array()) {
      const size_t end = std::min(path.find('.', from), path.size());
      const std::string index = path.substr(from, end - from);
      if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(index) >= at->size())
        return nullptr;
      at = &(*at)[std::stoul(index)];
      from = end + 1;
      continue;
    }
    if (!at->is_object()) {
      if (!at->is_null()) wrong = "goes below a value at '" + path.substr(0, from - 1) + "'";
      return nullptr;
    }
    // The longest run of segments that is a key here.
    size_t end = path.size();
    const json* next = nullptr;
    while (end > from) {
      const auto it = at->find(path.substr(from, end - from));
      if (it != at->end()) {
        next = &*it;
        break;
      }
      end = path.rfind('.', end - 1);
      if (end == std::string::npos || end < from) end = from;
    }
    if (!next) {
      const std::string key = path.substr(from, std::min(path.find('.', from), path.size()) - from);
      if (const std::string near = near_key(*at, key); !near.empty())
        wrong = "has no '" + key + "' (did you mean '" + near + "'?)";
      return nullptr;
    }
    at = next;
    from = end + 1;
  }
  return at;
}

// What one term reads of one run directory (NaN, or a word, when the run lacks it; `wrong` when
// the path cannot name what a run writes: find_path).
struct Read {
  double number = NAN;
  std::optional<std::string> word;
  std::string wrong;
};

// A term over the metrics rows (NaN where no row gives it).
double read_rows(const Term& t, const std::vector<MetricsRow>& rows) {
  double out = NAN;
  for (const MetricsRow& row : rows) {
    const double v = row.get(t.path);
    switch (t.kind) {
      case Term::Kind::metric:
        if (row.step() == t.step) return v;
        break;
      case Term::Kind::min:
        if (std::isfinite(v) && !(out <= v)) out = v;
        break;
      case Term::Kind::max:
        if (std::isfinite(v) && !(out >= v)) out = v;
        break;
      case Term::Kind::first_below:
        if (v < t.threshold) return static_cast<double>(row.step());
        break;
      case Term::Kind::first_above:
        if (v > t.threshold) return static_cast<double>(row.step());
        break;
      default:
        break;
    }
  }
  return out;
}

Read read_term(const Term& t, const fs::path& run) {
  Read out;
  const fs::path summary = rundir::summary_file(run);
  if (!fs::exists(summary)) return out;
  if (t.kind != Term::Kind::summary && t.kind != Term::Kind::final &&
      t.kind != Term::Kind::length) {
    out.number = read_rows(t, read_metrics(run));
    return out;
  }
  const json s = json::parse(read_file(summary));
  const std::string path = t.kind == Term::Kind::final ? "final." + t.path : t.path;
  const json* v = find_path(s, path, out.wrong);
  if (t.kind == Term::Kind::final) out.wrong.clear();  // a column the last row may lack
  if (!v) return out;
  if (t.kind == Term::Kind::length) {
    if (v->is_array() || v->is_object()) out.number = static_cast<double>(v->size());
  } else if (v->is_number()) {
    out.number = v->get<double>();
  } else if (v->is_string()) {
    out.word = v->get<std::string>();
  } else if (v->is_boolean()) {
    out.number = v->get<bool>() ? 1.0 : 0.0;
  }
  return out;
}

double combine(char op, double a, double b) {
  return op == '/' ? a / b : op == '-' ? a - b : a + b;
}

// The gradscope that made a run: its config.toml's first line, "# gradscope 0.1.0 (git abc): ..."
// ("" when unreadable).
std::string run_revision(const fs::path& run) {
  std::ifstream in(rundir::config_file(run));
  std::string line;
  if (!std::getline(in, line) || line.rfind("# gradscope ", 0) != 0) return "";
  const size_t end = line.find("): ");
  return end == std::string::npos ? "" : line.substr(2, end - 1);
}

// The quantity on seed s: one number per sweep point (a term on a run without axes broadcasts;
// read_claim_file refuses two terms of different point counts). `complete` turns false when a run
// it reads has not finished, `any` true when one has a summary; `unreadable` names a field a
// finished run's summary does not have; `revisions` gathers the gradscope that made each run.
Value evaluate(const Selected& sel, const std::vector<Planned>& plan, int64_t s, bool& complete,
               bool& any, std::string& unreadable, std::set<std::string>& revisions) {
  std::vector<std::vector<Read>> terms;
  for (const Term& t : sel.claim->quantity.terms) {
    const Planned& p = planned(plan, sel.file, t.run);
    std::vector<Read> reads;
    for (int64_t point = 0; point < p.points(); ++point) {
      const fs::path run = p.dir / p.runs[static_cast<size_t>(point * p.spec.seeds + s)].id;
      const bool done = finished_run(run);
      complete = complete && done;
      any = any || fs::exists(rundir::summary_file(run));
      reads.push_back(done ? read_term(t, run) : Read{});
      if (const std::string r = done ? run_revision(run) : ""; !r.empty()) revisions.insert(r);
      if (!reads.back().wrong.empty() && unreadable.empty())
        unreadable = fmt::format("summary.{} of run '{}' ({}) {}", t.path, t.run,
                                 run.filename().string(), reads.back().wrong);
    }
    terms.push_back(std::move(reads));
  }
  Value v;
  if (terms.size() == 1 && terms[0].size() == 1 && terms[0][0].word) {
    v.word = terms[0][0].word;
    return v;
  }
  const size_t n = terms.size() == 1 ? terms[0].size() : std::max(terms[0].size(), terms[1].size());
  for (size_t i = 0; i < n; ++i) {
    const double a = terms[0][std::min(i, terms[0].size() - 1)].number;
    v.numbers.push_back(terms.size() == 1
                            ? a
                            : combine(sel.claim->quantity.op, a,
                                      terms[1][std::min(i, terms[1].size() - 1)].number));
  }
  return v;
}

// One claim's outcome at the budget.
struct Outcome {
  const Selected* sel = nullptr;
  // holds | does not hold | incomplete | not run yet | not run at this budget | unreadable
  std::string verdict;
  std::string measured;  // mean and spread over seeds, each seed's value, or what is unreadable
  int64_t held = 0, seeds = 0;
  std::set<std::string> revisions;  // of the runs it read
};

std::string spread_text(const std::vector<Value>& values) {
  if (values.empty()) return "-";
  bool scalar = true;
  for (const Value& v : values) scalar = scalar && !v.word && v.numbers.size() == 1;
  if (!scalar) {
    std::vector<std::string> each;
    for (const Value& v : values) each.push_back(v.text());
    return fmt::format("{}", fmt::join(each, "; "));
  }
  std::vector<double> finite;  // not null: numbers, infinities included
  for (const Value& v : values)
    if (!std::isnan(v.numbers[0])) finite.push_back(v.numbers[0]);
  const size_t nulls = values.size() - finite.size();
  const std::string null_text = nulls ? fmt::format(", {} of {} null", nulls, values.size()) : "";
  if (finite.empty()) return fmt::format("null ({} seeds)", values.size());
  double mean = 0;
  for (double x : finite) mean += x / static_cast<double>(finite.size());
  const auto [lo, hi] = std::minmax_element(finite.begin(), finite.end());
  if (finite.size() == 1) return fmt::format("{:.4g}{}", finite[0], null_text);
  return fmt::format("{:.4g} ({:.4g} to {:.4g}, {} seeds{})", mean, *lo, *hi, values.size(),
                     null_text);
}

Outcome judge(const Selected& sel, const std::vector<Planned>& plan) {
  Outcome o;
  o.sel = &sel;
  o.seeds = sel.seeds;
  if (sel.seeds == 0) {
    o.verdict = "not run at this budget";
    o.measured = "-";
    return o;
  }
  bool complete = true, any = false;
  std::string unreadable;
  std::vector<Value> values;
  for (int64_t s = 0; s < sel.seeds; ++s) {
    values.push_back(evaluate(sel, plan, s, complete, any, unreadable, o.revisions));
    o.held += rule_holds(sel.claim->rule, values.back());
  }
  o.measured = spread_text(values);
  if (!unreadable.empty()) {
    o.verdict = "unreadable";
    o.measured = unreadable;
    return o;
  }
  const bool holds =
      static_cast<double>(o.held) >= sel.claim->share * static_cast<double>(sel.seeds) - 1e-9;
  o.verdict = holds ? "holds" : complete ? "does not hold" : any ? "incomplete" : "not run yet";
  if (!any) o.measured = "-";
  return o;
}

// The estimated minutes of the runs still missing, on two cores.
double estimate_minutes(const std::vector<Planned>& plan, Budget b) {
  double total = 0;
  for (const Planned& p : plan) {
    const double per_seed = p.run->budgets.at(b).minutes;
    total += per_seed * static_cast<double>(missing_runs(p)) / static_cast<double>(p.points());
  }
  return total;
}

std::string machine_text() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  return fmt::format("{}, {} cores", model, std::thread::hardware_concurrency());
}

// A path as a command shows it: plain, or shell-quoted where it holds more than letters, digits
// and ./_-+ (a space, a quote).
std::string shown_path(const fs::path& p) {
  const std::string s = p.string();
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string("./_-+").find(c) != std::string::npos;
  });
  return plain ? s : shell_quote(s);
}

// The options that name where the claims and the runs are, when not the defaults.
std::string place_options(const ReproduceOptions& o) {
  std::string out;
  if (o.claims_given) out += " --claims " + shown_path(o.claims);
  if (o.sweep.root != kDefaultReproduceRoot) out += " --root " + shown_path(o.sweep.root);
  return out;
}

// "gradscope" and the global options a reproduce command was given (the device).
std::string gradscope_text(const ReproduceOptions& o) {
  return o.sweep.device.empty() ? "gradscope" : "gradscope --device " + o.sweep.device;
}

std::string command_text(const Selected& s, const ReproduceOptions& o) {
  return fmt::format("{} reproduce {} --budget {}{}{}", gradscope_text(o), s.claim->id,
                     budget_name(o.budget), s.seeds > 0 ? fmt::format(" --seeds {}", s.seeds) : "",
                     place_options(o));
}

// A claim not run at this report's budget: each budget it runs at, with the command that runs it
// there and the estimated minutes of its runs on two cores (each run's minutes per seed at that
// budget, times the claim's seeds there).
std::string runs_at_text(const Selected& s, const ReproduceOptions& o) {
  std::vector<std::string> at;
  for (const auto& [b, seeds] : s.claim->seeds) {
    double minutes = 0;
    for (const std::string& label : s.claim->runs())
      minutes += s.file->runs.at(label).budgets.at(b).minutes * static_cast<double>(seeds);
    at.push_back(
        fmt::format("{} (`{} reproduce {} --budget {} --seeds {}{}`: about {:.0f} minutes on 2 "
                    "cores)",
                    budget_name(b), gradscope_text(o), s.claim->id, budget_name(b), seeds,
                    place_options(o), minutes));
  }
  return fmt::format("{}", fmt::join(at, "; "));
}

// Markdown cells hold no '|' or newline.
std::string cell(std::string text) {
  for (char& ch : text)
    if (ch == '|' || ch == '\n') ch = ch == '|' ? '/' : ' ';
  return text;
}

// The report: every claim of the files at the budget (`outcomes`; `named` of them selected by this
// command, the others judged on what earlier commands left under the root; `plan` the named
// claims' runs).
std::string report_markdown(const std::vector<Outcome>& outcomes, size_t named,
                            const ReproduceOptions& o, const std::vector<Planned>& plan) {
  std::set<std::string> revisions;
  for (const Outcome& r : outcomes) revisions.insert(r.revisions.begin(), r.revisions.end());
  const std::string command =
      fmt::format("{} reproduce {} --budget {}{}{}", gradscope_text(o), o.command_targets,
                  budget_name(o.budget), o.seeds > 0 ? fmt::format(" --seeds {}", o.seeds) : "",
                  place_options(o));
  double minutes = 0;
  for (const Planned& p : plan) minutes += p.run->budgets.at(o.budget).minutes * p.spec.seeds;
  std::string md = fmt::format(
      "# Reproductions\n\nGenerated by `{}` (do not edit by hand): every claim of the claim "
      "files in {} ({} claims) at budget {}, judged by the rule its file fixed before the runs on "
      "the runs under {}; this command named {} of them{}.\n\nJudged on: {}, by {}. Runs made by: "
      "{}. Estimated time of the named claims' runs at this budget: {:.1f} minutes on 2 "
      "cores.\n\n",
      command, o.claims.string(), outcomes.size(), budget_name(o.budget), o.sweep.root.string(),
      named,
      named < outcomes.size() ? " (the others judged on the runs earlier commands left)" : "",
      machine_text(), o.revision,
      revisions.empty() ? "no runs yet" : fmt::format("{}", fmt::join(revisions, "; ")), minutes);
  std::map<std::string, int> counts;
  for (const Outcome& r : outcomes) ++counts[r.verdict];
  std::vector<std::string> tally;
  for (const auto& [verdict, n] : counts) tally.push_back(fmt::format("{} {}", n, verdict));
  md += fmt::format("Verdicts: {}.\n\n", fmt::join(tally, ", "));
  md +=
      "| claim | where | published | rule | measured (mean, range over seeds) | seeds held | "
      "verdict |\n|---|---|---|---|---|---|---|\n";
  for (const Outcome& r : outcomes) {
    const Claim& c = *r.sel->claim;
    md += fmt::format("| {} | {} | {} | `{}` {} | {} | {} | **{}** |\n", c.id, cell(c.where),
                      cell(c.published), cell(c.quantity.text), cell(c.rule.text), cell(r.measured),
                      r.seeds && r.measured != "-" ? fmt::format("{}/{}", r.held, r.seeds) : "-",
                      r.verdict);
  }
  md += "\n## Each claim\n";
  for (const Outcome& r : outcomes) {
    const Claim& c = *r.sel->claim;
    md += fmt::format(
        "\n### {}\n\n{} ({}): \"{}\"\n\n- Published: {}\n- Rule: `{}` {}, on at "
        "least {:.0f}% of the seeds\n- Measured: {}\n- Verdict: **{}**\n",
        c.id, r.sel->file->paper, c.where, c.says, c.published, c.quantity.text, c.rule.text,
        100 * c.share, r.measured, r.verdict);
    md += r.seeds == 0 ? "- Runs at: " + runs_at_text(*r.sel, o) + "\n"
                       : fmt::format("- Command: `{}`\n", command_text(*r.sel, o));
    if (!r.revisions.empty())
      md += fmt::format("- Runs made by: {}\n", fmt::join(r.revisions, "; "));
    if (!c.note.empty()) md += "- Setup: " + c.note + "\n";
  }
  return md;
}

void print_table(const std::vector<Outcome>& outcomes) {
  size_t w = 5;
  for (const Outcome& r : outcomes) w = std::max(w, r.sel->claim->id.size());
  fmt::print("{:<{}}  {:<22}  {}\n", "claim", w, "verdict", "measured  [rule]");
  for (const Outcome& r : outcomes)
    fmt::print("{:<{}}  {:<22}  {}  [{} {}]\n", r.sel->claim->id, w, r.verdict, r.measured,
               r.sel->claim->quantity.text, r.sel->claim->rule.text);
}

// The sbatch script of a job array that runs the claims' sweeps, each task its shard of each.
std::string slurm_text(const ReproduceOptions& o, size_t claims, const std::vector<Planned>& plan) {
  size_t runs = 0, largest = 1;  // every sweep's runs are shared out over the tasks alike
  for (const Planned& p : plan) {
    runs += p.runs.size();
    largest = std::max(largest, p.runs.size());
  }
  const int64_t tasks =
      o.slurm_tasks > 0 ? o.slurm_tasks : std::min<int64_t>(static_cast<int64_t>(largest), 16);
  const std::string root = fs::absolute(o.sweep.root).string();
  std::string common =
      fmt::format("{} --budget {} --root {} --claims {}", o.command_targets, budget_name(o.budget),
                  shell_quote(root), shell_quote(fs::absolute(o.claims).string()));
  if (o.seeds > 0) common += fmt::format(" --seeds {}", o.seeds);
  const std::string device = o.sweep.device.empty() ? "" : " --device " + o.sweep.device;
  return fmt::format(
      "#!/bin/bash\n"
      "# gradscope reproduce at budget {budget}: {claims} claims, {runs} runs in {sweeps} sweeps,\n"
      "# as a Slurm job array of {tasks} tasks. Task i runs the runs of each sweep whose index "
      "mod\n"
      "# {tasks} is i (gradscope reads SLURM_ARRAY_TASK_ID, _MIN and _COUNT), SLURM_CPUS_PER_TASK\n"
      "# at a time; finished runs are skipped, so resubmitting resumes. When the array is done:\n"
      "#   {exe} reproduce {common} --evaluate\n"
      "# judges every claim and writes {root}/REPRODUCTIONS.md.\n"
      "#SBATCH --job-name=gradscope-reproduce\n"
      "#SBATCH --array=0-{last}\n"
      "#SBATCH --cpus-per-task={cpus}\n"
      "#SBATCH --output={output}\n"
      "set -euo pipefail\n"
      "exec {exe}{device} reproduce {common} --replicas {replicas}\n",
      fmt::arg("budget", budget_name(o.budget)), fmt::arg("claims", claims), fmt::arg("runs", runs),
      fmt::arg("sweeps", plan.size()), fmt::arg("tasks", tasks),
      fmt::arg("exe", shell_quote(o.sweep.executable)), fmt::arg("common", common),
      fmt::arg("root", root),
      fmt::arg("output", sbatch_quote(sbatch_percent(root) + "/slurm-logs/reproduce-%A_%a.out")),
      fmt::arg("last", tasks - 1), fmt::arg("cpus", o.slurm_cpus), fmt::arg("device", device),
      fmt::arg("replicas", o.sweep.replicas));
}

}  // namespace

int reproduce(const ReproduceOptions& o) {
  if (o.seeds < 0) throw ConfigError(fmt::format("--seeds {} (valid: >= 1)", o.seeds));
  // (0: each claim's own; the command line refuses --seeds 0)
  const std::vector<ClaimFile> files = read_claim_folder(o.claims);
  const std::vector<Selected> selected = select(files, o);
  const std::vector<Planned> runs = plan(selected, o);  // every config checked here
  if (o.estimate) {
    const auto open = std::count_if(runs.begin(), runs.end(),
                                    [](const Planned& p) { return missing_runs(p) > 0; });
    fmt::print(
        "{} claims at budget {}: {} of {} sweeps with runs to do, about {:.1f} minutes on 2 "
        "cores still to run\n",
        selected.size(), budget_name(o.budget), open, runs.size(),
        estimate_minutes(runs, o.budget));
    return 0;
  }
  if (o.slurm_script) {
    fs::create_directories(o.sweep.root / "slurm-logs");
    fmt::print("{}", slurm_text(o, selected.size(), runs));
    return 0;
  }
  int code = 0;
  if (!o.evaluate_only)
    for (const Planned& p : runs) {
      const int c = run_sweep(p.base, p.spec, o.sweep);
      if (c == 130) return 130;
      code = std::max(code, c);
    }
  if (o.sweep.shards > 1) {
    fmt::print("shard {}/{} done; when every shard is: gradscope reproduce ... --evaluate\n",
               o.sweep.shard, o.sweep.shards);
    return code ? 1 : 0;
  }
  std::vector<Outcome> outcomes;
  for (const Selected& s : selected) outcomes.push_back(judge(s, runs));
  print_table(outcomes);
  // REPRODUCTIONS.md covers every claim at the budget: the others are judged on the runs earlier
  // commands left (their own seeds), so a command that names a few claims keeps the rest.
  ReproduceOptions every = o;
  every.targets.clear();
  every.seeds = 0;
  std::vector<Selected> all = select(files, every);
  for (Selected& a : all)  // the selected claims at the seeds they ran at
    for (const Selected& s : selected)
      if (s.claim == a.claim) a.seeds = s.seeds;
  // Each run label at the largest seed count of the claims that read it, as `--all` runs it (a
  // claim reads its seeds from the front of a larger sweep).
  const std::vector<Planned> other_runs = plan(all, o);
  std::vector<Outcome> report;
  for (const Selected& a : all) {
    const auto mine = std::find_if(outcomes.begin(), outcomes.end(),
                                   [&](const Outcome& r) { return r.sel->claim == a.claim; });
    if (mine != outcomes.end()) {
      report.push_back(*mine);
      continue;
    }
    report.push_back(judge(a, other_runs));
  }
  fs::create_directories(o.sweep.root);
  write_file_atomic(o.sweep.root / "REPRODUCTIONS.md",
                    report_markdown(report, outcomes.size(), o, runs));
  fmt::print("wrote {}\n", (o.sweep.root / "REPRODUCTIONS.md").string());
  for (const Outcome& r : outcomes)
    if (r.verdict == "does not hold" || r.verdict == "incomplete" || r.verdict == "not run yet" ||
        r.verdict == "unreadable")
      return 1;
  return code ? 1 : 0;
}

}  // namespace gradscope
