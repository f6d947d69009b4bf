// Checkpoints: everything a run needs to continue exactly as if uninterrupted, as named buffers of
// one precision (the file layer knows no model or optimizer: run/training_state.h maps a run's
// parameters and optimizer state to these buffers and back).
//
// File checkpoints/step_<8 digits>.ckpt, written atomically (temp file, fsync, rename):
//   8 bytes  magic "GSCKPT01"
//   8 bytes  header length H (little-endian uint64)
//   H bytes  JSON header: format, step, precision, wall_time_s, config (the resolved config.toml
//            text), optimizer {name, steps}, params [{name, shape, offset}], buffers [{name,
//            elements}]
//   the buffers, in header order, as raw little-endian floats of the run's precision:
//            "values" (the flat parameters), "initial" (W_0), then the optimizer's state buffers
//   4 bytes  CRC-32 (zlib's, little-endian) of every byte before it; the header says
//            "checksum": "crc32"
// Loading checks the file's length and checksum, then precision, parameter names and shapes,
// and optimizer name, before touching anything, and names what does not match. A damaged file
// (truncated, bit-flipped, not a checkpoint) throws CheckpointDamaged, so that a resume can fall
// back to the previous checkpoint.
//
// Versions: the header's "format" is "gradscope-checkpoint-<N>". Every change to the layout
// bumps N (kCheckpointFormat) and adds a reader for it; the readers of every older version stay,
// so a checkpoint written by any earlier gradscope still loads (tests/fixtures keeps one of each).
//   1  the layout above without the checksum (gradscope 0.1 to git db21f00)
//   2  the CRC-32 trailer
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/rundir/paths.h"

namespace gradscope {

inline constexpr int kCheckpointFormat = 2;  // the version this build writes

// A checkpoint file that is not whole: truncated, bit-flipped (its checksum does not match), or
// not a gradscope checkpoint at all. what() names the file and the damage.
struct CheckpointDamaged : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One parameter of the table the parameter-sized buffers share.
struct CheckpointParam {
  std::string name;
  std::vector<int64_t> shape;
  int64_t offset = 0;  // elements into each parameter-sized buffer
  bool operator==(const CheckpointParam&) const = default;
};

// What a checkpoint holds beside its header's step, time and config: the optimizer's name and
// step count, the parameter table, and the buffers in file order ("values", "initial", then the
// optimizer's "optim.<state>"). Saving reads the spans; loading checks the file against everything
// here, then fills the spans.
template <class T>
struct CheckpointBuffers {
  std::string optimizer;  // sgd | adam | adamw
  int64_t optimizer_steps = 0;
  std::vector<CheckpointParam> params;
  std::vector<std::pair<std::string, std::span<T>>> buffers;
};

template <class T>
void save_checkpoint(const std::filesystem::path& path, int64_t step, double wall_time_s,
                     const std::string& config_toml, const CheckpointBuffers<T>& contents);

struct CheckpointInfo {
  int format = 0;  // the layout version it was written in
  int64_t step = 0;
  double wall_time_s = 0;
  std::string config_toml;  // the config the run was started with
  std::string precision;    // float32 | float64
  std::string optimizer;    // sgd | adam | adamw
  int64_t optimizer_steps = 0;
};

// The header of a checkpoint, without its buffers (any version; reads the header only, so the
// checksum is not verified). Throws CheckpointDamaged naming the file when it is not a gradscope
// checkpoint, std::runtime_error when it is of a newer format than this build reads.
CheckpointInfo read_checkpoint_info(const std::filesystem::path& path);

// Where a checkpoint's arrays lie in its file, for readers that map the file instead of loading a
// model (the Python module): the parameter table and each buffer's byte range (any version).
struct CheckpointLayout {
  using Param = CheckpointParam;
  struct Buffer {
    std::string name;  // "values", "initial", then the optimizer's state buffers
    int64_t elements = 0, byte_offset = 0;
  };
  CheckpointInfo info;
  int element_size = 0;  // 4 (float32) or 8 (float64)
  std::vector<Param> params;
  std::vector<Buffer> buffers;
};
// Verifies the checksum (format 2 on). Throws CheckpointDamaged naming the file when it is not a
// checkpoint, shorter than its buffers or its checksum does not match; std::runtime_error when
// it is of a newer format.
CheckpointLayout read_checkpoint_layout(const std::filesystem::path& path);

// Fills `into`'s spans from the file after checking its precision, optimizer name, parameter
// table and buffer names and sizes against `into` (its optimizer_steps is not read: the returned
// info has the file's). Throws CheckpointDamaged for a damaged file and std::runtime_error naming
// the file and what does not match; in either case no span was changed.
template <class T>
CheckpointInfo load_checkpoint(const std::filesystem::path& path, const CheckpointBuffers<T>& into);

}  // namespace gradscope
