// The teacher_modes measure: for a linear teacher y = x W*, W* = sum_i s_i v_i u_i^T, the
// strength v_i^T E u_i of each of its modes in the model's end-to-end matrix E, as mode.<i> (the
// quantity Saxe et al.'s closed form describes). Nothing for other teachers or models.
#include <fmt/core.h>

#include "gradscope/probes/measures.h"
#include "gradscope/tasks/regression.h"

namespace gradscope {
namespace {

template <class T>
void teacher_modes(Model<T>& model, Tape<T>&, const TaskData& data, MetricValues& row) {
  const Teacher* teacher = family_data<Teacher>(data.extra);
  if (!teacher || teacher->in_vectors.empty()) return;
  const Teacher& th = *teacher;
  for (const ProbedMatrix& m : model.probed_matrices()) {
    if (m.name != "end_to_end") continue;
    std::vector<double> E(static_cast<size_t>(m.rows * m.cols));  // [rows, cols]
    model.probed_matrix(m, model.params().values(), E.data());
    for (size_t i = 0; i < th.values.size(); ++i) {
      double u = 0;
      for (int64_t r = 0; r < m.rows; ++r)
        for (int64_t c = 0; c < m.cols; ++c)
          u += th.in_vectors[i * m.rows + r] * E[r * m.cols + c] * th.out_vectors[i * m.cols + c];
      row.emplace_back(fmt::format("mode.{}", i), u);
    }
  }
}

}  // namespace

Measure teacher_modes_measure() {
  return with_columns(GRADSCOPE_MODEL_MEASURE("teacher_modes", teacher_modes), {"mode.*"});
}

}  // namespace gradscope
