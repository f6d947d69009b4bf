#!/usr/bin/env python3
"""The rule of docs/RESULTS.md "The LLC over grokking runs" applied to runs with probe.llc.

Usage: scripts/llc-grokking-verdict.py RUN_DIR...

Rule, fixed before the runs: on a run that groks, (i) the LLC's largest value (llc.mean over the
probe steps, or llc/ of gradscope llc) comes at or after memorized_step and no later than one probe interval after
generalized_step; (ii) the LLC at the last probe step is at most 0.8 of that peak. Prints one line
per run and exits 1 when a run does not hold.
"""
import json
import sys


def verdict(run: str) -> bool:
    rows = [json.loads(line) for line in open(f"{run}/metrics.jsonl")]
    summary = json.load(open(f"{run}/summary.json"))
    pts = [(r["step"], r["llc.mean"]) for r in rows if r.get("llc.mean") is not None]
    if not pts:  # measured by gradscope llc at the checkpoints: llc/
        import numpy as np
        steps, llc = np.load(f"{run}/llc/steps.npy"), np.load(f"{run}/llc/llc.npy")
        pts = [(int(s), float(np.nanmean(row))) for s, row in zip(steps, llc.reshape(len(steps), -1))]
    mem, gen = summary.get("memorized_step"), summary.get("generalized_step")
    peak_step, peak = max(pts, key=lambda p: p[1])
    interval = pts[1][0] - pts[0][0]
    last_step, last = pts[-1]
    head = (f"{run}: memorized {mem}, generalized {gen}; LLC first {pts[0][1]:.3g} (step {pts[0][0]}), "
            f"peak {peak:.3g} at step {peak_step}, last {last:.3g} at step {last_step} "
            f"({last / peak:.2f} of the peak)")
    if mem is None or gen is None:
        print(f"{head}: did not grok, no verdict")
        return False
    holds = mem <= peak_step <= gen + interval and last <= 0.8 * peak
    print(f"{head}: {'HOLDS' if holds else 'DOES NOT HOLD'}")
    return holds


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(0 if all([verdict(run) for run in sys.argv[1:]]) else 1)
