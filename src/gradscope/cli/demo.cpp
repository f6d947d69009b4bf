// The interim demo experiment: see demo.h. Shape legend: N = examples, p = classes,
// E = d_embed, H = d_hidden.
#include "gradscope/cli/demo.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <vector>

#include "gradscope/autograd/ops.h"
#include "gradscope/nn/param_store.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

struct Split {
  std::vector<int32_t> ids;      // [N, 2] operands a, b
  std::vector<int32_t> targets;  // [N] (a + b) mod p
  int64_t size() const { return static_cast<int64_t>(targets.size()); }
};

template <class T>
struct Mlp {
  ParamStore<T> params;
  int embed, w1, b1, w2, b2;

  Mlp(const DemoOptions& o) {
    embed = params.add("embed", {o.p, o.d_embed});         // [p, E]
    w1 = params.add("W_in", {2 * o.d_embed, o.d_hidden});  // [2E, H]
    b1 = params.add("b_in", {o.d_hidden});                 // [H]
    w2 = params.add("W_out", {o.d_hidden, o.p});           // [H, p]
    b2 = params.add("b_out", {o.p});                       // [p]
    params.finalize();
    Rng rng(o.seed, "init");
    for (int i : {embed, w1, w2}) {
      Tensor<T> w = params.value(i);
      rng.fill_normal(w.data, w.numel(), 0.0, 1.0 / std::sqrt(double(w.shape[0])));
    }
    params.save_initial();
  }

  // logits [N, p] for the examples of a split.
  Var forward(Tape<T>& t, const Split& s) {
    const int64_t n = s.size();
    Var x = embedding(t, s.ids.data(), Shape{n, 2}, params.on(t, embed));  // [N, 2, E]
    x = reshape(t, x, Shape{n, 2 * t.shape(x)[2]});                        // [N, 2E]
    Var h = relu(t, linear(t, x, params.on(t, w1), params.on(t, b1)));     // [N, H]
    return linear(t, h, params.on(t, w2), params.on(t, b2));               // [N, p]
  }
};

template <class T>
void evaluate(Mlp<T>& model, Tape<T>& t, const Split& s, double& loss, double& acc) {
  t.set_grad_enabled(false);
  Var logits = model.forward(t, s);
  loss = double(t.value(cross_entropy(t, logits, s.targets.data()))[0]);
  const Tensor<T> l = t.value(logits);
  const int64_t C = l.shape[1];
  int64_t correct = 0;
  for (int64_t r = 0; r < s.size(); ++r) {
    const T* row = l.data + r * C;
    correct += std::max_element(row, row + C) - row == s.targets[r];
  }
  acc = double(correct) / double(s.size());
  t.set_grad_enabled(true);
}

template <class T>
int train(const DemoOptions& o) {
  // Data: every pair (a, b), shuffled by the "split" stream, the first part for training.
  std::vector<int32_t> order(o.p * o.p);
  std::iota(order.begin(), order.end(), 0);
  Rng(o.seed, "split").shuffle(order.data(), static_cast<int64_t>(order.size()));
  const auto n_train = static_cast<int64_t>(std::llround(o.train_fraction * order.size()));
  Split train_set, test_set;
  for (int64_t k = 0; k < static_cast<int64_t>(order.size()); ++k) {
    Split& s = k < n_train ? train_set : test_set;
    const int32_t a = order[k] / o.p, b = order[k] % o.p;
    s.ids.insert(s.ids.end(), {a, b});
    s.targets.push_back(static_cast<int32_t>((a + b) % o.p));
  }

  Mlp<T> model(o);
  OptimizerConfig oc;
  oc.name = "adamw";
  oc.lr = o.lr;
  oc.weight_decay = o.weight_decay;
  oc.beta2 = 0.98;
  auto opt = make_optimizer<T>(oc, model.params.size());

  fmt::print(
      "gradscope demo: (a + b) mod {} with a concatenating MLP, {} train / {} test pairs, "
      "AdamW lr {} wd {}, {}\n",
      o.p, train_set.size(), test_set.size(), o.lr, o.weight_decay, o.precision);
  fmt::print("{:>7} {:>11} {:>10} {:>11} {:>10}\n", "step", "train_loss", "train_acc", "test_loss",
             "test_acc");
  Arena arena;
  Tape<T> tape(arena);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t step = 0; step <= o.steps; ++step) {
    if (step % o.log_every == 0 || step == o.steps) {
      double tl, ta, vl, va;
      tape.reset();
      evaluate(model, tape, train_set, tl, ta);
      tape.reset();
      evaluate(model, tape, test_set, vl, va);
      fmt::print("{:>7} {:>11.3e} {:>10.4f} {:>11.3e} {:>10.4f}\n", step, tl, ta, vl, va);
      std::fflush(stdout);
    }
    if (step == o.steps) break;
    tape.reset();
    model.params.zero_grad();
    Var loss = cross_entropy(tape, model.forward(tape, train_set), train_set.targets.data());
    tape.backward(loss);
    opt->step(model.params.values(), model.params.grads(), o.lr);
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("{} steps in {:.2f} s ({:.0f} steps/s)\n", o.steps, secs, o.steps / secs);
  return 0;
}

}  // namespace

int run_demo(const DemoOptions& o) {
  return o.precision == "float64" ? train<double>(o) : train<float>(o);
}

}  // namespace gradscope
