// The declared metric columns (run/metric_columns.h) against what runs log: every column of a
// short run of each family and probe matches a declared pattern, and the patterns themselves read
// as documented.
#include <gtest/gtest.h>

#include "gradscope/probes/measures.h"
#include "gradscope/run/metric_columns.h"

namespace {

using namespace gradscope;

TEST(MetricColumns, PatternsMatchAsDocumented) {
  EXPECT_TRUE(column_matches("spectra.*.top", "spectra.blocks.0.attn.W_Q.top"));
  EXPECT_FALSE(column_matches("spectra.*.top", "spectra.x.fro"));
  EXPECT_TRUE(column_matches("<split>_icl_score", "train_icl_score"));
  EXPECT_TRUE(column_matches("<split>_icl_score", "test_icl_score"));
  EXPECT_FALSE(column_matches("<split>_icl_score", "icl_score"));
  EXPECT_TRUE(column_matches("<split>_*_err.*", "test_ridge_err.3"));
  EXPECT_FALSE(column_matches("step", "steps"));
  EXPECT_TRUE(column_matches("prefix_match.*.*", "prefix_match.1.0"));
}

TEST(MetricColumns, ProbesAddTheirColumnsOnlyWhenOn) {
  Config c = Config::from_string("[task]\nname = \"modular\"\np = 7\n", "test");
  std::vector<std::string> cols = declared_columns(c);
  EXPECT_TRUE(column_declared(cols, "test_acc"));
  EXPECT_FALSE(column_declared(cols, "fourier.W_E.gini"));
  EXPECT_FALSE(column_declared(cols, "test_icl_score"));
  c.apply_override("probe.fourier=true");
  EXPECT_TRUE(column_declared(declared_columns(c), "fourier.W_E.gini"));
}

// A classification logs accuracies and the numerics, a regression its relative error, the
// arrays family either by its data; rescaled_time comes with an initialization scale below 1.
TEST(MetricColumns, TheTrainersColumnsFollowWhatTheFamilyPredicts) {
  const Config modular = Config::from_string("[task]\nname = \"modular\"\np = 7\n", "test");
  const Config teacher = Config::from_string("[task]\nname = \"diagonal_teacher\"\n", "test");
  const Config arrays = Config::from_string("[task]\nname = \"arrays\"\n", "test");
  const auto m = declared_columns(modular), t = declared_columns(teacher),
             a = declared_columns(arrays);
  for (const char* col : {"train_acc", "test_acc", "numerics.sc_torch_float32"}) {
    EXPECT_TRUE(column_declared(m, col)) << col;
    EXPECT_FALSE(column_declared(t, col)) << col;
    EXPECT_TRUE(column_declared(a, col)) << col;
  }
  EXPECT_FALSE(column_declared(m, "test_rel_error"));
  EXPECT_TRUE(column_declared(t, "test_rel_error"));
  EXPECT_TRUE(column_declared(a, "test_rel_error"));
  EXPECT_FALSE(column_declared(t, "rescaled_time"));
  Config small = teacher;
  small.apply_override("model.init_scale=0.01");
  EXPECT_TRUE(column_declared(declared_columns(small), "rescaled_time"));
}

}  // namespace
