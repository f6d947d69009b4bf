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
#include "gradscope/run/training_state.h"
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
    restore_training_state(rundir::checkpoint_file(run, step), x_->optim, x_->model->params(),
                           *x_->optimizer);
    length_ = x_->data.test.length;
    features_ = x_->data.test.features;
  }

  // Runs `inputs`: token ids [N, L] for a task of ids, real features [N, F] (any shape [N, ...]
  // of F values each) for a task of real inputs. `hooks` maps names to callables f(ndarray) ->
  // ndarray or None (a replacement of the same shape); with `cache`, every named activation is
  // returned. Returns (outputs: [N, L, V] for the transformer, [N, C] otherwise; cache dict).
  py::tuple run(const py::array& inputs, const py::dict& hooks, bool cache) {
    for (const auto& [name, fn] : hooks)
      if (!py::isinstance<py::function>(fn))
        throw std::invalid_argument("hook " + py::str(name).cast<std::string>() +
                                    " is not callable");
    tape_.reset();
    ids_ = py::array_t<int32_t, py::array::c_style | py::array::forcecast>();
    const Batch b = features_ > 0 ? real_batch(inputs) : id_batch(inputs);
    const int64_t N = b.n;
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
    tape_.set_grad_enabled(false);
    const Var out = x_->model->forward_with_hooks(tape_, b, hook);
    Tensor<T> logits = tape_.value(out);  // [N * L, V] (the transformer) or [N, C]
    py::array result = to_numpy(logits);
    if (logits.shape.dims[0] == N * length_ && length_ > 1)
      result = result.reshape({N, length_, logits.shape.dims[1]});
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
  int64_t features() const { return features_; }

 private:
  // Token ids [N, L] (or [N] when L = 1), checked against the vocabulary; kept in ids_ while the
  // pass runs.
  Batch id_batch(const py::array& inputs) {
    // Integers only (a cast would truncate 2.7 to the valid id 2), checked in 64 bits before
    // they are narrowed to the tape's 32.
    const char kind = inputs.dtype().kind();
    if (kind != 'i' && kind != 'u')
      throw std::invalid_argument("tokens must be integer ids (got an array of dtype " +
                                  std::string(py::str(inputs.dtype())) + ")");
    const auto wide =
        py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(inputs);
    const bool flat = length_ == 1 && wide && wide.ndim() == 1;
    if (!wide || !((wide.ndim() == 2 && wide.shape(1) == length_) || flat))
      throw std::invalid_argument("tokens must be [batch, " + std::to_string(length_) +
                                  "] integer ids (the task's sequence length)");
    const int64_t vocab = x_->shape.vocab;
    for (py::ssize_t i = 0; i < wide.size(); ++i)
      if (wide.data()[i] < 0 || wide.data()[i] >= vocab)
        throw std::invalid_argument("token " + std::to_string(wide.data()[i]) +
                                    " is outside the vocabulary [0, " + std::to_string(vocab) +
                                    ")");
    ids_ = py::array_t<int32_t, py::array::c_style | py::array::forcecast>::ensure(wide);
    return {ids_.data(), {}, ids_.shape(0)};
  }

  // Real inputs [N, ...] of features_ values each, copied onto the tape as [N, F].
  Batch real_batch(const py::array& inputs) {
    auto x = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(inputs);
    if (!x || x.ndim() < 1 || x.shape(0) < 1 || x.size() != x.shape(0) * features_)
      throw std::invalid_argument("inputs must be [batch, " + std::to_string(features_) +
                                  "] real features (the task's inputs per example)");
    const int64_t N = x.shape(0);
    T* copy = tape_.arena().template alloc<T>(N * features_);
    for (int64_t i = 0; i < N * features_; ++i) copy[i] = static_cast<T>(x.data()[i]);
    return {nullptr, tape_.constant(Tensor<T>(copy, Shape{N, features_})), N};
  }

  Arena arena_;
  Tape<T> tape_;
  std::unique_ptr<Experiment<T>> x_;
  int64_t length_ = 0, features_ = 0;
  py::array_t<int32_t, py::array::c_style | py::array::forcecast> ids_;  // the pass's token ids
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
  int64_t length() const {
    return std::visit([](auto& m) { return m->length(); }, m_);
  }
  int64_t features() const {
    return std::visit([](auto& m) { return m->features(); }, m_);
  }

 private:
  std::variant<std::unique_ptr<Inspector<float>>, std::unique_ptr<Inspector<double>>> m_;
};

}  // namespace

void bind_model(py::module_& m) {
  py::class_<RunModel>(m, "Model")
      .def(py::init<const fs::path&, int64_t>(), py::arg("run"), py::arg("step"))
      .def("run", &RunModel::run, py::arg("inputs"), py::arg("hooks"), py::arg("cache"),
           "(outputs, {name: activation}) of token ids [N, L] or real features [N, F]")
      .def("params", &RunModel::params)
      .def("length", &RunModel::length, "ids per example (the task's sequence length)")
      .def("features", &RunModel::features, "real inputs per example (0: token ids)");
}

}  // namespace gradscope
