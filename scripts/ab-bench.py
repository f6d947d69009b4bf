#!/usr/bin/python3
"""Interleaved A/B of two builds' bench_workloads: for each round, each thread count and each
workload, the old binary then the new one (the order alternating between rounds), each timing
REPEATS steps after its warm-up. Prints, per workload and thread count, the median over the
rounds of each binary's median step time, the ratio new / old, and each binary's spread over the
rounds ((max - min) / median): a ratio within the spread is not a measured difference.

    scripts/ab-bench.py OLD_BENCH NEW_BENCH [--rounds 5] [--repeats 15] [--threads 1,2]
                        [--workloads nanda,nanda-plain,...]

Standard library only (Debian's /usr/bin/python3). No assertion: a measurement, not a test.
"""
import argparse
import json
import statistics
import subprocess

WORKLOADS = "nanda,nanda-plain,pair-mlp,power,diag-attention,probe,text-gpt"


def one(binary, workload, threads, repeats):
    out = subprocess.run([binary, workload, str(threads), str(repeats)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["median_s"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--workloads", default=WORKLOADS)
    a = p.parse_args()
    threads = [int(t) for t in a.threads.split(",")]
    workloads = a.workloads.split(",")
    times = {(w, t, b): [] for w in workloads for t in threads for b in ("old", "new")}
    for r in range(a.rounds):
        for t in threads:
            for w in workloads:
                order = ("old", "new") if r % 2 == 0 else ("new", "old")
                for b in order:
                    times[(w, t, b)].append(one(a.old if b == "old" else a.new, w, t, a.repeats))
    print(f"{'workload':16} {'threads':>7} {'old ms':>9} {'new ms':>9} {'new/old':>8} "
          f"{'spread old':>11} {'spread new':>11}")
    for t in threads:
        for w in workloads:
            o, n = times[(w, t, "old")], times[(w, t, "new")]
            mo, mn = statistics.median(o), statistics.median(n)
            spread = lambda v, m: f"{(max(v) - min(v)) / m * 100:10.1f}%"
            print(f"{w:16} {t:7d} {mo * 1e3:9.3f} {mn * 1e3:9.3f} {mn / mo:8.3f} "
                  f"{spread(o, mo)} {spread(n, mn)}")


if __name__ == "__main__":
    main()
