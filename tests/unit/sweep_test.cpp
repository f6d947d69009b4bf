// Sweeps: expansion order and run ids, command-line axes (added, or replacing the file's), bad
// keys, sharding and the Slurm array mapping.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "gradscope/sweep/replica_groups.h"
#include "gradscope/sweep/runner.h"
#include "gradscope/sweep/sweep_spec.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;

fs::path write_experiment(const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("gradscope_sweep_" + std::to_string(::getpid()) +
                                                  "_" + std::to_string(std::rand()) + ".toml");
  std::ofstream(p) << text;
  return p;
}

const char* kBase =
    "name = \"s\"\nseed = 3\n[task]\np = 31\n[model]\ntype = \"mlp\"\n"
    "mlp_form = \"concat\"\n[train]\nsteps = 10\n";

TEST(Sweep, GridOrderSeedsAndStableIds) {
  const fs::path f = write_experiment(std::string(kBase) +
                                      "[sweep]\noptim.weight_decay = [0.1, 1]\n"
                                      "task.train_fraction = [0.3, 0.5, 0.7]\nseeds = 2\n");
  Config base;
  const SweepSpec spec = read_sweep(f, {}, base);
  const auto runs = expand_sweep(base, spec);
  ASSERT_EQ(runs.size(), 12u);
  // Last axis fastest, seeds innermost.
  EXPECT_EQ(runs[0].axes, (std::vector<std::string>{"optim.weight_decay=0.1",
                                                    "task.train_fraction=0.3", "seed=3"}));
  EXPECT_EQ(runs[1].axes[2], "seed=4");
  EXPECT_EQ(runs[2].axes[1], "task.train_fraction=0.5");
  EXPECT_EQ(runs[6].axes[0], "optim.weight_decay=1.0");
  EXPECT_DOUBLE_EQ(runs[6].config.real("optim.weight_decay"), 1.0);
  EXPECT_EQ(runs[1].config.integer("seed"), 4);
  std::set<std::string> ids;
  for (const auto& r : runs) ids.insert(r.id);
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_EQ(runs[0].config.string("name"), "s-" + runs[0].id.substr(0, 8));
  // The id is the config's hash, independent of the name: the same point in another sweep (or a
  // single run with the same settings) has the same id.
  Config same = runs[0].config;
  same.set("name", std::string("other"));
  EXPECT_EQ(config_hash(same), runs[0].id);
  EXPECT_EQ(expand_sweep(base, spec)[7].id, runs[7].id);
  fs::remove(f);
}

// Replica groups: runs that differ only in replica-safe keys share a group, up to K runs each, in
// expansion order; any other difference (the split's size, weight norm on or off) parts them, and
// the grouping never changes the runs or their ids.
TEST(Sweep, ReplicaGroupsJoinRunsThatDifferOnlyInReplicaSafeKeys) {
  const fs::path f = write_experiment(kBase);
  Config base;
  const SweepSpec spec = read_sweep(
      f, {"task.train_fraction=0.3,0.5", "optim.lr=1e-3,3e-3", "optim.weight_norm=0,20,30"}, base);
  const auto runs = expand_sweep(base, spec);  // fraction, then lr, then weight norm fastest
  ASSERT_EQ(runs.size(), 12u);
  auto text = [&](const std::vector<std::vector<size_t>>& groups) {
    std::string t;
    for (const auto& g : groups) {
      t += "[";
      for (size_t i : g) t += std::to_string(i) + (i == g.back() ? "" : " ");
      t += "]";
    }
    return t;
  };
  // Weight norm 0 is its own group; 20 and 30 (both on) join across learning rates.
  EXPECT_EQ(text(replica_groups(runs, 8)), "[0 3][1 2 4 5][6 9][7 8 10 11]");
  EXPECT_EQ(text(replica_groups(runs, 3)), "[0 3][1 2 4][5][6 9][7 8 10][11]");
  EXPECT_EQ(text(replica_groups(runs, 1)), "[0][1][2][3][4][5][6][7][8][9][10][11]");
  EXPECT_EQ(replica_group_key(runs[1].config), replica_group_key(runs[5].config));
  EXPECT_NE(replica_group_key(runs[0].config), replica_group_key(runs[1].config));
  EXPECT_NE(replica_group_key(runs[1].config), replica_group_key(runs[7].config));
  // Seeds and split seeds join too; the model's width does not.
  Config a = runs[1].config, b = a;
  b.set("seed", int64_t{9});
  b.set("task.split_seed", int64_t{4});
  b.set("optim.weight_decay", 0.1);
  EXPECT_EQ(replica_group_key(a), replica_group_key(b));
  b.set("model.d_hidden", int64_t{7});
  EXPECT_NE(replica_group_key(a), replica_group_key(b));
  fs::remove(f);
}

TEST(Sweep, CommandLineAxesAndBaseOverrides) {
  const fs::path f = write_experiment(kBase);
  Config base;
  const SweepSpec spec =
      read_sweep(f, {"optim.weight_decay=0,0.3,1", "train.steps=20", "task.p=29,31"}, base);
  EXPECT_EQ(base.integer("train.steps"), 20);
  ASSERT_EQ(spec.axes.size(), 2u);
  EXPECT_EQ(spec.axes[0].key, "optim.weight_decay");
  EXPECT_EQ(spec.axes[1].values.size(), 2u);
  EXPECT_EQ(expand_sweep(base, spec).size(), 6u);
  fs::remove(f);
}

TEST(Sweep, CommandLineReplacesTheFilesAxisOfAKey) {
  const fs::path f = write_experiment(std::string(kBase) +
                                      "[sweep]\noptim.weight_decay = [0.1, 1]\n"
                                      "task.train_fraction = [0.3, 0.5, 0.7]\n");
  Config base;
  // A list takes the file axis's place (refining a sweep without editing its file) ...
  SweepSpec spec = read_sweep(f, {"optim.weight_decay=0.2,0.4,0.8"}, base);
  ASSERT_EQ(spec.axes.size(), 2u);
  EXPECT_EQ(spec.axes[0].key, "optim.weight_decay");
  EXPECT_EQ(spec.axes[0].values.size(), 3u);
  EXPECT_EQ(expand_sweep(base, spec).size(), 9u);
  // ... a single value removes it and sets the base ...
  spec = read_sweep(f, {"task.train_fraction=0.4", "optim.weight_decay=0,1"}, base);
  ASSERT_EQ(spec.axes.size(), 1u);
  EXPECT_EQ(spec.axes[0].key, "optim.weight_decay");
  EXPECT_DOUBLE_EQ(base.real("task.train_fraction"), 0.4);
  // ... and the same key twice on the command line is refused.
  EXPECT_THROW(read_sweep(f, {"optim.weight_decay=0,1", "optim.weight_decay=2,3"}, base),
               ConfigError);
  fs::remove(f);
}

TEST(Sweep, RandomModeIsDeterministicAndDrawsDistinctPoints) {
  const fs::path f = write_experiment(std::string(kBase) +
                                      "[sweep]\nmode = \"random\"\nn = 7\n"
                                      "optim.lr = [1e-4, 3e-4, 1e-3, 3e-3]\n"
                                      "optim.weight_decay = [0.1, 1]\n");
  Config base;
  const SweepSpec spec = read_sweep(f, {}, base);
  const auto a = expand_sweep(base, spec), b = expand_sweep(base, spec);
  ASSERT_EQ(a.size(), 7u);  // of the grid's 8 points: with replacement, 7 draws repeat one 98%
  std::set<std::string> ids;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    ids.insert(a[i].id);
  }
  EXPECT_EQ(ids.size(), 7u);
  try {
    read_sweep(f, {"optim.weight_decay=0.1"}, base);  // 4 points left for n = 7
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("sweep.n = 7 is more than the grid's 4 points"),
              std::string::npos)
        << e.what();
  }
  fs::remove(f);
}

// Each run once: a value listed twice, a seed axis beside sweep.seeds, and points the axes do not
// tell apart (the run name is not part of a run's settings) are refused before anything runs.
TEST(Sweep, ARunIsNeverListedTwice) {
  const fs::path f = write_experiment(std::string(kBase) + "[sweep]\nseeds = 2\n");
  const fs::path g = write_experiment(std::string(kBase) + "[sweep]\noptim.lr = [1e-3, 0.001]\n");
  Config base;
  auto refused = [&](const fs::path& file, std::vector<std::string> args, const std::string& what) {
    try {
      expand_sweep(base, read_sweep(file, args, base));
      ADD_FAILURE() << "accepted; want: " << what;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  const fs::path both =
      write_experiment(std::string(kBase) + "[sweep]\nseeds = 2\nseed = [5, 6]\n");
  refused(both, {}, "[sweep] has a seed axis and seeds = 2");
  fs::remove(both);
  // On the command line a list of seeds replaces the file's seeds = N; one value moves its start.
  const auto listed = expand_sweep(base, read_sweep(f, {"seed=5,9"}, base));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[1].config.integer("seed"), 9);
  refused(f, {"optim.weight_decay=0.1,0.1"}, "sweep key optim.weight_decay lists 0.1 twice");
  refused(f, {"optim.weight_decay=1,1.0"}, "lists 1.0 twice");
  refused(g, {}, "sweep key optim.lr lists 0.001 twice");
  refused(f, {"name=a,b"}, "are the same run");
  EXPECT_EQ(expand_sweep(base, read_sweep(f, {"seed=5"}, base)).size(), 2u);  // seeds 5 and 6
  fs::remove(f);
  fs::remove(g);
}

TEST(Sweep, BadKeysAndValuesFailBeforeAnythingRuns) {
  const fs::path f = write_experiment(std::string(kBase) + "[sweep]\noptim.weight_decy = [1]\n");
  Config base;
  try {
    read_sweep(f, {}, base);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'optim.weight_decay'"), std::string::npos)
        << e.what();
  }
  const fs::path g = write_experiment(kBase);
  EXPECT_THROW(read_sweep(g, {"optim.weight_decy=1,2"}, base), ConfigError);
  EXPECT_THROW(read_sweep(g, {"train.steps=10,abc"}, base), ConfigError);
  // A value that is valid for the type but not for the key: caught at expansion, naming the point.
  const SweepSpec spec = read_sweep(g, {"task.train_fraction=0.5,1.5"}, base);
  try {
    expand_sweep(base, spec);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("task.train_fraction = 1.5"), std::string::npos)
        << e.what();
  }
  fs::remove(f);
  fs::remove(g);
}

TEST(Shard, ParsingAndTheSlurmArrayMapping) {
  EXPECT_EQ(parse_shard("2/5").index, 2);
  EXPECT_EQ(parse_shard("2/5").count, 5);
  EXPECT_THROW(parse_shard("5/5"), ConfigError);
  EXPECT_THROW(parse_shard("1-4"), ConfigError);
  Shard s;
  ::unsetenv("SLURM_ARRAY_TASK_ID");
  EXPECT_FALSE(shard_from_slurm(s));
  ::setenv("SLURM_ARRAY_TASK_ID", "7", 1);
  ::setenv("SLURM_ARRAY_TASK_MIN", "5", 1);
  ::setenv("SLURM_ARRAY_TASK_MAX", "8", 1);
  ::setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
  ASSERT_TRUE(shard_from_slurm(s));
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 4);
  // --array=1,3,9: min 1, max 9, count 3 does not map onto 0..2.
  ::setenv("SLURM_ARRAY_TASK_ID", "9", 1);
  ::setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
  ::setenv("SLURM_ARRAY_TASK_MAX", "9", 1);
  ::setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
  try {
    shard_from_slurm(s);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--array=0-2"), std::string::npos) << e.what();
  }
  for (const char* v : {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
                        "SLURM_ARRAY_TASK_COUNT"})
    ::unsetenv(v);
}

// Paths in the Slurm scripts: one bash word each (a ' inside closes, escapes and reopens), and an
// #SBATCH value in double quotes only where sbatch would split or unquote it.
TEST(Sweep, ScriptPathsAreQuotedAsOneWord) {
  EXPECT_EQ(shell_quote("/tmp/a b"), "'/tmp/a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(sbatch_quote("/tmp/runs/x-%A_%a.out"), "/tmp/runs/x-%A_%a.out");
  EXPECT_EQ(sbatch_quote("/tmp/my runs/x.out"), "\"/tmp/my runs/x.out\"");
  EXPECT_EQ(sbatch_quote("/tmp/a\"b\\c"), "\"/tmp/a\\\"b\\\\c\"");
  EXPECT_EQ(sbatch_quote("/tmp/run#2/x.out"), "\"/tmp/run#2/x.out\"");
  EXPECT_EQ(sbatch_percent("/tmp/100%/x"), "/tmp/100%%/x");
}

}  // namespace
}  // namespace gradscope
