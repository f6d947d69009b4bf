// gradscope._core.Model: a run's model at one of its checkpoints, run forward from Python on the
// plain path (every position, no shortcuts) with TransformerLens-named activations cached or
// replaced (nn/models.h forward_with_hooks). Shape legend: N = sequences, L = positions,
// V = outputs; other shapes are the activation's own (docs/PYTHON.md).
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "gradscope/python/model_binding.h"
#include "gradscope/run/experiment.h"
#include "gradscope/rundir/checkpoint.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"

namespace py = pybind11;
namespace fs = std::filesystem;

namespace gradscope {
namespace {

// A copy of a tape value as a NumPy array of its shape.
template <class T>
py::array to_numpy(const Tensor<T>& v) {
  std::vector<py::ssize_t> shape(v.shape.dims.begin(), v.shape.dims.begin() + v.shape.rank);
  py::array_t<T> out(shape);
  std::copy(v.data, v.data + v.numel(), out.mutable_data());
  return out;
}

template <class T>
class Inspector {
 public:
  Inspector(const fs::path& run, int64_t step) : tape_(arena_) {
    Config c = read_run_config(run);
    c.set("device", std::string("cpu"));  // looked at on the host, wherever it trained
    x_ = Experiment<T>::build(c);
    load_checkpoint(rundir::checkpoint_file(run, step), x_->optim.name, x_->model->params(),
                    *x_->optimizer);
    length_ = x_->data.test.length;
  }

  // Runs `tokens` [N, L]; `hooks` maps names to callables f(ndarray) -> ndarray or None (a
  // replacement of the same shape); with `cache`, every named activation is returned.
  // Returns (logits [N, L, V], cache dict).
  py::tuple run(py::array_t<int32_t, py::array::c_style | py::array::forcecast> tokens,
                const py::dict& hooks, bool cache) {
    if (tokens.ndim() != 2 || tokens.shape(1) != length_)
      throw std::invalid_argument("tokens must be [batch, " + std::to_string(length_) +
                                  "] integer ids (the task's sequence length)");
    const int64_t N = tokens.shape(0);
    const int64_t vocab = x_->shape.vocab;
    for (py::ssize_t i = 0; i < tokens.size(); ++i)
      if (tokens.data()[i] < 0 || tokens.data()[i] >= vocab)
        throw std::invalid_argument("token " + std::to_string(tokens.data()[i]) +
                                    " is outside the vocabulary [0, " + std::to_string(vocab) +
                                    ")");
    for (const auto& [name, fn] : hooks)
      if (!py::isinstance<py::function>(fn))
        throw std::invalid_argument("hook " + py::str(name).cast<std::string>() +
                                    " is not callable");
    py::dict seen;
    std::vector<std::string> names;
    const ActivationHook hook = [&](const std::string& name, Var v) -> Var {
      Tensor<T> value = tape_.value(v);
      names.push_back(name);
      if (cache) seen[name.c_str()] = to_numpy(value);
      if (!hooks.contains(name.c_str())) return v;
      py::object got = hooks[name.c_str()](to_numpy(value));
      if (got.is_none()) return v;
      auto a = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(got);
      if (!a || a.size() != value.numel() || a.ndim() != value.shape.rank)
        throw std::invalid_argument("hook " + name + " returned an array of another shape");
      for (int d = 0; d < value.shape.rank; ++d)
        if (a.shape(d) != value.shape.dims[d])
          throw std::invalid_argument("hook " + name + " returned an array of another shape");
      T* copy = tape_.arena().template alloc<T>(value.numel());
      std::copy(a.data(), a.data() + a.size(), copy);
      return tape_.constant(Tensor<T>(copy, value.shape));
    };
    tape_.reset();
    tape_.set_grad_enabled(false);
    const Var out = x_->model->forward_with_hooks(tape_, tokens.data(), N, hook);
    Tensor<T> logits = tape_.value(out);  // [N * L, V]
    py::array result = to_numpy(logits).reshape({N, length_, logits.shape.dims[1]});
    tape_.set_grad_enabled(true);
    tape_.reset();
    for (const auto& [key, fn] : hooks) {
      const std::string name = py::str(key).cast<std::string>();
      if (std::find(names.begin(), names.end(), name) == names.end())
        throw std::invalid_argument("no activation " + name + " in this model (valid: " +
                                    fmt::format("{}", fmt::join(names, ", ")) + ")");
    }
    return py::make_tuple(result, seen);
  }

  py::dict params() {
    py::dict out;
    ParamStore<T>& ps = x_->model->params();
    for (int i = 0; i < ps.count(); ++i) out[ps.info(i).name.c_str()] = to_numpy(ps.value(i));
    return out;
  }
  int64_t length() const { return length_; }

 private:
  Arena arena_;
  Tape<T> tape_;
  std::unique_ptr<Experiment<T>> x_;
  int64_t length_ = 0;
};

// The run's precision decides the inspector's.
class RunModel {
 public:
  RunModel(const fs::path& run, int64_t step) {
    if (read_run_config(run).string("precision") == "float64")
      m_ = std::make_unique<Inspector<double>>(run, step);
    else
      m_ = std::make_unique<Inspector<float>>(run, step);
  }
  py::tuple run(const py::array& tokens, const py::dict& hooks, bool cache) {
    return std::visit([&](auto& m) { return m->run(tokens, hooks, cache); }, m_);
  }
  py::dict params() {
    return std::visit([](auto& m) { return m->params(); }, m_);
  }

 private:
  std::variant<std::unique_ptr<Inspector<float>>, std::unique_ptr<Inspector<double>>> m_;
};

}  // namespace

void bind_model(py::module_& m) {
  py::class_<RunModel>(m, "Model")
      .def(py::init<const fs::path&, int64_t>(), py::arg("run"), py::arg("step"))
      .def("run", &RunModel::run, py::arg("tokens"), py::arg("hooks"), py::arg("cache"),
           "(logits [N, L, V], {name: activation}) of token ids [N, L]")
      .def("params", &RunModel::params);
}

}  // namespace gradscope
