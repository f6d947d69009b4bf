#!/usr/bin/python3
"""Replica groups against separate processes on the CPU: writes the "## Replica groups" section of
docs/PERFORMANCE.md (make bench keeps it).

Usage: replicas.py BUILD_DIR [--seeds 64] [--steps 2000] [--rounds 2] [--threads 2] [--out FILE]
The PAIR setup (examples/pair-mlp-seeds.toml) over `seeds` seeds for `steps` steps, swept twice per
round into fresh roots, the two ways interleaved: `gradscope --threads T sweep ... --replicas
SEEDS` (one process, the replicas spread over T threads) and `gradscope sweep ... --jobs T` (T
processes of one thread). Each sweep's wall time gives runs per hour; its peak RSS is the largest
sum over the sweep's process tree (the sweep and its children), sampled every 20 ms. The median
over rounds is reported with the rounds' spread. Both write the same runs: the script checks that
every metrics.jsonl of the two is byte-identical.
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
EXPERIMENT = os.path.join(ROOT, "examples", "pair-mlp-seeds.toml")
TITLE = "## Replica groups (CPU)"


def tree_rss_kb(pid):
    """Resident memory of pid and every descendant, in KiB (0 once gone)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def sweep(binary, experiment, root, how, args):
    """Runs one sweep; returns (seconds, peak tree RSS in MiB)."""
    cmd = [binary, *how[0], "sweep", experiment, *args, *how[1], "--root", root]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while p.poll() is None:
        peak = max(peak, tree_rss_kb(p.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.read()}")
    return seconds, peak / 1024


def metrics(root):
    out = {}
    for d, _, files in os.walk(root):
        if "metrics.jsonl" in files:
            with open(os.path.join(d, "metrics.jsonl"), "rb") as f:
                out[os.path.basename(d)] = f.read()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--seeds", type=int, default=64)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"))
    a = ap.parse_args()
    binary = os.path.join(a.build, "gradscope")
    args = [f"train.steps={a.steps}", "train.stop_after_generalized=0", "name=replica-bench"]
    t = str(a.threads)
    ways = {
        f"`--replicas {a.seeds}` (one process, {a.threads} threads)":
            (["--threads", t], ["--replicas", str(a.seeds)]),
        f"`--jobs {a.threads}` ({a.threads} processes, 1 thread each)":
            (["--threads", "1"], ["--jobs", t]),
    }
    results = {w: [] for w in ways}
    work = tempfile.mkdtemp(prefix="gradscope-replicas-")
    experiment = os.path.join(work, "seeds.toml")  # the example with its seed count
    with open(EXPERIMENT) as f, open(experiment, "w") as g:
        g.write(f.read().replace("seeds = 64", f"seeds = {a.seeds}"))
    try:
        for r in range(a.rounds):
            written = []
            for w, how in ways.items():
                root = os.path.join(work, f"r{r}-{len(written)}")
                results[w].append(sweep(binary, experiment, root, how, args))
                written.append(metrics(root))
                print(f"round {r + 1}: {w}: {results[w][-1][0]:.1f} s, "
                      f"{results[w][-1][1]:.0f} MiB", flush=True)
                shutil.rmtree(root)
            if written[0] != written[1] or len(written[0]) != a.seeds:
                sys.exit("the two ways wrote different metrics")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_section(a, results)


def write_section(a, results):
    L = [TITLE, "",
         f"`bench/compare/replicas.py` ({time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
         f"{os.cpu_count()} cores): examples/pair-mlp-seeds.toml, {a.seeds} seeds of the PAIR "
         f"setup at {a.steps:,} steps each, both ways interleaved over {a.rounds} rounds (median, "
         "spread = max - min over rounds). Peak RSS: the sweep's whole process tree. Every run's "
         "metrics.jsonl is byte-identical between the two.", "",
         "| how | wall time | runs per hour | peak RSS |", "|---|---:|---:|---:|"]
    for w, rs in results.items():
        secs = [s for s, _ in rs]
        rss = [m for _, m in rs]
        med = statistics.median(secs)
        L.append(f"| {w} | {med:.1f} s (spread {max(secs) - min(secs):.1f}) | "
                 f"{a.seeds * 3600 / med:,.0f} | {statistics.median(rss):,.0f} MiB |")
    section = "\n".join(L) + "\n"
    print(section)
    try:
        text = open(a.out).read()
    except OSError:
        text = ""
    start = text.find("\n" + TITLE + "\n")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start + 1] + section + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(a.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
