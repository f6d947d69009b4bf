// Registry<Entry>: a table of named entries (task families, models, measures), the built-in ones
// first, then any added at run time. Code that uses a registry iterates its table; nothing
// switches on names. Entry needs a std::string `name`.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gradscope {

template <class Entry>
class Registry {
 public:
  explicit Registry(std::vector<Entry> builtins) : entries_(std::move(builtins)) {}

  const std::vector<Entry>& all() const { return entries_; }
  // The entry called `name`; nullptr when there is none.
  const Entry* find(const std::string& name) const {
    for (const Entry& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }
  // Every name, comma-separated, for "valid: ..." messages.
  std::string names() const {
    std::string out;
    for (const Entry& e : entries_) out += (out.empty() ? "" : ", ") + e.name;
    return out;
  }
  // Adds an entry; its name must be new. Not thread-safe: add before the table is used.
  void add(const Entry& entry) {
    if (find(entry.name)) throw std::logic_error("registry: " + entry.name + " exists already");
    entries_.push_back(entry);
  }

 private:
  std::vector<Entry> entries_;
};

}  // namespace gradscope
