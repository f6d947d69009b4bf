#!/usr/bin/env python3
"""The edge-of-stability rule of docs/RESULTS.md applied to runs of examples/eos-mlp.toml.

Usage: scripts/eos-verdict.py RUN_DIR...   (each a run with probe.hessian and a constant lr)

Rule, fixed before the runs: the sharpness (hessian.top) starts below 0.9 * 2 / lr and reaches it;
from the first probe step where it does, at least 90% of the later probe steps have the sharpness
within 10% of 2 / lr. Prints one line per run and exits 1 when a run does not hold.
"""
import json
import sys


def verdict(run: str) -> bool:
    rows = [json.loads(line) for line in open(f"{run}/metrics.jsonl")]
    pts = [(r["step"], r["hessian.top"], r["hessian.top"] * r["lr"] / 2)
           for r in rows if r.get("hessian.top") is not None]
    lr = rows[-1]["lr"]
    reach = next((i for i, p in enumerate(pts) if p[2] >= 0.9), None)
    head = f"{run}: lr {lr:g}, 2/lr {2 / lr:g}; first sharpness {pts[0][1]:.2f} (ratio {pts[0][2]:.3f})"
    if reach is None:
        print(f"{head}; never reaches 0.9 * 2/lr (largest ratio {max(p[2] for p in pts):.3f}): DOES NOT HOLD")
        return False
    later = sorted(p[2] for p in pts[reach + 1:])
    within = sum(1 for r in later if 0.9 <= r <= 1.1)
    holds = pts[0][2] < 0.9 and len(later) > 0 and within >= 0.9 * len(later)
    span = f"ratio {later[0]:.3f}-{later[-1]:.3f}, median {later[len(later) // 2]:.3f}" if later else "none"
    print(f"{head}; reaches 0.9 at step {pts[reach][0]}; after it {within}/{len(later)} probes within 10% "
          f"({span}); final train loss {rows[-1]['train_loss']:.3g}: {'HOLDS' if holds else 'DOES NOT HOLD'}")
    return holds


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(0 if all([verdict(run) for run in sys.argv[1:]]) else 1)
