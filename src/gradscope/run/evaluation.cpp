// The evaluation row of a log step: see evaluation.h. Shape legend: N = examples, C = outputs.
#include "gradscope/run/evaluation.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gradscope/probes/numerics.h"
#include "gradscope/probes/predictions.h"

namespace gradscope {
namespace {

// Accuracy from per-prediction scores, running the split measures on them.
template <class T>
void score_classification(Experiment<T>& x, const Tensor<T>& out, const Dataset& d,
                          const std::string& split, SplitEvaluation& e) {
  const Predictions p = score_predictions(out, d, x.train.loss);
  int64_t correct = 0;
  for (char c : p.correct) correct += c;
  e.acc = double(correct) / double(p.correct.size());
  for (const Measure* m : x.split_measures) m->split(p, d, split, e.measures);
}

// The split measures on a regression split's predictions [N, Y].
template <class T>
void score_regression(Experiment<T>& x, const Tensor<T>& out, const Dataset& d,
                      const std::string& split, SplitEvaluation& e) {
  Predictions p;
  p.outputs.assign(out.data, out.data + out.numel());
  for (const Measure* m : x.split_measures) m->split(p, d, split, e.measures);
}

// ||f(x) - y|| / ||y|| over every output of the split.
template <class T>
double relative_error(const Tensor<T>& out, const Dataset& d) {
  double err = 0, norm = 0;
  for (int64_t i = 0; i < out.numel(); ++i) {
    err += (double(out.data[i]) - d.y[i]) * (double(out.data[i]) - d.y[i]);
    norm += d.y[i] * d.y[i];
  }
  return norm > 0 ? std::sqrt(err / norm) : std::sqrt(err);
}

// Argmax accuracy of one prediction per example.
template <class T>
double argmax_accuracy(const Tensor<T>& out, const Dataset& d) {
  const int64_t N = out.shape[0], C = out.shape[1];
  int64_t correct = 0;
  for (int64_t r = 0; r < N; ++r) {
    const T* row = out.data + r * C;
    correct += std::max_element(row, row + C) - row == d.targets[r];
  }
  return double(correct) / double(N);
}

// Examples [start, start + n) of `all` (row widths from the layout; xt and yt hold T).
template <class T>
Examples example_rows(const Examples& all, const Dataset& d, int64_t start, int64_t n) {
  Examples e = all;
  e.n = n;
  const int64_t P = std::max<int64_t>(d.targets_per_example, 1);
  if (e.ids) e.ids += start * d.length;
  if (e.x) e.x += start * d.features;
  if (e.targets) e.targets += start * P;
  if (e.y) e.y += start * d.outputs;
  if (e.xt) e.xt = static_cast<const T*>(e.xt) + start * d.features;
  if (e.yt) e.yt = static_cast<const T*>(e.yt) + start * d.outputs;
  return e;
}

// Examples per forward pass of an evaluation: the training batch (full batch: the whole split),
// so that evaluation holds about a step's activations, but at least 2,048 predictions, so that
// small batches still make large products.
template <class T>
int64_t evaluation_chunk(const Experiment<T>& x, const Dataset& d) {
  const int64_t N = d.size(), P = std::max<int64_t>(d.targets_per_example, 1);
  if (x.train.batch_size <= 0) return std::max<int64_t>(N, 1);
  return std::clamp<int64_t>(std::max(x.train.batch_size, (2048 + P - 1) / P), 1,
                             std::max<int64_t>(N, 1));
}

// The outputs [N * P, C] of the model on examples `all`, chunk examples per forward pass, in
// `full` (memory of the tape's backend that outlives the tape's resets).
template <class T>
Tensor<T> chunked_outputs(Experiment<T>& x, Tape<T>& t, const Dataset& d, const Examples& all,
                          int64_t chunk, std::vector<T>& host, DeviceBuffer<T>& device) {
  DeviceContext& backend = t.backend();
  T* full = nullptr;
  Shape shape;
  for (int64_t start = 0; start < all.n; start += chunk) {
    const int64_t n = std::min(chunk, all.n - start);
    t.reset();
    const Tensor<T> v = t.value(model_outputs(t, *x.model, d, example_rows<T>(all, d, start, n)));
    if (!full) {  // rows per example from the first chunk's outputs
      shape = Shape{v.shape[0] / n * all.n, v.shape[1]};
      const int64_t total = shape[0] * shape[1];
      if (backend.host_memory()) {
        host.resize(static_cast<size_t>(total));
        full = host.data();
      } else {
        device = DeviceBuffer<T>(backend, total);
        full = device.data();
      }
    }
    T* dst = full + start * (shape[0] / all.n) * shape[1];
    if (backend.host_memory())
      std::copy(v.data, v.data + v.numel(), dst);
    else
      backend.copy(dst, v.data, static_cast<size_t>(v.numel()) * sizeof(T));
  }
  t.reset();
  return Tensor<T>(full, shape);
}

// The loss and the outputs [N, C] (in host memory) of the model on a whole split, a chunk of
// examples per forward pass (evaluation_chunk); on a device tape the split's device copy is read
// and the outputs downloaded into `host`. The loss is the objective on all the outputs at once,
// as if they came from one pass.
template <class T>
Tensor<T> split_outputs(Experiment<T>& x, Tape<T>& t, const Dataset& d, const std::string& split,
                        double& loss, std::vector<T>& host) {
  DeviceContext& backend = t.backend();
  const bool on_host = backend.host_memory();  // the cpu: the split and outputs as they are
  const Examples all = on_host            ? all_examples(d)
                       : split == "train" ? x.device_train->examples()
                                          : x.device_test->examples();
  const int64_t chunk = evaluation_chunk(x, d);
  DeviceBuffer<T> device;
  Var out = chunk >= all.n ? model_outputs(t, *x.model, d, all)  // [N, C] logits or [N, Y]
                           : t.constant(chunked_outputs(x, t, d, all, chunk, host, device));
  const Tensor<T> l = t.value(out);
  T value = T(0);
  const T* lv = t.value(objective(t, out, d, all, x.train.loss, x.train.softmax_numerics)).data;
  if (on_host) {
    loss = double(lv[0]);
    return l;
  }
  backend.download(&value, lv, sizeof(T));
  loss = double(value);
  host.resize(static_cast<size_t>(l.numel()));
  backend.download(host.data(), l.data, host.size() * sizeof(T));
  return Tensor<T>(host.data(), l.shape);
}

// The numerics.* columns (probes/numerics.h): the train logits' ones, then Adam's eps share and
// the NLM cosine of the step's gradient (downloaded from a device).
template <class T>
void optimizer_numerics(Experiment<T>& x, const MetricValues& logit_columns, MetricValues& v) {
  v.insert(v.end(), logit_columns.begin(), logit_columns.end());
  if (x.optim.name != OptimRule::sgd)
    v.emplace_back("numerics.adam_eps_share",
                   adam_eps_share(x.optimizer->second_moments(), x.model->params().spans(),
                                  x.optimizer->steps(), x.optim.beta2, x.optim.eps));
  ParamStore<T>& ps = x.model->params();
  ps.download_grads();
  v.emplace_back("numerics.nlm_cosine", nlm_cosine<T>(ps.values(), std::span<const T>(ps.grads())));
}

}  // namespace

template <class T>
SplitEvaluation evaluate_split(Experiment<T>& x, Tape<T>& t, const Dataset& d,
                               const std::string& split) {
  t.reset();
  t.set_grad_enabled(false);
  SplitEvaluation e;
  std::vector<T> host;
  const Tensor<T> l = split_outputs(x, t, d, split, e.loss, host);
  const bool per_prediction =
      l.shape[1] == 1 || d.targets_per_example > 1 || !x.split_measures.empty();
  if (d.outputs > 0) {
    e.rel_error = relative_error(l, d);
    if (!x.split_measures.empty()) score_regression(x, l, d, split, e);
  } else if (per_prediction)
    score_classification(x, l, d, split, e);
  else
    e.acc = argmax_accuracy(l, d);
  if (d.outputs == 0 && split == "train")
    logit_numerics(l, d, x.train.loss, x.train.softmax_numerics, e.numerics);
  t.set_grad_enabled(true);
  t.reset();
  return e;
}

template <class T>
Evaluation evaluate(Experiment<T>& x, Tape<T>& t, Tape<T>& host, int64_t step, double lr,
                    double grad_norm, bool probe_step) {
  Evaluation ev;
  ev.train = evaluate_split(x, t, x.data.train, "train");
  ev.test = evaluate_split(x, t, x.data.test, "test");
  MetricValues& v = ev.row.values;
  v = {{"step", double(step)}, {"lr", lr}, {"train_loss", ev.train.loss}};
  if (x.data.regression) {
    v.insert(v.end(), {{"test_loss", ev.test.loss}, {"test_rel_error", ev.test.rel_error}});
  } else {
    v.insert(v.end(),
             {{"train_acc", ev.train.acc}, {"test_loss", ev.test.loss}, {"test_acc", ev.test.acc}});
  }
  v.insert(v.end(), ev.train.measures.begin(), ev.train.measures.end());
  v.insert(v.end(), ev.test.measures.begin(), ev.test.measures.end());
  const double alpha = x.config.real("model.init_scale");
  if (alpha < 1) v.emplace_back("rescaled_time", double(step) * x.optim.lr / std::log(1 / alpha));
  ParamStore<T>& ps = x.model->params();
  v.emplace_back("weight_norm", l2_norm<T>(ps.values()));
  v.emplace_back("grad_norm", grad_norm);
  for (int i = 0; i < ps.count(); ++i) {
    const Tensor<T> w = ps.value(i);
    v.emplace_back("weight_norm." + ps.info(i).name,
                   l2_norm<T>(std::span<const T>(w.data, w.numel())));
  }
  if (!x.data.regression) optimizer_numerics(x, ev.train.numerics, v);
  for (const Measure* m : x.model_measures) m->template model<T>()(*x.model, host, x.data, v);
  for (RunProbe<T>& p : x.probes) {
    if (p.state->own_schedule()) continue;  // measured outside the log rows (Training::advance)
    if (!probe_step) {                      // NaN in the probe's columns
      for (const std::string& name : p.names) v.emplace_back(name, NAN);
      continue;
    }
    const std::vector<double> f = p.state->measure(step, ps, host);
    for (size_t j = 0; j < p.names.size(); ++j) v.emplace_back(p.names[j], f[j]);
  }
  return ev;
}

#define GRADSCOPE_INSTANTIATE(T)                                                               \
  template SplitEvaluation evaluate_split<T>(Experiment<T>&, Tape<T>&, const Dataset&,         \
                                             const std::string&);                              \
  template Evaluation evaluate<T>(Experiment<T>&, Tape<T>&, Tape<T>&, int64_t, double, double, \
                                  bool);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
