#!/usr/bin/env bash
# The `slurm`-labelled integration test: a sweep as a real Slurm job array on a one-node cluster
# started here (scripts/slurm-local.sh). Checks that every run of the sweep is done exactly once
# and indexed, that a second submission finds nothing to do, and that cancelling one array task
# mid-run and resubmitting completes the sweep with no run lost or done twice.
# Usage: slurm_sweep_test.sh GRADSCOPE_BINARY SOURCE_DIR. Exit 77 (skipped) where slurm-wlm and
# munge cannot be installed or the test does not run as root.
set -euo pipefail
GS=$1
SRC=$2
skip() {
  echo "SKIPPED: $*"
  exit 77
}
fail() {
  echo "FAILED: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || skip "starting slurmctld and slurmd needs root"
if ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  "$SRC/scripts/install-deps.sh" --slurm >/dev/null 2>&1 ||
    skip "slurm-wlm and munge cannot be installed here (scripts/install-deps.sh --slurm failed)"
fi

export GRADSCOPE_SLURM_DIR
GRADSCOPE_SLURM_DIR=$(mktemp -d /tmp/gradscope-slurm-test.XXXXXX)
export GRADSCOPE_SLURM_PORT=${GRADSCOPE_SLURM_PORT:-6917}
WORK=$(mktemp -d "/tmp/gradscope slurm work.XXXXXX")  # a space in every path the scripts write
cleanup() {
  "$SRC/scripts/slurm-local.sh" stop || true
  rm -rf "$WORK"
}
trap cleanup EXIT
T0=$(date +%s)
eval "$("$SRC/scripts/slurm-local.sh" start)"
echo "cluster up in $(($(date +%s) - T0)) s"
cd "$WORK"
EXP=$SRC/examples/grok-mlp-small.toml

# Waits (at most $2 seconds) until job $1 has left the queue.
wait_job() {
  local deadline=$(($(date +%s) + $2))
  while [[ -n $(squeue -h -j "$1" 2>/dev/null) ]]; do
    (($(date +%s) < deadline)) || fail "job $1 still queued after $2 s: $(squeue -j "$1")"
    sleep 0.5
  done
}
finished() { find "runs/$1" -mindepth 2 -maxdepth 2 -name summary.json | wc -l; }
indexed() { "$GS" ls sweep="$1" --index runs/index.sqlite | tail -n 1 | cut -d' ' -f1; }
# Every run's log holds at most `$2` run starts, and every metrics file has strictly increasing steps.
check_once() {
  local log n
  for log in runs/"$1"/logs/*.log; do
    n=$(grep -c "^gradscope run " "$log" || true)
    ((n <= $2)) || fail "$log: the run started $n times"
  done
  for m in runs/"$1"/*/metrics.jsonl; do
    grep -o '^{"step":[0-9]*' "$m" | cut -d: -f2 |
      awk 'NR > 1 && $1 <= prev { bad = 1 } { prev = $1 } END { exit bad }' ||
      fail "$m: a step logged twice"
  done
}

# 1. Nine runs as an array of four tasks: each done exactly once, all indexed.
ARGS=(name=slurm-grid train.steps=400 probe.spectra=false optim.weight_decay=0.1,0.3,1
  task.train_fraction=0.5,0.6,0.7)
"$GS" sweep "$EXP" "${ARGS[@]}" --root "$WORK/runs" --slurm-script --tasks 4 --cpus 1 >grid.sbatch
grep -q -- "--array=0-3" grid.sbatch || fail "the script does not ask for --array=0-3"
job=$(sbatch --parsable grid.sbatch)
wait_job "$job" 300
[[ $(finished slurm-grid) -eq 9 ]] || fail "$(finished slurm-grid) of 9 runs finished"
[[ $(indexed slurm-grid) -eq 9 ]] || fail "the index holds $(indexed slurm-grid) of 9 runs"
check_once slurm-grid 1
for t in 0 1 2 3; do
  grep -q "shard $t/4" runs/slurm-logs/slurm-grid-"${job}"_"$t".out || fail "task $t did not run shard $t/4"
done
echo "array of 4 tasks: 9 runs, each once, all indexed ($(($(date +%s) - T0)) s)"

# 2. A second submission finds nothing to do.
job2=$(sbatch --parsable grid.sbatch)
wait_job "$job2" 120
for t in 0 1 2 3; do
  grep -qE "[0-9]+ already complete" runs/slurm-logs/slurm-grid-"${job2}"_"$t".out ||
    fail "task $t of the resubmission did not skip its runs"
  grep -qE "0/0 done" runs/slurm-logs/slurm-grid-"${job2}"_"$t".out ||
    fail "task $t of the resubmission ran something"
done
check_once slurm-grid 1
echo "resubmission: nothing to do ($(($(date +%s) - T0)) s)"

# 3. Cancel one array task mid-run, resubmit: complete, nothing lost, nothing done twice.
ARGS=(name=slurm-cancel train.steps=3000 train.checkpoint_every=200 probe.spectra=false
  optim.weight_decay=0.1,0.3,1,3 task.train_fraction=0.5,0.6)
"$GS" sweep "$EXP" "${ARGS[@]}" --root "$WORK/runs" --slurm-script --tasks 2 --cpus 1 >cancel.sbatch
job3=$(sbatch --parsable cancel.sbatch)
deadline=$(($(date +%s) + 120))
until compgen -G "runs/slurm-cancel/*/checkpoints/step_00000200.ckpt" >/dev/null &&
  [[ -n $(squeue -h -j "${job3}_1" -t RUNNING 2>/dev/null) ]]; do
  (($(date +%s) < deadline)) || fail "task 1 never ran"
  sleep 0.2
done
scancel "${job3}_1"
wait_job "$job3" 300
before=$(finished slurm-cancel)
((before < 8)) || fail "all 8 runs finished before the cancel took effect"
job4=$(sbatch --parsable cancel.sbatch)
wait_job "$job4" 300
[[ $(finished slurm-cancel) -eq 8 ]] || fail "$(finished slurm-cancel) of 8 runs after resubmitting"
[[ $(indexed slurm-cancel) -eq 8 ]] || fail "the index holds $(indexed slurm-cancel) of 8 runs"
check_once slurm-cancel 2 # a cancelled run resumes once, from its checkpoint
echo "scancel of task 1 ($before of 8 runs finished), resubmitted: 8 runs, none twice ($(($(date +%s) - T0)) s)"
# 4. An array whose ids break the MIN/COUNT mapping is refused, saying how to submit.
job5=$(sbatch --parsable --array=1,3,9 grid.sbatch)
wait_job "$job5" 120
for t in 1 3 9; do
  grep -q "does not map onto shards" runs/slurm-logs/slurm-grid-"${job5}"_"$t".out &&
    grep -q -- "--array=0-2" runs/slurm-logs/slurm-grid-"${job5}"_"$t".out ||
    fail "task $t of --array=1,3,9 was not refused: $(cat runs/slurm-logs/slurm-grid-"${job5}"_"$t".out)"
done
check_once slurm-grid 1
echo "--array=1,3,9 refused ($(($(date +%s) - T0)) s)"

# 5. Replica groups: 12 runs (6 seeds at 2 split sizes) as 4 groups of 3, an array of 2 tasks
# that train 2 groups each on 2 threads: every run once, all indexed.
ARGS=(name=slurm-replicas train.steps=400 probe.spectra=false seed=0,1,2,3,4,5
  task.train_fraction=0.5,0.6)
"$GS" sweep "$EXP" "${ARGS[@]}" --root "$WORK/runs" --slurm-script --tasks 2 --cpus 2 \
  --replicas 3 >replicas.sbatch
grep -q -- "--replicas 3" replicas.sbatch || fail "the script does not pass --replicas 3"
job6=$(sbatch --parsable replicas.sbatch)
wait_job "$job6" 300
[[ $(finished slurm-replicas) -eq 12 ]] || fail "$(finished slurm-replicas) of 12 runs finished"
[[ $(indexed slurm-replicas) -eq 12 ]] || fail "the index holds $(indexed slurm-replicas) of 12 runs"
[[ $(find runs/slurm-replicas/logs -name '*.group.log' | wc -l) -eq 4 ]] ||
  fail "not 4 replica groups: $(ls runs/slurm-replicas/logs)"
check_once slurm-replicas 1
echo "replica groups: 12 runs in 4 groups of 3 on 2 tasks, each once ($(($(date +%s) - T0)) s)"
echo "PASSED in $(($(date +%s) - T0)) s"
