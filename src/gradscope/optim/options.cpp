// The optim.* options of a config: see optimizer.h and schedule.h.
#include "gradscope/optim/optimizer.h"
#include "gradscope/optim/schedule.h"

namespace gradscope {

OptimizerConfig optimizer_options(const Config& c) {
  OptimizerConfig o;
  o.name = c.string("optim.name");
  o.lr = c.real("optim.lr");
  o.weight_decay = c.real("optim.weight_decay");
  o.beta1 = c.real("optim.beta1");
  o.beta2 = c.real("optim.beta2");
  o.eps = c.real("optim.eps");
  o.momentum = c.real("optim.momentum");
  o.dampening = c.real("optim.dampening");
  o.nesterov = c.boolean("optim.nesterov");
  o.clip_norm = c.real("optim.clip_norm");
  o.weight_norm = c.real("optim.weight_norm");
  o.filter.kind = c.string("optim.grad_filter");
  o.filter.alpha = c.real("optim.filter_alpha");
  o.filter.lambda = c.real("optim.filter_lambda");
  o.filter.window = c.integer("optim.filter_window");
  return o;
}

ScheduleConfig schedule_options(const Config& c) {
  ScheduleConfig s;
  s.warmup_steps = c.integer("optim.warmup_steps");
  s.decay = c.string("optim.decay");
  s.total_steps = c.integer("train.steps");
  s.min_lr_ratio = c.real("optim.min_lr_ratio");
  return s;
}

}  // namespace gradscope
