// gradscope._core: the C++ side of the `gradscope` Python package (python/gradscope). It reads
// run directories through rundir/ (the one place that knows their file names and layouts) and the
// results index through index/, hands NumPy arrays out, and trains runs in-process through run/
// exactly as `gradscope run` does. Errors: a C++ std::runtime_error
// (a corrupt or partial file, named in the message) becomes gradscope.RunError, a ValueError.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "git_rev.h"  // GRADSCOPE_GIT_REV, generated at every build (cmake/git_rev.cmake)
#include "gradscope/config/value_text.h"
#include "gradscope/index/results_index.h"
#include "gradscope/python/model_binding.h"
#include "gradscope/run/hessian_checkpoints.h"
#include "gradscope/run/llc_checkpoints.h"
#include "gradscope/run/trainer.h"
#include "gradscope/rundir/checkpoint.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/sweep/launch.h"
#include "gradscope/tasks/emergence.h"
#include "gradscope/tasks/incontext.h"
#include "gradscope/tasks/task_family.h"

namespace py = pybind11;
namespace fs = std::filesystem;

namespace gradscope {
namespace {

// The names of a run's files and folders (rundir/paths.h), for the Python side.
py::dict run_paths(const fs::path& run) {
  py::dict d;
  d["config"] = rundir::config_file(run);
  d["metrics"] = rundir::metrics_jsonl(run);
  d["summary"] = rundir::summary_file(run);
  d["theory"] = rundir::theory_file(run);
  d["spectra"] = rundir::spectra_dir(run);
  d["fourier"] = rundir::fourier_dir(run);
  d["llc"] = rundir::llc_dir(run);
  d["hessian"] = rundir::hessian_dir(run);
  d["checkpoints"] = rundir::checkpoints_dir(run);
  d["heartbeat"] = rundir::heartbeat_file(run);
  return d;
}

// `gradscope llc` or `gradscope hessian` (`measure`) at a run's checkpoints `steps` (all, last or
// A,B,...) with key=value settings; its lines go to standard output. ConfigError on bad input.
void measure_checkpoints(const std::string& measure, const fs::path& run, const std::string& steps,
                         const std::vector<std::string>& overrides) {
  const CheckpointMeasureRequest r{run, steps, overrides, ""};
  py::gil_scoped_release free;
  measure == "llc" ? llc_over_checkpoints(r) : hessian_over_checkpoints(r);
}

// metrics.jsonl as (column names, float64 [rows, columns]); NaN where a value is null or absent.
// The table's buffer becomes the array's (no copy).
py::tuple metrics_table(const fs::path& run) {
  auto table = std::make_unique<MetricsTable>();
  {
    py::gil_scoped_release free;
    *table = read_metrics_table(run);
  }
  const auto n = static_cast<py::ssize_t>(table->rows);
  const auto c = static_cast<py::ssize_t>(table->columns.size());
  const py::list names = py::cast(table->columns);
  double* data = table->values.data();
  py::capsule owner(table.release(), [](void* t) { delete static_cast<MetricsTable*>(t); });
  return py::make_tuple(names, py::array_t<double>({n, c}, data, owner));
}

// A checkpoint's layout: {step, precision, config, optimizer, optimizer_steps, element_size,
// params: [(name, shape, offset)], buffers: [(name, elements, byte_offset)]}.
py::dict checkpoint_layout(const fs::path& file) {
  const CheckpointLayout l = read_checkpoint_layout(file);
  py::dict d;
  d["step"] = l.info.step;
  d["format"] = l.info.format;
  d["precision"] = l.info.precision;
  d["config"] = l.info.config_toml;
  d["optimizer"] = l.info.optimizer;
  d["optimizer_steps"] = l.info.optimizer_steps;
  d["element_size"] = l.element_size;
  py::list params, buffers;
  for (const auto& p : l.params) params.append(py::make_tuple(p.name, p.shape, p.offset));
  for (const auto& b : l.buffers) buffers.append(py::make_tuple(b.name, b.elements, b.byte_offset));
  d["params"] = params;
  d["buffers"] = buffers;
  return d;
}

// The index's runs table under `filters` (the strings `gradscope ls` takes): (columns, rows of
// strings, the names of the text columns).
py::tuple select_runs(const fs::path& db, const std::vector<std::string>& filters) {
  if (!fs::exists(db)) throw std::runtime_error(db.string() + ": no results index here");
  ResultsIndex index(db, IndexAccess::read);
  std::vector<std::string> columns, text;
  const auto rows = index.select(filters, columns);
  for (const std::string& c : columns)
    if (is_text_column(c)) text.push_back(c);
  return py::make_tuple(columns, rows, text);
}

// A config as nested dicts ({"name": ..., "task": {"p": 113, ...}, ...}): every key of the
// schema, resolved (later keys at their defaults included), values as Python values; file keys
// as a config under `home` writes them.
py::dict config_dict(const Config& c, const fs::path& home = {}) {
  py::dict out;
  for (const KeySpec& spec : Config::schema()) {
    const size_t dot = spec.key.find('.');
    const ConfigValue v = spec.file ? file_as_written(c.value(spec.key), home) : c.value(spec.key);
    py::object value = std::visit([](const auto& x) { return py::cast(x); }, v);
    if (dot == std::string::npos) {
      out[spec.key.c_str()] = value;
      continue;
    }
    const std::string section = spec.key.substr(0, dot);
    if (!out.contains(section.c_str())) out[section.c_str()] = py::dict();
    out[section.c_str()].cast<py::dict>()[spec.key.substr(dot + 1).c_str()] = value;
  }
  return out;
}

bool is_sequence(py::handle v) {
  return py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v);
}

// A Python value as the config value of `key`: a bool, an int, a finite float, a str, or a list
// (or tuple) of numbers. Anything else is bad input naming the key.
ConfigValue config_value(py::handle v, const std::string& key) {
  auto bad = [&](const char* valid) {
    return ConfigError(key + " = " + py::repr(v).cast<std::string>() + " (valid: " + valid + ")");
  };
  auto number = [](py::handle x) {
    return !py::isinstance<py::bool_>(x) &&
           (py::isinstance<py::int_>(x) || py::isinstance<py::float_>(x));
  };
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>();
  if (py::isinstance<py::int_>(v)) return v.cast<int64_t>();
  if (py::isinstance<py::float_>(v)) {
    if (!std::isfinite(v.cast<double>())) throw bad("a finite number");
    return v.cast<double>();
  }
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  if (!is_sequence(v)) throw bad("a bool, number, string or list of numbers");
  std::vector<double> list;
  for (py::handle x : v) {
    if (!number(x) || !std::isfinite(x.cast<double>())) throw bad("a list of finite numbers");
    list.push_back(x.cast<double>());
  }
  return list;
}

// The override setting `key` to `value` in the core's grammar (config/value_text.h). With `axis`
// (gradscope.sweep), a list is a sweep axis where the key holds no list, and a list of lists is
// one where it does.
std::string assignment(const std::string& key, py::handle value, bool axis) {
  const KeySpec* spec = Config::find(key);
  const bool list_key = spec && (spec->default_value.index() == 4 || spec->string_or_list);
  bool of_lists = is_sequence(value) && py::len(value) > 0;
  if (of_lists)
    for (py::handle x : value) of_lists = of_lists && is_sequence(x);
  std::vector<ConfigValue> values;
  if (axis && is_sequence(value) && (!list_key || of_lists)) {
    for (py::handle x : value) values.push_back(config_value(x, key));
  } else {
    values.push_back(config_value(value, key));
  }
  return assignment_text(key, values);
}

// An experiment dict ({"name": ..., "task": {"p": 113, ...}, ...}) as TOML text: the config it
// sets over the defaults (every key and value checked as Config::set checks them), written by
// Config::to_toml. Its "sweep" section is gradscope.sweep's (as axes), not part of a config.
std::string experiment_toml(const py::dict& experiment) {
  Config c;
  for (const auto& [name, section] : experiment) {
    const std::string top = py::str(name);
    if (!py::isinstance<py::dict>(section)) {
      c.set(top, config_value(section, top));
      continue;
    }
    if (top == "sweep") continue;
    for (const auto& [k, v] : section.cast<py::dict>()) {
      const std::string key = top + "." + std::string(py::str(k));
      if (py::isinstance<py::dict>(v))
        throw ConfigError(key + ": sections hold values, not tables");
      c.set(key, config_value(v, key));
    }
  }
  return c.to_toml();
}

// Trains one run in-process as `gradscope run` does (sweep/launch.h: the same config, run
// directory, exit status and index entry), with the GIL released. Returns (exit status, run
// directory).
py::tuple launch(RunRequest r) {
  r.version_header = version_header(GRADSCOPE_VERSION, GRADSCOPE_GIT_REV);
  RunOutcome out;
  {
    py::gil_scoped_release free;
    out = launch_run(r);
  }
  return py::make_tuple(out.code, out.dir);
}

// A view of `values` shaped `shape`, kept alive by `owner`.
template <class V>
py::array view(const std::vector<V>& values, std::vector<py::ssize_t> shape,
               const py::capsule& owner) {
  return py::array_t<V>(shape, values.data(), owner);
}

// One split as arrays: x (token or operand ids [N, L], real features [N, F], or real tokens
// [N, L, F / L]) and y (class ids [N] or [N, P], or real targets [N, Y]); groups [N] for
// multitask tasks; baselines {name: [N, Y]} where the task computes reference predictions.
void add_split(py::dict& out, Dataset& d, const std::string& split, const py::capsule& owner) {
  const auto n = static_cast<py::ssize_t>(d.size());
  const auto L = py::ssize_t(d.length), F = py::ssize_t(d.features);
  if (F > 0 && L > 0)  // real tokens (in-context regression)
    out[("x_" + split).c_str()] = view(d.x, {n, L, F / L}, owner);
  else if (L > 0)
    out[("x_" + split).c_str()] = view(d.inputs, {n, L}, owner);
  else
    out[("x_" + split).c_str()] = view(d.x, {n, F}, owner);
  if (d.outputs > 0)
    out[("y_" + split).c_str()] = view(d.y, {n, py::ssize_t(d.outputs)}, owner);
  else if (d.targets_per_example == 1)
    out[("y_" + split).c_str()] = view(d.targets, {n}, owner);
  else
    out[("y_" + split).c_str()] = view(d.targets, {n, py::ssize_t(d.targets_per_example)}, owner);
  if (const auto* labels = family_data<SubtaskLabels>(d.extra); labels && !labels->groups.empty())
    out[("groups_" + split).c_str()] = view(labels->groups, {n}, owner);
  const auto* reference = family_data<Baselines>(d.extra);
  if (!reference || reference->baselines.empty()) return;
  py::dict baselines;
  for (const Baselines::Baseline& b : reference->baselines)
    baselines[b.name.c_str()] = view(b.values, {n, py::ssize_t(d.outputs)}, owner);
  out[("baselines_" + split).c_str()] = baselines;
}

// A task's train and test data exactly as a run of the experiment builds them.
py::dict task_data(const std::string& experiment, bool text, const std::string& origin,
                   const std::vector<std::string>& overrides) {
  const Config c = experiment_config(
      text ? Config::from_string(experiment, origin) : Config::from_file(experiment), overrides,
      origin);
  auto data = std::make_shared<TaskData>(find_task_family(c.string("task.name")).build(c));
  TaskData* d = data.get();
  const py::capsule owner(new std::shared_ptr<TaskData>(data),
                          [](void* t) { delete static_cast<std::shared_ptr<TaskData>*>(t); });
  py::dict out;
  add_split(out, d->train, "train", owner);
  add_split(out, d->test, "test", owner);
  out["vocab"] = d->vocab;
  out["num_classes"] = d->num_classes;
  out["equals_token"] = d->equals_token;
  out["regression"] = d->regression;
  out["fresh_samples"] = static_cast<bool>(d->sample);
  if (d->sample)  // the training batch of (seed, step), as a run draws it: a dict like a split's
    out["sample"] = py::cpp_function(
        [data](uint64_t seed, uint64_t step, int64_t n) {
          auto batch = std::make_shared<Dataset>();
          data->sample(seed, step, n, *batch);
          const py::capsule keep(new std::shared_ptr<Dataset>(batch),
                                 [](void* b) { delete static_cast<std::shared_ptr<Dataset>*>(b); });
          py::dict split;
          add_split(split, *batch, "batch", keep);
          return split;
        },
        py::arg("seed"), py::arg("step"), py::arg("n"));
  out["description"] = d->description;
  return out;
}

}  // namespace
}  // namespace gradscope

PYBIND11_MODULE(_core, m) {
  using namespace gradscope;
  m.doc() = "gradscope's C++ core: run-directory and index readers (see the gradscope package)";
  static py::exception<std::runtime_error> run_error(m, "RunError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const py::builtin_exception& e) {  // pybind11's own (cast errors...): as they are
      e.set_error();
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const std::runtime_error& e) {
      PyErr_SetString(run_error.ptr(), e.what());
    }
  });
  m.def("run_paths", &run_paths, py::arg("run"), "the files and folders of a run directory");
  m.def("is_run_dir", &rundir::is_run_dir, py::arg("dir"));
  m.def("measure_checkpoints", &measure_checkpoints, py::arg("measure"), py::arg("run"),
        py::arg("steps"), py::arg("overrides"), "gradscope llc or hessian at checkpoints");
  m.def("index_file", &rundir::index_file, py::arg("root"));
  m.def("metrics_table", &metrics_table, py::arg("run"),
        "metrics.jsonl as (column names, float64 [rows, columns])");
  m.def("checkpoint_steps", &rundir::list_checkpoints, py::arg("run"));
  m.def("llc_trace_file", &rundir::llc_trace_file, py::arg("run"), py::arg("step"));
  m.def("checkpoint_file", &rundir::checkpoint_file, py::arg("run"), py::arg("step"));
  m.def("checkpoint_layout", &checkpoint_layout, py::arg("file"));
  m.def("select_runs", &select_runs, py::arg("db"), py::arg("filters"));
  m.def("task_data", &task_data, py::arg("experiment"), py::arg("text"), py::arg("origin"),
        py::arg("overrides"), "a task's train and test arrays as a run builds them");
  bind_model(m);
  py::class_<RunRequest>(m, "RunRequest", "what to train: sweep/launch.h's RunRequest")
      .def(py::init<>())
      .def_readwrite("experiment", &RunRequest::experiment, "a TOML file, or TOML text (text)")
      .def_readwrite("text", &RunRequest::text)
      .def_readwrite("origin", &RunRequest::origin, "how messages name TOML text")
      .def_readwrite("overrides", &RunRequest::overrides, "key=value")
      .def_readwrite("out", &RunRequest::out, "the run directory (empty: runs/<name>)")
      .def_readwrite("force", &RunRequest::force, "replace an existing run directory")
      .def_readwrite("resume", &RunRequest::resume, "a run directory to continue instead")
      .def_readwrite("index", &RunRequest::index, "the results index (empty: the runs root's)");
  m.def(
      "run_config", [](const fs::path& run) { return config_dict(read_run_config(run), run); },
      py::arg("run"), "a run's config.toml as the core reads it, as nested dicts");
  m.def(
      "experiment_config",
      [](const fs::path& file, const std::vector<std::string>& overrides) {
        Config c = Config::from_file(file);
        for (const std::string& o : overrides) c.apply_override(o);
        return config_dict(c);
      },
      py::arg("file"), py::arg("overrides") = std::vector<std::string>{},
      "an experiment file as the core reads it, with key=value overrides, as nested dicts");
  m.def("assignment", &assignment, py::arg("key"), py::arg("value"), py::arg("axis") = false,
        "the override key=value (axis: a sweep axis key=v1,v2,...) in the core's value grammar");
  m.def("experiment_toml", &experiment_toml, py::arg("experiment"),
        "an experiment dict as the config's TOML text (keys and values checked)");
  m.def("launch_run", &launch, py::arg("request"),
        "train a run in-process: (gradscope run's exit status, 130 interrupted; run directory)");
}
