// Template part of model_registry.h: model_entry().
#pragma once

#include <memory>
#include <string>
#include <utility>

namespace gradscope {

namespace detail {
template <template <class> class M, class T>
std::unique_ptr<Model<T>> construct(const ModelConfig& c, const ModelShape& s, uint64_t seed) {
  return std::make_unique<M<T>>(c, s, seed);
}
}  // namespace detail

template <template <class> class M>
ModelFamily model_entry(std::string name, void (*validate)(const ModelConfig&),
                        void (*check)(const ModelConfig&, const ModelShape&)) {
  return {std::move(name), validate, check, &detail::construct<M, float>,
          &detail::construct<M, double>};
}

}  // namespace gradscope
