#!/usr/bin/env python3
"""The rule of docs/RESULTS.md "The LLC over in-context learning runs" applied to runs with probe.llc.

Usage: scripts/llc-stages-verdict.py RUN_DIR METRIC [RUN_DIR METRIC ...]

Rule, fixed before the runs: the behavioural stage boundary is the summary's phase change of
METRIC (phase_changes.METRIC: start_step and end_step, where its 3-point running median has
covered 10% and 90% of its change). Hoogland et al.'s claim holds on a run if (i) the LLC's
largest change between consecutive probe steps (llc.mean) lies inside [start_step, end_step]
widened by one probe interval on each side, and (ii) that change is larger than the larger of the
chains' standard deviations (llc.std) at its two probe steps. Prints the LLC's course and one
verdict line per run; exits 1 when a run does not hold.
"""
import json
import sys


def verdict(run: str, metric: str) -> bool:
    rows = [json.loads(line) for line in open(f"{run}/metrics.jsonl")]
    phase = json.load(open(f"{run}/summary.json")).get("phase_changes", {}).get(metric) or {}
    pts = [(r["step"], r["llc.mean"], r["llc.std"], r.get(metric))
           for r in rows if r.get("llc.mean") is not None]
    interval = pts[1][0] - pts[0][0]
    changes = [(abs(b[1] - a[1]), a, b) for a, b in zip(pts, pts[1:])]
    size, a, b = max(changes, key=lambda c: c[0])
    peak = max(pts, key=lambda p: p[1])
    print(f"{run}: LLC first {pts[0][1]:.3g} (step {pts[0][0]}), peak {peak[1]:.3g} (step {peak[0]}),"
          f" last {pts[-1][1]:.3g} (step {pts[-1][0]}); largest change {b[1] - a[1]:+.3g} from step"
          f" {a[0]} to {b[0]} ({metric} {a[3]:.3g} -> {b[3]:.3g})")
    if phase.get("start_step") is None:
        print(f"{run}: {metric} has no phase change in the summary: no verdict")
        return False
    lo, hi = phase["start_step"] - interval, phase["end_step"] + interval
    inside = lo <= a[0] and b[0] <= hi
    beyond_noise = size > max(a[2], b[2])
    holds = inside and beyond_noise
    print(f"{run}: {metric} changes from step {phase['start_step']} to {phase['end_step']} (50% at"
          f" {phase['step']}); (i) inside [{lo}, {hi}]: {'yes' if inside else 'no'}; (ii) beyond"
          f" the chains' spread ({max(a[2], b[2]):.3g}): {'yes' if beyond_noise else 'no'}:"
          f" {'HOLDS' if holds else 'DOES NOT HOLD'}")
    return holds


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    results = [verdict(args[i], args[i + 1]) for i in range(0, len(args), 2)]
    sys.exit(0 if all(results) else 1)
