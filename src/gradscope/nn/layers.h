// Pieces the models share: activations by name and the message of a bad model.* value.
#pragma once

#include <stdexcept>
#include <string>

#include "gradscope/autograd/ops.h"

namespace gradscope {

// relu | gelu | square of x.
template <class T>
Var activate(Tape<T>& t, Var x, const std::string& activation) {
  if (activation == "relu") return relu(t, x);
  if (activation == "gelu") return gelu(t, x);
  return square(t, x);
}

// Throws std::invalid_argument "model.<key> = <value> (valid: <valid>)".
[[noreturn]] inline void bad_model_option(const std::string& key, const std::string& value,
                                          const std::string& valid) {
  throw std::invalid_argument("model." + key + " = " + value + " (valid: " + valid + ")");
}

}  // namespace gradscope
