// The training step on a device: see device_steps.h.
#include "gradscope/run/device_steps.h"

#include "gradscope/optim/device_optimizer.h"

namespace gradscope {

template <class T>
DeviceSteps<T>::DeviceSteps(Experiment<T>& x, int64_t batch_size)
    : x_(x),
      dev_(*x.context),
      train_arena_(size_t{1} << 20, x.context.get()),
      eval_arena_(size_t{1} << 20, x.context.get()),
      train_tape_(train_arena_, x.context.get()),
      eval_tape_(eval_arena_, x.context.get()),
      host_tape_(host_arena_),
      batch_(*x.context, x.data.train, batch_size),
      norm_scratch_(*x.context, device_norm_scratch(x.model->params().size())),
      loss_host_(static_cast<T*>(x.context->allocate_pinned(sizeof(T)))) {}

template <class T>
DeviceSteps<T>::~DeviceSteps() {
  dev_.sync();
  dev_.deallocate_pinned(loss_host_);
}

// [update,] zero_grad, forward, loss, backward: device work only (the tape was reset by the
// caller).
template <class T>
void DeviceSteps<T>::record_step(const Examples& e, bool with_update) {
  ParamStore<T>& ps = x_.model->params();
  if (with_update) x_.device_optimizer->update(ps.device_values(), ps.device_grads());
  ps.zero_grad();
  const Dataset& layout = x_.data.train;
  Var loss =
      objective(train_tape_, model_outputs(train_tape_, *x_.model, layout, e), layout, e, x_.loss);
  if (x_.train.loss_reduction == "mean_over_classes" && !x_.data.regression)
    loss = scale(train_tape_, loss, 1.0 / double(x_.model->outputs()));
  train_tape_.backward(loss);
  loss_ = train_tape_.value(loss).data;
}

template <class T>
double DeviceSteps<T>::gradient(const Examples& host, bool full_batch) {
  const Examples e = full_batch ? x_.device_train->examples() : batch_.upload(host);
  train_tape_.reset();  // outside any capture: the arena may merge its blocks here
  const int g = update_pending_ ? 1 : 0;
  update_pending_ = false;
  if (calls_[g]++ == 0) {
    record_step(e, g == 1);
  } else {
    if (graph_[g] < 0) {
      dev_.begin_capture();
      record_step(e, g == 1);
      graph_[g] = dev_.end_capture();
    }
    dev_.replay(graph_[g]);
  }
  dev_.download(loss_host_, loss_, sizeof(T));
  return double(*loss_host_);
}

template <class T>
double DeviceSteps<T>::grad_norm() {
  ParamStore<T>& ps = x_.model->params();
  return device_l2_norm(dev_, static_cast<const T*>(ps.device_grads()), ps.size(),
                        norm_scratch_.data());
}

template <class T>
void DeviceSteps<T>::update(double lr) {
  x_.device_optimizer->prepare(lr);
  update_pending_ = true;
}

template class DeviceSteps<float>;
template class DeviceSteps<double>;

}  // namespace gradscope
