"""Power loss in a sweep: a 4-run sweep with --jobs 2 killed with SIGKILL (the sweep and its runs
at once, as a crash would) at a seeded pseudo-random moment, then run again. Every run completes
exactly once (its metrics.jsonl is the uninterrupted sweep's, byte for byte: no step lost or
logged twice), no temporary file is left in a run directory, and the index equals the
uninterrupted sweep's but for wall-clock columns. 12 trials in `make test`; 200 under
`make test-slow`."""

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BINARY, TINY, gradscope, leftovers

AXES = ["seed=0,1,2,3", "train.steps=300", "train.log_every=10", "train.checkpoint_every=25"]
WALL_CLOCK = {"wall_time_s", "steps_per_s"}


def sweep(root, **kw):
    return [BINARY, "--threads", "1", "sweep", str(TINY), *AXES, "--root", str(root), "--jobs",
            "2"]


def index_rows(root):
    db = sqlite3.connect(f"file:{root / 'index.sqlite'}?mode=ro", uri=True)
    cur = db.execute("SELECT * FROM runs ORDER BY dir")
    names = [d[0] for d in cur.description]
    rows = [{k: v for k, v in zip(names, r) if k not in WALL_CLOCK} for r in cur.fetchall()]
    metrics = db.execute("SELECT run, step, key, value FROM metrics ORDER BY run, step, key")
    return rows, metrics.fetchall()


def run_dirs(root):
    return sorted(p.parent for p in root.rglob("config.toml") if p.parent.name != "configs")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("ref") / "runs"
    start = time.monotonic()
    subprocess.run(sweep(root), check=True, capture_output=True)
    return root, time.monotonic() - start


def trials(n, reference, tmp_path, record):
    ref, duration = reference
    ref_rows = index_rows(ref)
    outcomes = {"killed before any run ended": 0, "killed mid-sweep": 0, "killed after it ended": 0}
    for trial in range(n):
        rng = random.Random(trial)
        root = tmp_path / f"t{trial}"
        p = subprocess.Popen(sweep(root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             process_group=0)
        time.sleep(rng.uniform(0, 1.2 * duration))
        ended = p.poll() is not None
        if not ended:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        complete = sum((d / "summary.json").exists() for d in run_dirs(root))
        outcomes["killed after it ended" if ended else
                 "killed mid-sweep" if complete else "killed before any run ended"] += 1
        again = subprocess.run(sweep(root), capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, f"trial {trial}: {again.stderr}"
        dirs = run_dirs(root)
        assert [d.relative_to(root) for d in dirs] == [d.relative_to(ref) for d in run_dirs(ref)]
        for d, r in zip(dirs, run_dirs(ref)):
            assert (d / "metrics.jsonl").read_bytes() == (r / "metrics.jsonl").read_bytes(), \
                f"trial {trial}: {d}"
            assert leftovers(d) == [], f"trial {trial}: {leftovers(d)}"
        assert index_rows(root) == ref_rows, f"trial {trial}"
    record(fault=f"SIGKILL of a sweep (--jobs 2) and its runs at a random moment, {n} trials",
           how="a 4-run tiny sweep killed (its whole process group) at a seeded uniform time in "
               f"[0, 1.2 x its {duration:.1f} s duration], then rerun",
           outcome="every rerun completes every run exactly once: metrics.jsonl byte-identical "
                   "to an uninterrupted sweep's, no temporary file left, the index equal but for "
                   f"wall-clock columns ({', '.join(f'{k}: {v}' for k, v in outcomes.items())})")


def test_a_sweep_killed_at_random_moments_reruns_to_the_same_index(reference, tmp_path, record):
    trials(12, reference, tmp_path, record)


@pytest.mark.slow
def test_the_long_form_200_trials(reference, tmp_path, record):
    trials(200, reference, tmp_path, record)
