// Building an experiment: see experiment.h.
#include "gradscope/run/experiment.h"
#include "gradscope/run/geometry_probes.h"

#include "gradscope/nn/model_registry.h"
#include "gradscope/run/prediction.h"
#include "gradscope/run/validate.h"

namespace gradscope {
namespace {

// The family's data and the shape it states, converting bad-input exceptions to ConfigError.
void build_data(const Config& c, const TaskFamily& family, TaskData& data, ModelShape& shape) {
  try {
    data = family.build(c);
    shape = task_shape(family, c, data);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
}

// A regression task (arrays can be one) trains on its squared error: refuses the classification
// losses' settings.
void check_loss_fits(const TrainConfig& t, const TaskData& d) {
  if (!d.regression) return;
  if (t.loss != Loss::cross_entropy)
    throw ConfigError("train.loss = \"" + option_name("train.loss", t.loss) +
                      "\" needs class targets; this task's targets are real (valid: "
                      "cross_entropy, the default, which regression ignores)");
  if (t.softmax_numerics != SoftmaxNumerics::gradscope)
    throw ConfigError("train.softmax_numerics = \"" +
                      option_name("train.softmax_numerics", t.softmax_numerics) +
                      "\" needs class targets; this task's targets are real (valid: gradscope)");
}

// Off the cpu (x.context opened): the model's device copies and the splits, uploaded once.
template <class T>
void move_to_device(Experiment<T>& x) {
  x.context->set_tf32(x.config.string("precision") == "tf32");
  ParamStore<T>& ps = x.model->params();
  ps.to_device(x.context.get());
  x.device_train = upload_split<T>(*x.context, x.data.train);
  x.device_test = upload_split<T>(*x.context, x.data.test);
}

}  // namespace

template <class T>
std::unique_ptr<Experiment<T>> Experiment<T>::build(const Config& c,
                                                    std::unique_ptr<DeviceContext> device) {
  validate_experiment(c);
  auto x = std::make_unique<Experiment<T>>();
  x->config = c;
  x->family = &find_task_family(c.string("task.name"));
  build_data(c, *x->family, x->data, x->shape);
  x->seed = static_cast<uint64_t>(c.integer("seed"));
  x->optim = optimizer_options(c);
  x->schedule = schedule_options(c);
  x->train = train_options(c);
  check_loss_fits(x->train, x->data);
  if (x->train.batch_order == BatchOrder::epoch && x->data.sample)
    throw ConfigError("train.batch_order = \"epoch\" needs a fixed train set; task.name = \"" +
                      c.string("task.name") + "\" draws fresh samples every step (valid: sample)");
  x->probe = probe_options(c);
  try {
    x->model = make_model<T>(model_options(c), x->shape, x->seed);
    for (const Measure& m : run_measures()) {
      if (!m.is_probe() || !c.boolean(m.key)) continue;
      std::unique_ptr<ProbeMeasure<T>> state = m.probe<T>()(*x->model, c, x->data);
      std::vector<std::string> names = state->metric_names();
      x->probes.push_back({&m, std::move(state), std::move(names)});
    }
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  for (const std::string& name : x->family->measures) {
    const Measure& m = find_measure(name);
    (m.split ? x->split_measures : x->model_measures).push_back(&m);
  }
  x->prediction = predict(c, x->data, x->shape);
  try {
    x->context =
        device && c.string("device") != "cpu" ? std::move(device) : open_device(c.string("device"));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  if (x->context) move_to_device(*x);
  x->optimizer = make_optimizer<T>(x->optim, x->model->params().size(), x->backend(),
                                   x->model->params().spans());
  for (RunProbe<T>& p : x->probes)
    p.state->see_optimizer([o = x->optimizer.get()] {
      return OptimizerMoments<T>{o->second_moments(), o->steps()};
    });
  return x;
}

nlohmann::json predict_experiment(const Config& c) {
  validate_experiment(c);
  const TaskFamily& family = find_task_family(c.string("task.name"));
  TaskData data;
  ModelShape shape;
  build_data(c, family, data, shape);
  return predict(c, data, shape);
}

template struct Experiment<float>;
template struct Experiment<double>;

}  // namespace gradscope
