// Pieces the models share: activations and the message of a bad model.* value.
#pragma once

#include <stdexcept>
#include <string>

#include "gradscope/autograd/ops.h"
#include "gradscope/nn/models.h"

namespace gradscope {

// relu | gelu | gelu_tanh | square of x.
template <class T>
Var activate(Tape<T>& t, Var x, Activation activation) {
  if (activation == Activation::relu) return relu(t, x);
  if (activation == Activation::gelu) return gelu(t, x);
  if (activation == Activation::gelu_tanh) return gelu_tanh(t, x);
  return square(t, x);
}

// Throws std::invalid_argument "model.<key> = <value> (valid: <valid>)".
[[noreturn]] inline void bad_model_option(const std::string& key, const std::string& value,
                                          const std::string& valid) {
  throw std::invalid_argument("model." + key + " = " + value + " (valid: " + valid + ")");
}

// An enum-valued model key's value as its message quotes it: "\"gelu\"".
template <class E>
std::string quoted(const char* key, E value) {
  return "\"" + option_name(key, value) + "\"";
}

}  // namespace gradscope
