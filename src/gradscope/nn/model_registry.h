// The model registry: every model family by its model.type, a table iterated by the code that
// builds models. A new model is one file (its class, its checks and a function returning its
// entry) plus one line in nn/model_registry.def; tests and plugins may add entries at run time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gradscope/nn/models.h"

namespace gradscope {

template <class T>
using ModelMaker = std::unique_ptr<Model<T>> (*)(const ModelConfig&, const ModelShape&, uint64_t);

struct ModelFamily {
  std::string name;  // the model.type value
  // Checks the family's model.* keys; throws std::invalid_argument naming "model.<key>".
  void (*validate)(const ModelConfig&) = nullptr;
  // Throws std::invalid_argument, naming what the model reads, when it cannot read data of this
  // shape (nullptr: it reads any).
  void (*check)(const ModelConfig&, const ModelShape&) = nullptr;
  // Build the model for data of this shape, draw its initial weights from Rng(seed, "init")
  // and save W_0.
  ModelMaker<float> make_float = nullptr;
  ModelMaker<double> make_double = nullptr;
};

// Every registered family: the built-in ones (model_registry.def), then those added at run time.
const std::vector<ModelFamily>& model_families();
// The family of model.type `type`. Throws std::invalid_argument listing the valid types.
const ModelFamily& find_model_family(const std::string& type);
// Adds a family (its type must be new). Not thread-safe: call before building models.
void register_model_family(const ModelFamily& family);

// The model of config.type for data of this shape, from the registry (validates the config).
template <class T>
std::unique_ptr<Model<T>> make_model(const ModelConfig& config, const ModelShape& shape,
                                     uint64_t seed);

// The entry of a family whose model is one class M<T>, constructed as M<T>(config, shape, seed).
template <template <class> class M>
ModelFamily model_entry(std::string name, void (*validate)(const ModelConfig&),
                        void (*check)(const ModelConfig&, const ModelShape&) = nullptr);

}  // namespace gradscope

#include "gradscope/nn/model_registry_impl.h"
