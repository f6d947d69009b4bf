// Fuzz target: text corpora (tasks/text_corpus.h, tasks/text.h): the UTF-8 decoder, which must
// round-trip whatever it accepts, and the text task built over the input as a file under both
// alphabets (splits, evaluation windows, the repeated-token probe, a training batch).
#include <stdexcept>

#include "fuzz_support.h"
#include "gradscope/tasks/text.h"
#include "gradscope/tasks/text_corpus.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = gradscope_fuzz::text(data, size);
  try {
    if (gradscope::to_utf8(gradscope::from_utf8(bytes, "fuzz")) != bytes) __builtin_trap();
  } catch (const std::invalid_argument&) {
  }
  const std::string path = gradscope_fuzz::write_input("corpus.txt", data, size).string();
  for (const char* alphabet : {"chars", "bytes"}) {
    gradscope::TextTaskConfig c;
    c.path = path;
    c.alphabet = gradscope::option_named<gradscope::Alphabet>("task.alphabet", alphabet);
    c.seq_len = 3;
    c.block_len = 4;
    c.n_eval = 4;
    try {
      gradscope::TaskData d = gradscope::make_text_task(c);
      gradscope::Dataset batch;
      d.sample(1, 0, 2, batch);
    } catch (const std::invalid_argument&) {
    }
  }
  return 0;
}
