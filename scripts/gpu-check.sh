#!/usr/bin/env bash
# The GPU checks of the CUDA backend, most important first, in about 5 minutes on an H200:
#   1. the gpu tests (tests/device: oracle configs against the CPU, the float64 trajectory,
#      determinism, kill -9 and resume, refusals)
#   2. the nanda-grokking step on the GPU (bench_workloads nanda ... cuda); then replica groups:
#      per replica-step time of nanda at K = 1, 8, 64 and pair-mlp at K = 1, 64, 512
#      (bench_workloads ... replicas=K) beside a torch.func ensemble (bench/compare/ensemble_peer.py)
#   3. the whole nanda-grokking run to 100 steps past generalization, process wall time
#   4. the other workloads on the GPU (pair-mlp, power, induction)
#   5. PyTorch on the same GPU: eager, then torch.compile (nanda and pair-mlp)
# Usage (from the repository root): scripts/gpu-check.sh [CARRIED_DIR] [OUT_DIR]
# CARRIED_DIR is what scripts/gpu-build.sh made (.gpu); OUT_DIR (default $OUT, the device tool's
# folder) receives summary.txt (also printed) and logs.tar.gz (every log and JSON result).
set -uo pipefail
cd "$(dirname "$0")/.."
CARRY=$(realpath "${1:-.gpu}")
RESULTS=${2:-${OUT:-/tmp/gpu-check}}
OUTDIR=/tmp/gpu-check-logs  # every log; packed into RESULTS/logs.tar.gz at the end
rm -rf "$OUTDIR"
mkdir -p "$OUTDIR" "$RESULTS"
cudalibs=$(find /usr/local/cuda*/lib /usr/local/cuda*/lib64 /usr/local/cuda*/targets/*/lib /opt /usr/lib /usr/lib64 -name 'libcublas.so.1*' \
  -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH="$CARRY/lib:${cudalibs}${LD_LIBRARY_PATH:-}"
export GRADSCOPE_BINARY="$CARRY/bin/gradscope" GRADSCOPE_SOURCE_DIR="$PWD"
BIN="$CARRY/bin"
summary="$RESULTS/summary.txt"
: > "$summary"
note() { echo "$*" | tee -a "$summary"; }
py=$(command -v python3)

note "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$summary" \
  | head -1 | awk -F', ' '{print $1 " (driver " $2 ", " $3 ")"}' > "$OUTDIR/machine.txt"
note "cuBLAS from: ${cudalibs:-none found}"

note "== 1. gpu tests"
timeout 240 "$BIN/gpu_tests" --gtest_color=no > "$OUTDIR/gpu_tests.log" 2>&1
note "gpu_tests exit $?"
grep -E '^\[  (PASSED|FAILED|SKIPPED) |^\[       OK|^\[  FAILED|worst|trajectory' "$OUTDIR/gpu_tests.log" | tee -a "$summary"
grep -E 'e-0[0-4]|e\+|nan' "$OUTDIR/gpu_tests.log" | grep -v '^\[' | head -20 | tee -a "$summary"

median() { "$py" -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print("%.4f ms" % (d["median_s"]*1000))'; }

note "== 2. nanda step on the GPU (median of 300)"
timeout 60 "$BIN/bench_workloads" nanda 1 300 cuda > "$OUTDIR/bench_nanda.json" 2> "$OUTDIR/bench_nanda.err"
note "gradscope nanda step: $(median < "$OUTDIR/bench_nanda.json")  $(tail -1 "$OUTDIR/bench_nanda.err")"

note "== 2b. replica groups: per replica-step time, gradscope's stacked step and a torch.func ensemble"
for spec in "nanda 1" "nanda 8" "nanda 64" "pair-mlp 1" "pair-mlp 64" "pair-mlp 512"; do
  set -- $spec
  timeout 60 "$BIN/bench_workloads" "$1" 1 50 cuda "replicas=$2" > "$OUTDIR/replicas_$1_$2.json" 2> "$OUTDIR/replicas_$1_$2.err"
  timeout 90 "$py" bench/compare/ensemble_peer.py "$1" "$2" 50 --device cuda > "$OUTDIR/ensemble_$1_$2.json" 2> "$OUTDIR/ensemble_$1_$2.err"
  per() { "$py" -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print("%.4f ms" % (d["per_replica_s"]*1000))' 2>/dev/null || echo "failed"; }
  note "K=$2 $1 per replica-step: gradscope $(per < "$OUTDIR/replicas_$1_$2.json"), torch.func $(per < "$OUTDIR/ensemble_$1_$2.json")  $(tail -1 "$OUTDIR/replicas_$1_$2.err" | cut -c1-160)"
done

note "== 3. whole nanda run (stop 100 steps after generalizing)"
rm -rf /tmp/gs-whole
start=$(date +%s.%N)
timeout 120 "$BIN/gradscope" --device cuda run examples/nanda-grokking.toml \
  train.stop_after_generalized=100 --out /tmp/gs-whole > "$OUTDIR/whole_run.log" 2>&1
code=$?
end=$(date +%s.%N)
note "whole run exit $code, process wall $("$py" -c "print(round($end - $start, 2))") s; $(tail -1 "$OUTDIR/whole_run.log")"
"$py" -c 'import json; s=json.load(open("/tmp/gs-whole/summary.json")); print("generalized_step", s["generalized_step"], "steps_done", s["steps_done"], "training wall", round(s["wall_time_s"],2), "s, final test acc", s["final"]["test_acc"])' 2>&1 | tee -a "$summary"
cp /tmp/gs-whole/summary.json "$OUTDIR/whole_summary.json" 2>/dev/null

note "== 4. other workloads on the GPU"
for w in pair-mlp power induction; do
  timeout 60 "$BIN/bench_workloads" $w 1 300 cuda > "$OUTDIR/bench_$w.json" 2> "$OUTDIR/bench_$w.err"
  note "gradscope $w step: $(median < "$OUTDIR/bench_$w.json")  $(tail -1 "$OUTDIR/bench_$w.err")"
done

note "== 5. PyTorch on the same GPU"
for w in nanda nanda-last pair-mlp pair-factored power; do
  timeout 60 "$py" bench/compare/torch_workloads.py $w 1 100 --device cuda > "$OUTDIR/torch_$w.json" 2> "$OUTDIR/torch_$w.err"
  note "torch eager $w: $(median < "$OUTDIR/torch_$w.json")  $(tail -1 "$OUTDIR/torch_$w.err")"
done
for w in nanda pair-mlp; do
  timeout 100 "$py" bench/compare/torch_workloads.py $w 1 100 --device cuda --compile > "$OUTDIR/torch_compiled_$w.json" 2> "$OUTDIR/torch_compiled_$w.err"
  note "torch compiled $w: $(median < "$OUTDIR/torch_compiled_$w.json")  $(tail -1 "$OUTDIR/torch_compiled_$w.err")"
done
note "== 6. kernel times (ncu, one metric: each kernel's duration; pair-mlp and nanda, 2 steps)"
if command -v ncu > /dev/null; then
  for w in pair-mlp nanda; do
    timeout 90 ncu --graph-profiling node --metrics gpu__time_duration.sum --csv --clock-control none \
      "$BIN/bench_workloads" $w 1 2 cuda > "$OUTDIR/ncu_$w.csv" 2> "$OUTDIR/ncu_$w.err"
    "$py" - "$OUTDIR/ncu_$w.csv" <<'PY' | tee -a "$summary"
import csv, sys, collections
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
if len(rows) < 2: sys.exit(print("no ncu rows"))
h = rows[0]; k, v, u = h.index("Kernel Name"), h.index("Metric Value"), h.index("Metric Unit")
scale = {"nsecond": 1e-3, "usecond": 1.0, "msecond": 1e3, "second": 1e6}
t = collections.Counter(); n = collections.Counter()
for r in rows[1:]:
    name = r[k].split("(")[0][:70]; t[name] += float(r[v].replace(",", "")) * scale.get(r[u], 1e-3); n[name] += 1
print(f"{sys.argv[1].split('/')[-1]}: {sum(n.values())} kernel runs over 7 steps, {sum(t.values())/7:.1f} us of kernel time per step")
for name, us in t.most_common(14): print(f"  {us/n[name]:7.2f} us each  x{n[name]:3d}  {name}")
PY
  done
fi
cp "$summary" "$OUTDIR/"
cp .gpu/revision.txt "$OUTDIR/" 2>/dev/null || true
tar -czf "$RESULTS/logs.tar.gz" -C "$OUTDIR" .
note "== done (logs in logs.tar.gz)"
