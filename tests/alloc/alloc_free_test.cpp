// Proves the steady-state training step makes no heap allocation: this binary replaces the
// global operator new/delete with counting versions, trains a small transformer-like model
// (embedding, positional add, layer norm, attention, GELU MLP, last-position readout,
// cross-entropy, gradient clipping, AdamW) for a few warm-up steps, then counts allocations over
// further steps: there must be none, at 1 and at 2 threads. glibc's malloc statistics confirm it
// for allocations that bypass operator new.
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "gradscope/autograd/ops.h"
#include "gradscope/nn/param_store.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/optim/schedule.h"
#include "gradscope/tensor/rng.h"
#include "gradscope/tensor/threads.h"

namespace {
std::atomic<int64_t> g_news{0};
}

// GCC 12 sees the replaced operator delete (free) inlined next to operator new and warns of a
// mismatch; the pair is consistent by construction (both malloc/free).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  return operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}

namespace gradscope {
namespace {

// B = batch, T = 3 tokens, D = width, V = vocabulary. Shapes in comments.
struct TinyModel {
  static constexpr int64_t B = 256, T = 3, D = 32, H = 4, V = 23;
  ParamStore<float> ps;
  int W_E, W_pos, ln_g, ln_b, W_Q, W_K, W_V, W_O, W_in, b_in, W_out, W_U;
  std::vector<int32_t> tokens, targets;  // [B, T], [B]

  TinyModel() {
    W_E = ps.add("W_E", {V, D});
    W_pos = ps.add("W_pos", {T, D});
    ln_g = ps.add("ln.g", {D});
    ln_b = ps.add("ln.b", {D});
    W_Q = ps.add("W_Q", {D, D});
    W_K = ps.add("W_K", {D, D});
    W_V = ps.add("W_V", {D, D});
    W_O = ps.add("W_O", {D, D});
    W_in = ps.add("W_in", {D, 4 * D});
    b_in = ps.add("b_in", {4 * D});
    W_out = ps.add("W_out", {4 * D, D});
    W_U = ps.add("W_U", {D, V});
    ps.finalize();
    Rng(0, "init").fill_normal(ps.values().data(), ps.size(), 0.0, 0.2);
    Rng data(0, "batch");
    for (int64_t i = 0; i < B * T; ++i) tokens.push_back(static_cast<int32_t>(data.next_below(V)));
    for (int64_t i = 0; i < B; ++i) targets.push_back(static_cast<int32_t>(data.next_below(V)));
  }

  Var loss(Tape<float>& t) {
    Var x = embedding(t, tokens.data(), Shape{B, T}, ps.on(t, W_E));  // [B, T, D]
    x = add_positional(t, x, ps.on(t, W_pos));
    Var h = layer_norm(t, x, ps.on(t, ln_g), ps.on(t, ln_b));
    Var a = attention(t, linear(t, h, ps.on(t, W_Q)), linear(t, h, ps.on(t, W_K)),
                      linear(t, h, ps.on(t, W_V)), H, true);  // [B, T, D]
    x = add(t, x, linear(t, a, ps.on(t, W_O)));
    Var m = gelu(t, linear(t, x, ps.on(t, W_in), ps.on(t, b_in)));  // [B, T, 4D]
    x = add(t, x, linear(t, m, ps.on(t, W_out)));
    Var logits = linear(t, select_last(t, x), ps.on(t, W_U));  // [B, V]
    return cross_entropy(t, logits, targets.data());
  }
};

// The whole training update (Optimizer::update: Grokfast's filter, clipping, the rule, the weight
// norm) with the given filter.
void expect_no_allocation_in_steady_state(int threads, const std::string& filter = "none") {
  set_num_threads(threads);
  TinyModel model;
  OptimizerConfig oc;
  oc.weight_decay = 1.0;
  oc.clip_norm = 1.0;
  oc.filter.kind = option_named<GradFilterKind>("optim.grad_filter", filter);
  oc.filter.window = 2;  // the MA filter averages from the second step on
  if (filter != "none") oc.weight_norm = 50.0;
  auto opt = make_optimizer<float>(oc, model.ps.size());
  ScheduleConfig sc;
  sc.warmup_steps = 10;
  Arena arena;
  Tape<float> tape(arena);
  double first_loss = 0, last_loss = 0;
  auto step = [&](int64_t s) {
    tape.reset();
    model.ps.zero_grad();
    Var loss = model.loss(tape);
    tape.backward(loss);
    opt->update(model.ps.values(), model.ps.grads(), scheduled_lr(1e-2, sc, s));
    return static_cast<double>(tape.value(loss)[0]);
  };
  for (int64_t s = 0; s < 3; ++s) first_loss = step(s);  // warm-up: arena and vectors grow
  const size_t capacity = arena.capacity();
  const int64_t news_before = g_news.load();
  const size_t heap_before = mallinfo2().uordblks;
  for (int64_t s = 3; s < 23; ++s) last_loss = step(s);
  EXPECT_EQ(g_news.load() - news_before, 0) << "operator new calls in 20 steady-state steps";
  EXPECT_EQ(mallinfo2().uordblks, heap_before) << "heap bytes in use changed";
  EXPECT_EQ(arena.capacity(), capacity);
  EXPECT_EQ(arena.block_count(), 1);
  EXPECT_LT(last_loss, first_loss);  // the steps really trained
  set_num_threads(1);
}

TEST(AllocationFree, SteadyStateStepOneThread) {
  expect_no_allocation_in_steady_state(1);
}
TEST(AllocationFree, SteadyStateStepTwoThreads) {
  expect_no_allocation_in_steady_state(2);
}

TEST(AllocationFree, SteadyStateStepWithGrokfastFiltersAndWeightNorm) {
  expect_no_allocation_in_steady_state(2, "ema");
  expect_no_allocation_in_steady_state(2, "ma");
}

TEST(AllocationFree, CounterSeesAllocations) {
  // The counter itself works: a vector allocation is seen.
  const int64_t before = g_news.load();
  std::vector<int>* v = new std::vector<int>(10);
  delete v;
  EXPECT_GE(g_news.load() - before, 2);
}

}  // namespace
}  // namespace gradscope
