// gradscope._core.Model: a run's model at a checkpoint, run forward with named activations
// cached or replaced (model_binding.cpp).
#pragma once

#include <pybind11/pybind11.h>

namespace gradscope {

void bind_model(pybind11::module_& m);

}  // namespace gradscope
