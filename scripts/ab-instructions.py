#!/usr/bin/python3
"""Deterministic A/B of two builds' bench_workloads: instructions executed per training step
(valgrind's cachegrind, one thread), where a shared machine's timings are too noisy to resolve a
few percent. Per step = (instructions with R2 repeats - with R1 repeats) / (R2 - R1), so start-up
and warm-up cancel. Instructions are not time (memory and vector width are not counted), but an
unchanged or smaller count says the new code does no more work.

    scripts/ab-instructions.py OLD_BENCH NEW_BENCH [--workloads nanda,...] [--repeats 1,5]

Standard library only (Debian's /usr/bin/python3); needs valgrind. A measurement, not a test.
"""
import argparse
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

WORKLOADS = "nanda,nanda-plain,pair-mlp,power,diag-attention,probe,text-gpt"


def instructions(binary, workload, repeats):
    err = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                          "--cachegrind-out-file=/dev/null", binary, workload, "1", str(repeats)],
                         check=True, capture_output=True, text=True).stderr
    return int(re.search(r"I\s+refs:\s+([\d,]+)", err).group(1).replace(",", ""))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--workloads", default=WORKLOADS)
    p.add_argument("--repeats", default="1,5")
    p.add_argument("--jobs", type=int, default=2)
    a = p.parse_args()
    r1, r2 = (int(r) for r in a.repeats.split(","))
    jobs = [(b, w, r) for w in a.workloads.split(",") for b in (a.old, a.new) for r in (r1, r2)]
    with ThreadPoolExecutor(a.jobs) as pool:
        counts = dict(zip(jobs, pool.map(lambda j: instructions(*j), jobs)))
    print(f"{'workload':<16}{'old Minstr/step':>16}{'new Minstr/step':>16}{'new/old':>9}")
    for w in a.workloads.split(","):
        per = [(counts[(b, w, r2)] - counts[(b, w, r1)]) / (r2 - r1) / 1e6 for b in (a.old, a.new)]
        print(f"{w:<16}{per[0]:>16.2f}{per[1]:>16.2f}{per[1] / per[0]:>9.4f}")


if __name__ == "__main__":
    main()
