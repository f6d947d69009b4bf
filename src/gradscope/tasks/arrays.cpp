// The arrays task family: see arrays.h. Shape legend: N = examples, L = tokens per example,
// D = real features, Y = real outputs.
#include "gradscope/tasks/arrays.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "gradscope/tasks/task_family.h"

namespace gradscope {
namespace {

constexpr const char* kArrays[] = {"x_train", "y_train", "x_test", "y_test", "vocab", "classes"};
constexpr int64_t kMaxId = INT32_MAX;  // ids are int32

[[noreturn]] void bad(const std::string& origin, const std::string& what) {
  throw std::invalid_argument(origin + ": " + what);
}

// "[r, c]" or "[r]": where element i of an array sits.
std::string at(const NpyArray& a, int64_t i) {
  if (a.shape.size() < 2) return fmt::format("[{}]", i);
  return fmt::format("[{}, {}]", i / a.shape[1], i % a.shape[1]);
}

// The four arrays, and no others than those arrays.h names.
void check_names(const std::map<std::string, NpyArray>& arrays, const std::string& origin) {
  std::string held;
  for (const auto& [name, a] : arrays) {
    held += (held.empty() ? "" : ", ") + name;
    if (std::find(std::begin(kArrays), std::end(kArrays), name) == std::end(kArrays))
      bad(origin,
          "unknown array '" + name +
              "' (valid: x_train, y_train, x_test, y_test, and the scalars vocab, classes)");
  }
  for (int i = 0; i < 4; ++i)
    if (!arrays.count(kArrays[i]))
      bad(origin, std::string("no array ") + kArrays[i] +
                      " (valid: an .npz with x_train, y_train, x_test, y_test; it holds: " +
                      (held.empty() ? "nothing" : held) + ")");
}

// An optional positive integer scalar (vocab, classes); 0 when absent.
int64_t scalar(const std::map<std::string, NpyArray>& arrays, const char* name,
               const std::string& origin) {
  auto it = arrays.find(name);
  if (it == arrays.end()) return 0;
  const NpyArray& a = it->second;
  if (!a.is_integer() || a.size() != 1 || a.shape.size() > 1)
    bad(origin, fmt::format("{} is {} {} (valid: one integer)", name, a.dtype(), a.shape_text()));
  const int64_t v = a.integer(0);
  if (v < 1 || v > kMaxId) bad(origin, fmt::format("{} = {} (valid: 1..{})", name, v, kMaxId));
  return v;
}

// Shapes: x [N, *], y [N] or [N, *], rows matching, the test split shaped as the train split,
// the integer kinds of x and y the same in both splits.
void check_shapes(const std::map<std::string, NpyArray>& arrays, const std::string& origin) {
  for (const char* split : {"train", "test"}) {
    const std::string xn = std::string("x_") + split, yn = std::string("y_") + split;
    const NpyArray &x = arrays.at(xn), &y = arrays.at(yn);
    if (x.shape.size() != 2)
      bad(origin,
          xn + " has shape " + x.shape_text() + " (valid: [N, L] token ids or [N, D] features)");
    if (y.shape.size() != 1 && y.shape.size() != 2)
      bad(origin, yn + " has shape " + y.shape_text() +
                      " (valid: [N] or [N, L] class ids, [N] or [N, Y] real targets)");
    if (x.shape[0] < 1) bad(origin, xn + " has no rows (valid: at least one example)");
    if (y.shape[0] != x.shape[0])
      bad(origin, fmt::format("{} has {} rows but {} has {} (valid: one target row per example)",
                              yn, y.shape[0], xn, x.shape[0]));
    if (x.shape[1] < 1) bad(origin, xn + " has shape " + x.shape_text() + " (valid: L or D >= 1)");
    if (y.shape.size() == 2 && y.shape[1] < 1)
      bad(origin, yn + " has shape " + y.shape_text() + " (valid: at least one column)");
  }
  const NpyArray &xa = arrays.at("x_train"), &ya = arrays.at("y_train");
  for (const char* n : {"x", "y"}) {
    const NpyArray &a = arrays.at(std::string(n) + "_train"),
                   &b = arrays.at(std::string(n) + "_test");
    if (a.is_integer() != b.is_integer())
      bad(origin, fmt::format("{}_test is {} but {}_train is {} (valid: both integer or both "
                              "float)",
                              n, b.dtype(), n, a.dtype()));
    if (a.shape.size() != b.shape.size() || (a.shape.size() == 2 && a.shape[1] != b.shape[1]))
      bad(origin, fmt::format("{}_test has shape {} but {}_train has {} (valid: the same "
                              "columns)",
                              n, b.shape_text(), n, a.shape_text()));
  }
  if (ya.is_integer() && ya.shape.size() == 2 && (!xa.is_integer() || ya.shape[1] != xa.shape[1]))
    bad(origin, fmt::format("y_train has shape {}: a target at every position needs token "
                            "sequences x_train [N, {}] of integers (x_train is {} {})",
                            ya.shape_text(), ya.shape[1], xa.dtype(), xa.shape_text()));
}

// The largest element of x_* or y_* (integers), checked >= 0.
int64_t largest(const std::map<std::string, NpyArray>& arrays, const char* n,
                const std::string& origin) {
  int64_t top = -1;
  for (const char* split : {"_train", "_test"}) {
    const std::string name = n + std::string(split);
    const NpyArray& a = arrays.at(name);
    for (int64_t i = 0; i < a.size(); ++i) {
      const int64_t v = a.integer(i);
      if (v < 0)
        bad(origin, fmt::format("{} holds {} at {} (valid: {} >= 0)", name, v, at(a, i),
                                *n == 'x' ? "token ids" : "labels"));
      top = std::max(top, v);
    }
  }
  if (top >= kMaxId) bad(origin, fmt::format("{}_* holds {} (valid: below {})", n, top, kMaxId));
  return top;
}

// Integer elements in 0..limit-1 (else the error says why that is the limit), as int32.
std::vector<int32_t> ids(const NpyArray& a, const std::string& name, int64_t limit,
                         const std::string& limit_text, const std::string& origin) {
  std::vector<int32_t> out(static_cast<size_t>(a.size()));
  for (int64_t i = 0; i < a.size(); ++i) {
    const int64_t v = a.integer(i);
    if (v < 0 || v >= limit)
      bad(origin, fmt::format("{} holds {} at {} (valid: 0..{}, {})", name, v, at(a, i), limit - 1,
                              limit_text));
    out[static_cast<size_t>(i)] = static_cast<int32_t>(v);
  }
  return out;
}

// Finite elements as doubles.
std::vector<double> reals(const NpyArray& a, const std::string& name, const std::string& origin) {
  std::vector<double> out(static_cast<size_t>(a.size()));
  for (int64_t i = 0; i < a.size(); ++i) {
    out[static_cast<size_t>(i)] = a.real(i);
    if (!std::isfinite(out[static_cast<size_t>(i)]))
      bad(origin, fmt::format("{} holds {} at {} (valid: finite numbers)", name,
                              out[static_cast<size_t>(i)], at(a, i)));
  }
  return out;
}

}  // namespace

TaskData arrays_task_data(const std::map<std::string, NpyArray>& arrays, const std::string& origin,
                          ArraysReader reader, bool transformer) {
  check_names(arrays, origin);
  check_shapes(arrays, origin);
  const NpyArray &xa = arrays.at("x_train"), &ya = arrays.at("y_train");
  const bool tokens = xa.is_integer(), classes_y = ya.is_integer();
  if (reader == ArraysReader::tokens && !tokens)
    bad(origin, "x_train is " + xa.dtype() +
                    ": the model reads token ids (valid: an integer array [N, L])");
  if (reader == ArraysReader::features && tokens)
    bad(origin, "x_train is " + xa.dtype() +
                    ": the model reads real features (valid: a float array [N, D])");
  TaskData d;
  d.vocab = scalar(arrays, "vocab", origin);
  d.num_classes = scalar(arrays, "classes", origin);
  if (d.vocab && !tokens) bad(origin, "vocab is given but x_train holds features, not tokens");
  if (d.num_classes && !classes_y)
    bad(origin, "classes is given but y_train holds real targets, not labels");
  if (tokens && !d.vocab) {
    d.vocab = largest(arrays, "x", origin) + 1;
    if (transformer && classes_y) d.vocab = std::max(d.vocab, largest(arrays, "y", origin) + 1);
  }
  if (classes_y && !d.num_classes) d.num_classes = largest(arrays, "y", origin) + 1;
  const bool readout_vocab = transformer && classes_y;
  for (const char* split : {"train", "test"}) {
    Dataset& s = split[1] == 'r' ? d.train : d.test;
    const std::string xn = std::string("x_") + split, yn = std::string("y_") + split;
    const NpyArray &x = arrays.at(xn), &y = arrays.at(yn);
    if (tokens) {
      s.length = x.shape[1];
      s.inputs = ids(x, xn, d.vocab, fmt::format("vocab = {}", d.vocab), origin);
    } else {
      s.features = x.shape[1];
      s.x = reals(x, xn, origin);
    }
    if (classes_y) {
      const int64_t limit = readout_vocab ? std::min(d.vocab, d.num_classes) : d.num_classes;
      s.targets = ids(y, yn, limit,
                      readout_vocab && d.vocab < d.num_classes
                          ? fmt::format("a transformer reads out over its vocab = {}", d.vocab)
                          : fmt::format("classes = {}", d.num_classes),
                      origin);
      s.targets_per_example = y.shape.size() == 2 ? y.shape[1] : 1;
    } else {
      s.outputs = y.shape.size() == 2 ? y.shape[1] : 1;
      s.y = reals(y, yn, origin);
    }
  }
  d.regression = !classes_y;
  d.description = fmt::format(
      "arrays ({} {}, y {} {}): {} train / {} test", tokens ? "tokens" : "features", xa.dtype(),
      classes_y ? "labels" : "targets", ya.dtype(), d.train.size(), d.test.size());
  return d;
}

std::string arrays_hash(const std::map<std::string, NpyArray>& arrays) {
  uint64_t h = fnv1a(nullptr, 0);
  for (const auto& [name, a] : arrays) {  // std::map: in name order
    const std::string head = name + '\0' + a.dtype() + a.shape_text();
    h = fnv1a(head.data(), head.size(), h);
    h = fnv1a(a.data.data(), a.data.size(), h);
  }
  return fmt::format("{:016x}", h);
}

namespace {

// A file's arrays and their hash, read once for as long as the file is unchanged (a sweep
// resolves every point, then builds the data again).
struct LoadedArrays {
  std::map<std::string, NpyArray> arrays;
  std::string hash;
};

std::shared_ptr<const LoadedArrays> load_arrays(const std::string& path) {
  namespace fs = std::filesystem;
  static std::mutex mutex;
  static std::string cached_key;
  static std::shared_ptr<const LoadedArrays> cached;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const auto time = fs::last_write_time(path, ec);
  const std::string key =
      ec ? "" : fmt::format("{}\n{}\n{}", path, size, time.time_since_epoch().count());
  std::lock_guard<std::mutex> lock(mutex);
  if (!key.empty() && key == cached_key) return cached;
  auto loaded = std::make_shared<LoadedArrays>();
  loaded->arrays = read_npz(path);
  loaded->hash = arrays_hash(loaded->arrays);
  cached_key = key, cached = loaded;
  return loaded;
}

// What the configured model reads.
ArraysReader reader_of(const Config& c) {
  const std::string& type = c.string("model.type");
  const bool features = (type == "mlp" && c.string("model.mlp_form") == "dense") ||
                        type == "diagonal" || type == "deep_linear";
  return features ? ArraysReader::features : ArraysReader::tokens;
}

// The file's arrays as task data (ConfigError naming task.path on any problem); checks
// task.data_hash when it is given.
TaskData build_arrays(const Config& c) {
  const std::string& path = c.string("task.path");
  const std::string origin = "task.path " + path;
  try {
    const auto loaded = load_arrays(path);
    const std::string& want = c.string("task.data_hash");
    if (!want.empty() && want != loaded->hash)
      throw ConfigError(fmt::format(
          "{}: its arrays have content hash {}, not task.data_hash = \"{}\" (the file changed "
          "since the run was made; restore it, or clear task.data_hash for a new run)",
          origin, loaded->hash, want));
    return arrays_task_data(loaded->arrays, origin, reader_of(c),
                            c.string("model.type") == "transformer");
  } catch (const ConfigError&) {
    throw;
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();  // "<origin>: ..." or the reader's "<path>: ..."
    throw ConfigError(what.rfind(origin, 0) == 0 ? what : "task.path " + what);
  }
}

}  // namespace

TaskFamily arrays_task() {
  TaskFamily f;
  f.name = "arrays";
  f.targets = TaskFamily::Targets::by_data;
  f.models = {"transformer", "mlp", "diagonal", "deep_linear", "matrix_factorization"};
  f.validate = [](const Config& c) {
    if (c.string("task.path").empty())
      throw ConfigError(
          "task.path = \"\" (valid: a .npz file with x_train, y_train, x_test, y_test, for "
          "task.name = \"arrays\")");
    const std::string& h = c.string("task.data_hash");
    if (!h.empty() && (h.size() != 16 || h.find_first_not_of("0123456789abcdef") != h.npos))
      throw ConfigError("task.data_hash = \"" + h +
                        "\" (valid: 16 hex digits, or \"\" to take the file's)");
  };
  f.resolve = [](Config& c) {
    (void)build_arrays(c);  // the run's own errors, before anything starts
    c.set("task.data_hash", load_arrays(c.string("task.path"))->hash);
  };
  f.build = build_arrays;
  f.kept_files = {"task.path"};  // the run's copy: data.npz
  return f;
}

}  // namespace gradscope
