#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS over its seed corpus and its kept regression inputs; new
# inputs go to WORK/corpus, anything found to WORK/findings/ (exit status non-zero), the fuzzer's
# output to WORK/last.log (scripts/reliability.py record-fuzz reads its final stats).
# Usage: run_fuzz.sh FUZZER SECONDS SEED_DIR REGRESSION_DIR WORK
set -euo pipefail
fuzzer=$1 seconds=$2 seeds=$3 regressions=$4 work=$5
mkdir -p "$work/corpus" "$work/findings"
dirs=("$work/corpus" "$seeds")
[[ -d "$regressions" ]] && dirs+=("$regressions")
set +e
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$work/findings/" -print_final_stats=1 "${dirs[@]}" > "$work/last.log" 2>&1
status=$?
set -e
grep -E '^(INFO: seed corpus|Done |SUMMARY|==[0-9]+==ERROR|stat::)' "$work/last.log" || true
exit $status
