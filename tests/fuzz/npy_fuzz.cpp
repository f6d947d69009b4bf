// Fuzz target: .npy arrays (tasks/npz.h parse_npy, and the float32 reader of spectra and Fourier
// norms, probes/npy.h).
#include <stdexcept>

#include "fuzz_support.h"
#include "gradscope/tensor/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = gradscope_fuzz::text(data, size);
  try {
    const gradscope::NpyArray a = gradscope::parse_npy(bytes, "fuzz.npy");
    double sum = 0;
    for (int64_t i = 0; i < a.size(); ++i) sum += a.real(i);
    (void)sum;
    (void)a.shape_text();
  } catch (const std::invalid_argument&) {
  }
  try {
    int64_t rows = 0, cols = 0;
    (void)gradscope::decode_npy_f32(bytes, rows, cols, "fuzz.npy");
  } catch (const std::runtime_error&) {
  }
  return 0;
}
