"""Shared pieces of the fault tests (tests/faults): the gradscope executable, the tiny experiment,
size-limited and read-only mounts, and the record of what each test did and saw, which
scripts/reliability.py turns into docs/RELIABILITY.md.

Run by ctest (label fault) with GRADSCOPE_BINARY and GRADSCOPE_FAULT_RESULTS set.
"""

import json
import os
import re
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

BINARY = os.environ["GRADSCOPE_BINARY"]
SOURCE = Path(__file__).resolve().parents[2]
TINY = SOURCE / "tests" / "fixtures" / "tiny.toml"
RESULTS = os.environ.get("GRADSCOPE_FAULT_RESULTS", "")


def gradscope(*args, check=False, timeout=120, **kw):
    """Runs the executable; returns the CompletedProcess (text output)."""
    r = subprocess.run([BINARY, "--threads", "1", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"gradscope {' '.join(map(str, args))}: exit {r.returncode}\n{r.stderr}")
    return r


def run_tiny(out, *overrides, resume=False, **kw):
    if resume:
        return gradscope("run", "--resume", out, *overrides, **kw)
    return gradscope("run", TINY, *overrides, "--out", out, **kw)


def error_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("gradscope: error:")]


def leftovers(run_dir):
    """Temporary files of atomic writes left in a run directory (there should be none)."""
    return sorted(str(p.relative_to(run_dir)) for p in Path(run_dir).rglob("*.tmp.*"))


def mount(target, options):
    """Mounts a tmpfs at target; False (and nothing mounted) where the machine forbids it."""
    Path(target).mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                       capture_output=True, text=True)
    return r.returncode == 0


def remount(target, options):
    subprocess.run(["mount", "-o", f"remount,{options}", str(target)], check=True)


def umount(target):
    subprocess.run(["umount", "-l", str(target)], capture_output=True)


@contextmanager
def tmpfs(target, options):
    """A tmpfs at target for the block; yields False where mounting is not allowed."""
    ok = mount(target, options)
    try:
        yield ok
    finally:
        if ok:
            umount(target)


@pytest.fixture
def record(request):
    """record(fault=..., how=..., outcome=...): one row of docs/RELIABILITY.md's fault table,
    written with the test's result once it ends."""
    rows = []
    yield lambda **row: rows.append(row)
    if not RESULTS:
        return
    report = getattr(request.node, "rep_call", None)
    passed = bool(report and report.passed)
    Path(RESULTS).parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a") as f:
        for row in rows:  # host paths of the test's scratch directories left out
            row = {k: re.sub(r"/tmp/(pytest-of-[^/]+/pytest-\d+/[^/ ]+|gradscope_ro_[^/ ]+)/", "",
                             v) for k, v in row.items()}
            f.write(json.dumps({"test": request.node.nodeid.split("::")[-1], "passed": passed,
                                "time": time.strftime("%Y-%m-%d"), **row}) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: the long form, run by `make test-slow`")
