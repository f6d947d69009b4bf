#!/usr/bin/env python3
"""Stable ranks of every attention head's Delta(W_Q W_K^T) and Delta(W_V W_O) in two runs of one
transformer from different initializations (examples/text-rank-default.toml and
text-rank-small-init.toml), as the markdown tables of docs/RESULTS.md:

  1. per head, at the start, middle and end of training (the probe steps nearest to 10 and 100,
     half the run, and its last step), for each run;
  2. at matched training loss: for each loss level both runs reach, the first probe step at or
     below it in each run and the mean over heads of the two stable ranks there.

Usage: scripts/rank-table.py RUN_A RUN_B [--levels 3.0,2.6,2.3,2.1]
Reads each run's metrics.jsonl (the spectra.<matrix>.stable_rank columns of the probe steps).
"""
import json
import re
import sys
from pathlib import Path


def probe_rows(run):
    rows = [json.loads(line) for line in open(Path(run) / "metrics.jsonl")]
    return [r for r in rows if any(k.endswith(".QK.stable_rank") and r[k] is not None for k in r)]


def heads(row):
    """The head products' names in layer, head order: blocks.<l>.attn.head<h>."""
    names = {m.group(1) for k in row if (m := re.match(r"spectra\.(.+)\.QK\.stable_rank$", k))}
    return sorted(names, key=lambda n: [int(x) for x in re.findall(r"\d+", n)])


def nearest(rows, step):
    return min(rows, key=lambda r: abs(r["step"] - step))


def per_head(name, rows):
    hs = heads(rows[-1])
    picks = [nearest(rows, 10), nearest(rows, 100), nearest(rows, rows[-1]["step"] / 2), rows[-1]]
    print(f"\n{name}: stable rank of Delta(W_Q W_K^T) / Delta(W_V W_O) per head\n")
    print("| head | " + " | ".join(f"step {r['step']} (train loss {r['train_loss']:.2f})"
                                   for r in picks) + " |")
    print("|---|" + "---|" * len(picks))
    for h in hs:
        cells = [f"{r[f'spectra.{h}.QK.stable_rank']:.2f} / {r[f'spectra.{h}.VO.stable_rank']:.2f}"
                 for r in picks]
        print(f"| {h.replace('blocks.', 'L').replace('.attn.head', ' H')} | " + " | ".join(cells)
              + " |")


def mean_ranks(row):
    hs = heads(row)
    qk = sum(row[f"spectra.{h}.QK.stable_rank"] for h in hs) / len(hs)
    vo = sum(row[f"spectra.{h}.VO.stable_rank"] for h in hs) / len(hs)
    return qk, vo


def matched(names, runs, levels):
    print("\nAt matched training loss: first probe step at or below it; mean over heads of the "
          "stable rank of Delta(W_Q W_K^T) and of Delta(W_V W_O)\n")
    print("| train loss | " + " | ".join(f"{n}: step, QK, VO" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for level in levels:
        cells = []
        for rows in runs:
            hit = next((r for r in rows if r["train_loss"] <= level), None)
            if hit is None:
                cells.append("not reached")
                continue
            qk, vo = mean_ranks(hit)
            cells.append(f"{hit['step']}, {qk:.2f}, {vo:.2f}")
        print(f"| {level} | " + " | ".join(cells) + " |")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    levels = [3.0, 2.6, 2.3, 2.1]
    if "--levels" in sys.argv:
        levels = [float(x) for x in sys.argv[sys.argv.index("--levels") + 1].split(",")]
        args = [a for a in args if a != sys.argv[sys.argv.index("--levels") + 1]]
    if len(args) != 2:
        sys.exit(__doc__)
    runs = [probe_rows(a) for a in args]
    names = [Path(a).name for a in args]
    for n, rows in zip(names, runs):
        per_head(n, rows)
    matched(names, runs, levels)


if __name__ == "__main__":
    main()
