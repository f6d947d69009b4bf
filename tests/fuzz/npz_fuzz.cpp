// Fuzz target: the user's .npz data (tasks/npz.h parse_npz) and its conversion to task data for
// every kind of model reader (tasks/arrays.h).
#include <stdexcept>

#include "fuzz_support.h"
#include "gradscope/tasks/arrays.h"
#include "gradscope/tensor/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gradscope::ArraysReader;
  std::map<std::string, gradscope::NpyArray> arrays;
  try {
    arrays = gradscope::parse_npz(gradscope_fuzz::text(data, size), "fuzz.npz");
  } catch (const std::invalid_argument&) {
    return 0;
  }
  (void)gradscope::arrays_hash(arrays);
  for (auto [reader, transformer] :
       {std::pair{ArraysReader::tokens, true}, std::pair{ArraysReader::tokens, false},
        std::pair{ArraysReader::features, false}}) {
    try {
      (void)gradscope::arrays_task_data(arrays, "fuzz.npz", reader, transformer);
    } catch (const std::invalid_argument&) {
    }
  }
  return 0;
}
