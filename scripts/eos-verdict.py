#!/usr/bin/env python3
"""The edge-of-stability rules of docs/RESULTS.md applied to runs of examples/eos-mlp.toml.

Usage: scripts/eos-verdict.py [--adam] RUN_DIR...   (each a run with probe.hessian, constant lr)

Rule, fixed before the runs: the sharpness (hessian.top) starts below 0.9 * 2 / lr and reaches it;
from the first probe step where it does, at least 90% of the later probe steps have the sharpness
within 10% of 2 / lr. With --adam the same for Adam's preconditioned sharpness
(hessian.preconditioned, with hessian.preconditioned = true) against its threshold
(2 + 2 beta1) / ((1 - beta1) lr), 38 / lr at beta1 = 0.9 (Cohen et al. 2022). Prints one line per
run and exits 1 when a run does not hold.
"""
import json
import sys
import tomllib


def verdict(run: str, adam: bool) -> bool:
    rows = [json.loads(line) for line in open(f"{run}/metrics.jsonl")]
    key, c, name = "hessian.top", 2.0, "2/lr"
    if adam:
        b1 = tomllib.load(open(f"{run}/config.toml", "rb"))["optim"]["beta1"]
        key, c, name = "hessian.preconditioned", (2 + 2 * b1) / (1 - b1), f"{(2 + 2 * b1) / (1 - b1):g}/lr"
    pts = [(r["step"], r[key], r[key] * r["lr"] / c) for r in rows if r.get(key) is not None]
    lr = rows[-1]["lr"]
    reach = next((i for i, p in enumerate(pts) if p[2] >= 0.9), None)
    head = f"{run}: lr {lr:g}, {name} {c / lr:g}; first {key} {pts[0][1]:.4g} (ratio {pts[0][2]:.3f})"
    if reach is None:
        print(f"{head}; never reaches 0.9 * {name} (largest ratio {max(p[2] for p in pts):.3f}): DOES NOT HOLD")
        return False
    later = sorted(p[2] for p in pts[reach + 1:])
    within = sum(1 for r in later if 0.9 <= r <= 1.1)
    holds = pts[0][2] < 0.9 and len(later) > 0 and within >= 0.9 * len(later)
    span = f"ratio {later[0]:.3f}-{later[-1]:.3f}, median {later[len(later) // 2]:.3f}" if later else "none"
    print(f"{head}; reaches 0.9 at step {pts[reach][0]}; after it {within}/{len(later)} probes within 10% "
          f"({span}); final train loss {rows[-1]['train_loss']:.3g}: {'HOLDS' if holds else 'DOES NOT HOLD'}")
    return holds


if __name__ == "__main__":
    adam = "--adam" in sys.argv[1:]
    runs = [a for a in sys.argv[1:] if a != "--adam"]
    if not runs:
        sys.exit(__doc__)
    sys.exit(0 if all([verdict(run, adam) for run in runs]) else 1)
