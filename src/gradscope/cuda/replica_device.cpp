// A replica group's device: its members, their recorded steps, and the stacked step built from
// them (see replica_device.h).
#include "gradscope/cuda/replica_device.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <variant>

namespace gradscope {
namespace {

// A GEMM as a member records it: row-major C = alpha op(A) op(B) + beta C, float or double.
struct GemmOp {
  bool f64, ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  double alpha, beta;
  const void *A, *B;
  void* C;
  const void* operand(int part) const {  // 0: A, 1: B, 2: C
    return part == 0 ? A : part == 1 ? B : static_cast<const void*>(C);
  }
  bool same_shape(const GemmOp& o) const {
    return f64 == o.f64 && ta == o.ta && tb == o.tb && M == o.M && N == o.N && K == o.K &&
           lda == o.lda && ldb == o.ldb && ldc == o.ldc && alpha == o.alpha && beta == o.beta;
  }
};

// A copy between device buffers, a zeroing (src null) or an upload from the host.
struct CopyOp {
  enum Kind { copy, zero, upload } kind;
  void* dst;
  const void* src;
  size_t bytes;
};

using Op = std::variant<RecordedLaunch, GemmOp, CopyOp>;

bool same_shape(const Op& a, const Op& b) {
  if (a.index() != b.index()) return false;
  if (const auto* l = std::get_if<RecordedLaunch>(&a)) {
    const auto& m = std::get<RecordedLaunch>(b);
    return l->type == m.type && l->n == m.n && l->functor.size() == m.functor.size();
  }
  if (const auto* g = std::get_if<GemmOp>(&a)) return g->same_shape(std::get<GemmOp>(b));
  const auto &c = std::get<CopyOp>(a), &d = std::get<CopyOp>(b);
  return c.kind == d.kind && c.bytes == d.bytes;
}

}  // namespace

// One replica's context (see replica_device.h): the group device's memory and stream, its
// captured steps recorded as operations, its replays deferred to the group.
class ReplicaMember final : public DeviceContext, private LaunchRecorder {
 public:
  ReplicaMember(ReplicaDevice& group, DeviceContext& device, int index)
      : DeviceContext(device.device()), group_(group), dev_(device), index_(index) {}
  ~ReplicaMember() override {
    release_constants();
    group_.forget(this);
  }
  const std::vector<Op>& step(int graph) const { return steps_.at(static_cast<size_t>(graph)); }

  void* allocate(size_t bytes) override {
    if (recording_) throw std::logic_error("device memory requested while a step is recorded");
    return group_.allocate(index_, allocations_++, bytes);
  }
  void deallocate(void* p) override { group_.deallocate(p); }
  void zero(void* p, size_t bytes) override {
    recording_ ? add(CopyOp{CopyOp::zero, p, nullptr, bytes}) : dev_.zero(p, bytes);
  }
  void upload(void* device, const void* host, size_t bytes) override {
    recording_ ? add(CopyOp{CopyOp::upload, device, host, bytes})
               : dev_.upload(device, host, bytes);
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    recording_ ? add(CopyOp{CopyOp::copy, dst, src, bytes}) : dev_.copy(dst, src, bytes);
  }
  void download(void* host, const void* device, size_t bytes) override {
    group_.flush();
    dev_.download(host, device, bytes);
  }
  void* allocate_pinned(size_t bytes) override { return dev_.allocate_pinned(bytes); }
  void deallocate_pinned(void* p) override { dev_.deallocate_pinned(p); }
  void sync() override {
    group_.flush();
    dev_.sync();
  }

  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
            int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) override {
    if (!recording_) return dev_.gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    add(GemmOp{false, ta, tb, M, N, K, lda, ldb, ldc, alpha, beta, A, B, C});
  }
  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
            int64_t lda, const double* B, int64_t ldb, double beta, double* C,
            int64_t ldc) override {
    if (!recording_) return dev_.gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    add(GemmOp{true, ta, tb, M, N, K, lda, ldb, ldc, alpha, beta, A, B, C});
  }
  void gemm_strided_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                            const float* A, int64_t lda, int64_t sA, const float* B, int64_t ldb,
                            int64_t sB, float beta, float* C, int64_t ldc, int64_t sC,
                            int count) override {
    eager("gemm_strided_batched");
    dev_.gemm_strided_batched(ta, tb, M, N, K, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC,
                              count);
  }
  void gemm_strided_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                            const double* A, int64_t lda, int64_t sA, const double* B, int64_t ldb,
                            int64_t sB, double beta, double* C, int64_t ldc, int64_t sC,
                            int count) override {
    eager("gemm_strided_batched");
    dev_.gemm_strided_batched(ta, tb, M, N, K, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC,
                              count);
  }
  void gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* const* A, int64_t lda, const float* const* B, int64_t ldb,
                    float beta, float* const* C, int64_t ldc, int count) override {
    eager("gemm_batched");
    dev_.gemm_batched(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, count);
  }
  void gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                    const double* const* A, int64_t lda, const double* const* B, int64_t ldb,
                    double beta, double* const* C, int64_t ldc, int count) override {
    eager("gemm_batched");
    dev_.gemm_batched(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, count);
  }
  void set_tf32(bool on) override { dev_.set_tf32(on); }

  void begin_capture() override {
    eager("begin_capture");
    recording_ = true;
    recorder_ = this;
    steps_.emplace_back();
  }
  int end_capture() override {
    recording_ = false;
    recorder_ = nullptr;
    return static_cast<int>(steps_.size()) - 1;
  }
  void replay(int graph) override {
    step(graph);  // throws for a graph it never captured
    group_.defer(this, graph);
  }
  bool capturing() const override { return recording_; }

 protected:
  void host_launch(std::function<void()> work) override { dev_.host_launch(std::move(work)); }
  void* stream_handle() override { return dev_.stream_handle(); }

 private:
  void record(RecordedLaunch launch) override { add(std::move(launch)); }
  void add(Op op) { steps_.back().push_back(std::move(op)); }
  void eager(const char* what) const {
    if (recording_) throw std::logic_error(std::string(what) + " while a step is recorded");
  }

  ReplicaDevice& group_;
  DeviceContext& dev_;
  int index_;               // its slice of every slab
  size_t allocations_ = 0;  // made so far: the next one's slab
  bool recording_ = false;
  std::vector<std::vector<Op>> steps_;  // by graph id
};

ReplicaDevice::ReplicaDevice(Device d, int replicas)
    : device_(DeviceContext::create(d)), replicas_(replicas) {
  if (!device_->records_graphs())
    throw std::logic_error("a replica group's stacked step needs a device with graphs");
}

ReplicaDevice::~ReplicaDevice() {
  steps_.clear();  // their tables, while the device lives
  for (Slab& s : slabs_)
    if (s.base) device_->deallocate(s.base);
}

std::unique_ptr<DeviceContext> ReplicaDevice::member() {
  if (members_ >= replicas_) throw std::logic_error("more members than the group's replicas");
  return std::make_unique<ReplicaMember>(*this, *device_, members_++);
}

// Slice `member` of slab `index`, made on the first request; memory of its own for a request
// that does not fit the slab.
void* ReplicaDevice::allocate(int member, size_t index, size_t bytes) {
  if (index == slabs_.size()) {
    Slab s;
    s.bytes = bytes;
    s.stride = (std::max<size_t>(bytes, 1) + 255) / 256 * 256;
    s.base = static_cast<unsigned char*>(device_->allocate(s.stride * size_t(replicas_)));
    s.taken.assign(size_t(replicas_), false);
    slabs_.push_back(std::move(s));
  }
  if (index < slabs_.size()) {
    Slab& s = slabs_[index];
    if (s.base && s.bytes == bytes && !s.taken[size_t(member)]) {
      s.taken[size_t(member)] = true;
      ++s.live;
      void* p = s.base + s.stride * size_t(member);
      slices_[p] = index;
      return p;
    }
  }
  return device_->allocate(bytes);
}

void ReplicaDevice::deallocate(void* p) {
  const auto it = slices_.find(p);
  if (it == slices_.end()) return device_->deallocate(p);
  Slab& s = slabs_[it->second];
  slices_.erase(it);
  if (--s.live == 0) {  // the slab's slices stay taken: a later request gets memory of its own
    device_->deallocate(s.base);
    s.base = nullptr;
  }
}

void ReplicaDevice::forget(const ReplicaMember* m) {
  std::erase_if(deferred_, [m](const auto& d) { return d.first == m; });
  std::erase_if(steps_, [m](const auto& s) {
    return std::any_of(s.first.begin(), s.first.end(), [m](const auto& d) { return d.first == m; });
  });
}

void ReplicaDevice::flush() {
  if (deferred_.empty()) return;
  const Deferred deferred = std::move(deferred_);
  deferred_.clear();
  auto it = steps_.find(deferred);
  if (it == steps_.end()) it = steps_.emplace(deferred, build(deferred)).first;
  device_->replay(it->second.graph);
}

namespace {

// The members of `deferred` whose steps match operation for operation, in classes (indices into
// `deferred`, in its order).
template <class StepOf>
std::vector<std::vector<size_t>> zip_classes(size_t count, const StepOf& step_of) {
  std::vector<std::vector<size_t>> classes;
  for (size_t i = 0; i < count; ++i) {
    const std::vector<Op>& ops = step_of(i);
    auto c = std::find_if(classes.begin(), classes.end(), [&](const std::vector<size_t>& c) {
      const std::vector<Op>& first = step_of(c[0]);
      return first.size() == ops.size() &&
             std::equal(first.begin(), first.end(), ops.begin(),
                        [](const Op& a, const Op& b) { return same_shape(a, b); });
    });
    if (c == classes.end())
      classes.push_back({i});
    else
      c->push_back(i);
  }
  return classes;
}

// The element strides {A, B, C} between the class's operands of GEMM j where every operand steps
// evenly from one member to the next (the stacked slabs; 0 for a shared operand), else nothing.
std::optional<std::array<int64_t, 3>> strides_of(const std::vector<const std::vector<Op>*>& steps,
                                                 size_t j) {
  const GemmOp& g0 = std::get<GemmOp>((*steps[0])[j]);
  const int64_t size = g0.f64 ? 8 : 4;
  std::array<int64_t, 3> strides{};
  for (int part = 0; part < 3; ++part) {
    auto at = [&](size_t r) {
      return reinterpret_cast<intptr_t>(std::get<GemmOp>((*steps[r])[j]).operand(part));
    };
    const int64_t bytes = steps.size() > 1 ? at(1) - at(0) : 0;
    if (bytes % size != 0) return std::nullopt;
    for (size_t r = 0; r < steps.size(); ++r)
      if (at(r) != at(0) + intptr_t(r) * bytes) return std::nullopt;
    strides[size_t(part)] = bytes / size;
  }
  return strides;
}

// The device table operation j of a class needs: its K functors back to back, or the pointer
// arrays [A..., B..., C...] of a GEMM whose operands are not evenly strided; empty otherwise.
std::vector<unsigned char> table_of(const std::vector<const std::vector<Op>*>& steps, size_t j) {
  std::vector<unsigned char> t;
  auto append = [&t](const void* p, size_t bytes) {
    const auto* b = static_cast<const unsigned char*>(p);
    t.insert(t.end(), b, b + bytes);
  };
  if (std::holds_alternative<RecordedLaunch>((*steps[0])[j])) {
    for (const auto* s : steps) {
      const auto& f = std::get<RecordedLaunch>((*s)[j]).functor;
      append(f.data(), f.size());
    }
  } else if (std::holds_alternative<GemmOp>((*steps[0])[j]) && !strides_of(steps, j)) {
    for (int part = 0; part < 3; ++part)
      for (const auto* s : steps) {
        const void* p = std::get<GemmOp>((*s)[j]).operand(part);
        append(&p, sizeof p);
      }
  }
  return t;
}

// GEMM j of a class as one call: strided over the stacked slabs, else through its pointer table.
template <class T>
void batched_gemm(DeviceContext& d, const std::vector<const std::vector<Op>*>& steps, size_t j,
                  const void* table) {
  const GemmOp& g = std::get<GemmOp>((*steps[0])[j]);
  const int count = static_cast<int>(steps.size());
  if (!table) {
    const std::array<int64_t, 3> s = *strides_of(steps, j);
    d.gemm_strided_batched(g.ta, g.tb, g.M, g.N, g.K, T(g.alpha), static_cast<const T*>(g.A), g.lda,
                           s[0], static_cast<const T*>(g.B), g.ldb, s[1], T(g.beta),
                           static_cast<T*>(g.C), g.ldc, s[2], count);
    return;
  }
  const auto* p = static_cast<T* const*>(table);  // [A..., B..., C...]
  d.gemm_batched(g.ta, g.tb, g.M, g.N, g.K, T(g.alpha), p, g.lda, p + count, g.ldb, T(g.beta),
                 p + 2 * count, g.ldc, count);
}

// Operation j of a class, for all its members at once.
void issue(DeviceContext& d, const std::vector<const std::vector<Op>*>& steps, size_t j,
           const void* table) {
  const int count = static_cast<int>(steps.size());
  const Op& op = (*steps[0])[j];
  if (const auto* l = std::get_if<RecordedLaunch>(&op))
    return l->launch_stacked(d, table, count, l->n);
  if (const auto* g = std::get_if<GemmOp>(&op))
    return g->f64 ? batched_gemm<double>(d, steps, j, table)
                  : batched_gemm<float>(d, steps, j, table);
  for (const auto* s : steps) {
    const CopyOp& c = std::get<CopyOp>((*s)[j]);
    if (c.kind == CopyOp::zero)
      d.zero(c.dst, c.bytes);
    else if (c.kind == CopyOp::copy)
      d.copy(c.dst, c.src, c.bytes);
    else
      d.upload(c.dst, c.src, c.bytes);
  }
}

}  // namespace

// The tables go up before the capture (a capture may not allocate); the stacked operations are
// then captured as one graph.
ReplicaDevice::Step ReplicaDevice::build(const Deferred& deferred) {
  auto step_of = [&](size_t i) -> const std::vector<Op>& {
    return deferred[i].first->step(deferred[i].second);
  };
  Step s;
  s.replicas = static_cast<int>(deferred.size());
  std::vector<std::vector<const std::vector<Op>*>> classes;
  for (const std::vector<size_t>& c : zip_classes(deferred.size(), step_of)) {
    classes.emplace_back();
    for (size_t i : c) classes.back().push_back(&step_of(i));
  }
  s.classes = static_cast<int>(classes.size());
  std::vector<std::vector<const void*>> tables(classes.size());
  std::vector<std::vector<unsigned char>> staged;
  for (size_t c = 0; c < classes.size(); ++c)
    for (size_t j = 0; j < classes[c][0]->size(); ++j) {
      staged.push_back(table_of(classes[c], j));
      const std::vector<unsigned char>& t = staged.back();
      if (!t.empty()) {
        s.tables.emplace_back(*device_, static_cast<int64_t>(t.size()));
        s.tables.back().upload(t.data(), static_cast<int64_t>(t.size()));
      }
      tables[c].push_back(t.empty() ? nullptr : s.tables.back().data());
    }
  device_->sync();
  device_->begin_capture();
  for (size_t c = 0; c < classes.size(); ++c)
    for (size_t j = 0; j < classes[c][0]->size(); ++j) issue(*device_, classes[c], j, tables[c][j]);
  s.graph = device_->end_capture();
  ++graphs_;
  for (size_t j = 0; j < classes[0][0]->size(); ++j) {
    const Op& op = (*classes[0][0])[j];
    s.kernels += std::holds_alternative<RecordedLaunch>(op);
    s.gemms += std::holds_alternative<GemmOp>(op);
    s.strided += std::holds_alternative<GemmOp>(op) && !tables[0][j];
  }
  if (s.replicas > widest_.replicas ||
      (s.replicas == widest_.replicas && s.classes < widest_.classes)) {
    widest_.replicas = s.replicas, widest_.classes = s.classes;
    widest_.kernels = s.kernels, widest_.gemms = s.gemms, widest_.strided = s.strided;
  }
  return s;
}

std::string ReplicaDevice::describe() const {
  if (widest_.replicas == 0) return "";
  const std::string zipped = widest_.classes == 1
                                 ? "every replica's step zipped"
                                 : fmt::format("the steps zipped in {} classes", widest_.classes);
  const std::string strided =
      widest_.strided == widest_.gemms
          ? "every GEMM strided over the stacked buffers"
          : fmt::format("{} of the GEMMs strided over the stacked buffers", widest_.strided);
  return fmt::format(
      "{} replicas in one stacked step on {}: {} kernel launches and {} batched GEMMs, each over "
      "the replica dimension ({}; {}; {} graphs captured)",
      widest_.replicas, device_name(device_->device()), widest_.kernels, widest_.gemms, zipped,
      strided, graphs_);
}

}  // namespace gradscope
