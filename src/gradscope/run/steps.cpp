// The training step of every run: see steps.h.
#include "gradscope/run/steps.h"

#include "gradscope/cuda/kernels.h"
#include "gradscope/cuda/reductions.h"

namespace gradscope {

template <class T>
Steps<T>::Steps(Experiment<T>& x, int64_t batch_size)
    : x_(x),
      dev_(x.backend()),
      captures_(dev_.records_graphs()),
      train_arena_(size_t{1} << 20, x.context.get()),
      eval_arena_(size_t{1} << 20, x.context.get()),
      train_tape_(train_arena_, x.context.get()),
      eval_tape_(eval_arena_, x.context.get()),
      host_tape_(host_arena_),
      norm_scratch_(dev_, square_sum_scratch(dev_, x.model->params().size()) + 1),
      loss_host_(static_cast<T*>(dev_.allocate_pinned(sizeof(T)))) {
  if (x.context) batch_.emplace(*x.context, x.data.train, batch_size);
}

template <class T>
Steps<T>::~Steps() {
  dev_.sync();
  dev_.deallocate_pinned(loss_host_);
}

template <class T>
T* Steps<T>::values() {
  return x_.model->params().training_values();
}

template <class T>
T* Steps<T>::grads() {
  return x_.model->params().training_grads();
}

// [update,] zero_grad, forward, loss, backward: device work only (the tape was reset by the
// caller).
template <class T>
const T* Steps<T>::record_step(const Examples& e, bool with_update) {
  if (with_update) x_.optimizer->apply(values(), grads());
  x_.model->params().zero_grad();
  const Dataset& layout = x_.data.train;
  Var loss = objective(train_tape_, model_outputs(train_tape_, *x_.model, layout, e), layout, e,
                       x_.train.loss, x_.train.softmax_numerics);
  if (x_.train.loss_reduction == LossReduction::mean_over_classes && !x_.data.regression)
    loss = scale(train_tape_, loss, 1.0 / double(x_.model->outputs()));
  train_tape_.backward(loss);
  const T* value = train_tape_.value(loss).data;
  // Off the cpu the step writes its loss into page-locked host memory itself (a GPU writes it
  // directly): reading it needs only a wait, no copy queued per step.
  if (captures_) dev_.launch(kernels::Copy<T>{value, loss_host_, false}, 1);
  return value;
}

template <class T>
void Steps<T>::queue_gradient(const Examples& host, bool full_batch) {
  const bool with_update = update_pending_;
  update_pending_ = false;
  if (!captures_) {  // at once, on the host
    const Examples e = full_batch ? all_examples(x_.data.train) : host;
    train_tape_.reset();
    queued_loss_ = record_step(e, with_update);
    return;
  }
  const Examples e = full_batch ? x_.device_train->examples() : batch_->upload(host);
  const bool moving = train_arena_.block_count() > 1;  // this reset merges: addresses change
  train_tape_.reset();                                 // outside any capture
  if (moving) graphs_.clear();
  Graph& g = graphs_[{with_update, e.n}];
  if (g.calls++ == 0) {
    record_step(e, with_update);
  } else {
    if (g.id < 0) {
      dev_.begin_capture();
      record_step(e, with_update);
      g.id = dev_.end_capture();
    }
    dev_.replay(g.id);
  }
}

template <class T>
double Steps<T>::loss() {
  if (!captures_) return double(*queued_loss_);
  dev_.sync();  // the step wrote it to loss_host_
  return double(*loss_host_);
}

template <class T>
double Steps<T>::grad_norm() {
  return l2_norm_on(dev_, static_cast<const T*>(grads()), x_.model->params().size(),
                    norm_scratch_.data());
}

template <class T>
void Steps<T>::update(double lr) {
  x_.optimizer->prepare(lr);
  update_pending_ = true;
}

template class Steps<float>;
template class Steps<double>;

}  // namespace gradscope
