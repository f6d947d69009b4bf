// THE run-directory contract: the name of every file gradscope writes, in one place. No other
// file under src/ spells these names; docs/FORMATS.md specifies each file's content.
//
//   <run>/config.toml               the resolved config (config/config.h)
//   <run>/data.npz                  the run's copy of the user's data file (task.path; arrays)
//   <run>/metrics.jsonl, .csv       one row per log step (rundir/metrics.h)
//   <run>/summary.json              phases, final metrics, timing (rundir/summary_file.h)
//   <run>/theory.json               a theory's prediction, where one applies
//   <run>/spectra/<matrix>.npy      singular values per probe step; spectra/steps.npy
//   <run>/fourier/<matrix>.npy      Fourier norms per frequency per probe step; fourier/steps.npy
//   <run>/checkpoints/step_<8 digits>.ckpt   (rundir/checkpoint.h); a damaged one found by a
//                                   resume is set aside as step_<8 digits>.ckpt.damaged
//   <run>/heartbeat.json            host, pid, step, speed of a run while it trains
//   <run>/run.lock                  host and pid of the process training the run
//   (rundir/run_lock.h) <run>/<plot>.svg                plots (report/) <sweep>/sweep.json,
//   configs/<id>.toml, logs/<id>.log, failures-shard<i>.json, <id>/ (a run) <root>/index.sqlite the
//   results index (index/)
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gradscope::rundir {

using Path = std::filesystem::path;

Path config_file(const Path& run);
// The run's copy of the file a config key names (a task family's kept_files): task.path ->
// data.npz. Throws std::logic_error for a key without a name here.
Path kept_file(const Path& run, const std::string& key);
Path metrics_jsonl(const Path& run);
Path metrics_csv(const Path& run);
Path summary_file(const Path& run);
Path theory_file(const Path& run);
Path spectra_dir(const Path& run);
Path spectra_file(const Path& run, const std::string& matrix);  // spectra/<matrix>.npy
Path spectra_steps_file(const Path& run);                       // spectra/steps.npy
Path fourier_dir(const Path& run);                              // fourier/
Path fourier_steps_file(const Path& run);                       // fourier/steps.npy
// Measures at checkpoints (run/checkpoint_measures.h), each folder with settings.json, steps.npy
// and its arrays: gradscope llc's llc/ (and llc/trace_<8 digits>.npy per step), gradscope
// hessian's hessian/.
Path llc_dir(const Path& run);
Path llc_trace_file(const Path& run, int64_t step);
Path hessian_dir(const Path& run);
Path checkpoints_dir(const Path& run);
Path inside_dir(const Path& run);  // inside/<step>/ frames (probes/inside.h)
Path checkpoint_file(const Path& run, int64_t step);
Path damaged_checkpoint_file(const Path& run, int64_t step);  // set aside by a resume
Path lock_file(const Path& run);
Path heartbeat_file(const Path& run);
Path plot_file(const Path& run, const std::string& plot);  // <plot>.svg

// Temporary files of atomic writes (<file>.tmp.<pid>) in the run directory and its folders
// (checkpoints/, spectra/, fourier/; one level down): a
// process killed mid-write leaves them; the next one to hold the run's lock removes them.
std::vector<Path> temporary_files(const Path& run);

// Steps of the checkpoints present, ascending.
std::vector<int64_t> list_checkpoints(const Path& run);
// Whether `dir` holds a run (a config.toml).
bool is_run_dir(const Path& dir);
// Whether a file name is a temporary file of an atomic write ("<name>.tmp.<digits>").
bool is_temporary(const std::string& name);
// Whether `entry`, a file or folder in `run`, is one a run has: a file of this contract's, a
// measure folder holding only arrays, JSON and checkpoints, a plot gradscope draws, a temporary
// file of an atomic write. --force replaces a folder only when every entry is one.
bool is_run_entry(const Path& run, const Path& entry);

Path sweep_manifest(const Path& sweep);
Path sweep_configs_dir(const Path& sweep);
Path sweep_config(const Path& sweep, const std::string& id);
Path sweep_logs_dir(const Path& sweep);
Path sweep_log(const Path& sweep, const std::string& id);
// The log of a replica group's own process (each replica's lines are in its sweep_log), named
// after the group's first run: logs/<id>.group.log.
Path sweep_group_log(const Path& sweep, const std::string& first_id);
Path sweep_failures(const Path& sweep, int64_t shard);
// The file a process flocks while it reads and writes the manifest and the failures files.
Path sweep_lock(const Path& sweep);
// Whether `dir` holds a sweep (a manifest), and the files a starting shard may find there.
bool is_sweep_dir(const Path& dir);
bool is_sweep_file(const std::string& name);

// The results index under a runs root.
Path index_file(const Path& root);

}  // namespace gradscope::rundir
