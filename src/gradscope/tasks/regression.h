// Regression tasks of the rank-dynamics experiments (REFERENCES 2), the task families
// "diagonal_teacher", "lowrank_teacher" and "matrix_completion": a teacher maps inputs to real
// targets and the loss is 1/2 mean over examples of ||y - f(x)||^2. Their runs log the teacher's
// mode strengths in the model (probes/measures.h, teacher_modes) where the teacher is linear.
//
//   diagonal_teacher   y = <w*, x>, w* = task.target (zero-padded to task.dim).
//   lowrank_teacher    linear: y = x W*, W* [d, d] = sum_i s_i v_i u_i^T with s = task.target and
//                      random (or identity) orthonormal singular vectors.
//                      attention: one head with diagonal weights reads a sequence x [L, d]:
//                      y = (sum_j a_j x_j) (.) vo, a = softmax_j(<x_L (.) qk, x_j> / sqrt(d)),
//                      qk = task.target, vo = task.target_vo (or task.target).
//   matrix_completion  an n x n rank-r target M (||M||_F = n); the training set is m observed
//                      entries (input id i*n + j, target M_ij), the test set every other entry.
//
// Inputs "whitened" are sqrt(d) e_1 .. sqrt(d) e_d (E[x x^T] = I exactly, so the training loss
// is the population loss); "gaussian" are task.n_samples standard normal draws. Test sets are
// task.n_test fresh Gaussian draws. Teacher and data come from Rng(split_seed, ...) streams.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/tasks/dataset.h"

namespace gradscope {

// What a regression task knows about its target, for theory and for mode-strength metrics
// (TaskData::extra). Linear teachers are y = x W* with W* [in_dim, out_dim] = sum_i s_i v_i u_i^T.
struct Teacher final : FamilyData {
  std::vector<double> values;  // w* (diagonal_teacher) or singular values s_i (as given)
  int64_t in_dim = 0, out_dim = 0;
  std::vector<double> in_vectors;   // [k, in_dim]  v_i (empty: not a linear teacher)
  std::vector<double> out_vectors;  // [k, out_dim] u_i
};

// The enum-valued task.* keys of the regression teachers, in the schema's order.
enum class TeacherKind { linear, attention };
enum class TeacherBasis { random, identity };
enum class TeacherInputs { whitened, gaussian };

// The task.* keys of the regression teachers (config/options.h: defaults, valid values and help
// in config/schema.cpp).
struct RegressionTaskConfig {
  // Not the key's default: which of this file's families (task.name, set by regression_options).
  std::string name = "diagonal_teacher";  // diagonal_teacher | lowrank_teacher | matrix_completion
  std::vector<double> target = option<std::vector<double>>("task.target");  // w* or singular values
  // attention teacher: W_V W_O diagonal (empty: target)
  std::vector<double> target_vo = option<std::vector<double>>("task.target_vo");
  TeacherKind teacher = option<TeacherKind>("task.teacher");  // lowrank_teacher
  TeacherBasis teacher_basis = option<TeacherBasis>("task.teacher_basis");
  TeacherInputs inputs = option<TeacherInputs>("task.inputs");
  int64_t dim = option<int64_t>("task.dim");              // input dimension (0: target length)
  int64_t seq_len = option<int64_t>("task.seq_len");      // attention teacher
  int64_t n_samples = option<int64_t>("task.n_samples");  // gaussian train draws
  int64_t n_test = option<int64_t>("task.n_test");        // test draws
  int64_t size = option<int64_t>("task.size");            // matrix completion
  int64_t rank = option<int64_t>("task.rank");
  int64_t observed = option<int64_t>("task.observed");
  uint64_t split_seed = option<uint64_t>("task.split_seed");

  int64_t input_dim() const { return dim > 0 ? dim : static_cast<int64_t>(target.size()); }
  bool operator==(const RegressionTaskConfig&) const = default;
};
RegressionTaskConfig regression_options(const Config& config);

// Throws std::invalid_argument naming the key (task.target, task.rank, ...) and what is valid.
void validate(const RegressionTaskConfig& c);
TaskData make_regression_task(const RegressionTaskConfig& c);

}  // namespace gradscope
