"""A read-only run directory or index: a run into a read-only filesystem, a resume of a run whose
filesystem became read-only, and a sweep whose index file is read-only each fail with one clear
line, leave no partial file and change nothing. Tests run as root, for whom chmod does not make a
directory read-only: the filesystems are read-only mounts (a tmpfs, a bind mount of the index),
and where mounting is forbidden the same steps run as an unprivileged user (setpriv) instead."""

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import BINARY, TINY, error_lines, gradscope, leftovers, mount, remount, run_tiny, umount


def digest(root):
    """Every file under root and its hash: the tree's state."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def one_line(r, reason):
    lines = error_lines(r.stderr)
    assert r.returncode != 0 and len(lines) == 1 and reason in lines[0], r.stderr
    return lines[0].split("gradscope: error: ", 1)[1]


def test_read_only_run_directory(tmp_path, record):
    mnt = tmp_path / "ro"
    if not mount(mnt, "size=4m"):
        pytest.skip("mounting is not allowed here (see the unprivileged-user test)")
    try:
        assert run_tiny(mnt / "done", "train.steps=20").returncode == 0
        remount(mnt, "ro")
        before = digest(mnt)
        fresh = one_line(run_tiny(mnt / "new"), "Read-only file system")
        resumed = one_line(run_tiny(mnt / "done", "train.steps=40", resume=True),
                           "Read-only file system")
        assert digest(mnt) == before and not (mnt / "new").exists()
    finally:
        umount(mnt)
    record(fault="read-only run directory (a tmpfs remounted ro)",
           how="`run` of a new run into it, and `run --resume DIR train.steps=40` of a finished "
               "run on it",
           outcome=f"one line each ('{fresh}'; '{resumed}'), exit 1, every file unchanged")


def test_read_only_index(tmp_path, record):
    mnt = tmp_path / "ro"
    if not mount(mnt, "size=8m"):
        pytest.skip("mounting is not allowed here (see the unprivileged-user test)")
    try:
        root = mnt / "runs"
        sweep = ["sweep", TINY, "seed=0,1", "--root", root, "--jobs", "2"]
        gradscope(*sweep, check=True)
        remount(mnt, "ro")
        before = digest(mnt)
        rebuilt = one_line(gradscope("index", "rebuild", root), "index.sqlite: Read-only file system")
        rerun = one_line(gradscope(*sweep), "index.sqlite: Read-only file system")
        listed = gradscope("ls", "--index", root / "index.sqlite")
        assert listed.returncode == 0 and "2 runs" in listed.stdout, listed.stderr
        assert digest(mnt) == before
    finally:
        umount(mnt)
    record(fault="read-only index (the runs root on a tmpfs remounted ro)",
           how="`gradscope index rebuild ROOT`, the finished sweep rerun, and `gradscope ls`",
           outcome=f"the writers stop in one line each ('{rebuilt}'; '{rerun}'), exit 1, "
                   "nothing changed; `ls` still reads the index (opened immutable)")


def test_read_only_for_an_unprivileged_user(record):
    """Runs everywhere the tests run as root: the same steps as user nobody on root's files."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to become another user")
    base = Path(tempfile.mkdtemp(prefix="gradscope_ro_"))  # /tmp: every user may pass through
    try:
        os.chmod(base, 0o755)
        done = base / "done"
        assert run_tiny(done, "train.steps=20").returncode == 0
        # nobody's own copies of the executable and the experiment (the checkout may lie in a
        # directory only root may enter, such as /root)
        exe, tiny = base / "gradscope", base / "tiny.toml"
        shutil.copy(BINARY, exe)
        shutil.copy(TINY, tiny)
        before = digest(base)
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", exe]
        fresh = subprocess.run([*as_nobody, "run", tiny, "--out", base / "new"],
                               capture_output=True, text=True)
        resumed = subprocess.run([*as_nobody, "run", "--resume", done, "train.steps=40"],
                                 capture_output=True, text=True)
        a, b = one_line(fresh, "Permission denied"), one_line(resumed, "Permission denied")
        assert digest(base) == before and not (base / "new").exists()
    finally:
        shutil.rmtree(base)
    record(fault="unwritable run directory (as an unprivileged user)",
           how="`run` of a new run and `run --resume` of a finished one, as user nobody on "
               "directories root owns",
           outcome=f"one line each ('{a}'; '{b}'), exit 1, every file unchanged")
