"""A full disk: the tiny run on a tmpfs of N pages, for every N from too small to start to large
enough, so that the disk fills in turn while writing config.toml, metrics rows, a checkpoint and
the spectra (and, without the spectral probe, whose files are rewritten last, the summary). Each time the run stops with one clear line naming the file, leaves no
temporary file and no damaged one (the metrics are a prefix of an uninterrupted run's, every
checkpoint loads), and after the disk grows `--resume` (or a fresh start, when the disk filled
before the first checkpoint) ends with metrics and spectra byte-identical to an uninterrupted
run's. Where mounting is forbidden, the same trials run under a file-size limit (RLIMIT_FSIZE)
instead."""

import json
import os
import resource
import signal
from pathlib import Path

import pytest

from conftest import gradscope, error_lines, leftovers, mount, remount, run_tiny, umount

PAGE = 4096
RUN = ["train.steps=40", "train.log_every=2", "train.checkpoint_steps=every:10"]
NO_SPECTRA = RUN + ["probe.spectra=false"]


def which_file(line):
    """The run-directory file a 'cannot write' line names: metrics, checkpoint, spectra, ..."""
    path = line.split("cannot write ", 1)[1].rsplit(": ", 1)[0]
    name = Path(path).name
    if "/checkpoints/" in path:
        return "checkpoint"
    if "/spectra/" in path:
        return "spectra"
    return name.split(".")[0] if name.startswith(("metrics", "summary")) else name


def check_intact(run, reference):
    assert leftovers(run) == [], leftovers(run)
    if (run / "metrics.jsonl").exists():
        assert (reference / "metrics.jsonl").read_bytes().startswith(
            (run / "metrics.jsonl").read_bytes())
    if (run / "summary.json").exists():
        json.loads((run / "summary.json").read_text())


def finish(run, args, reference, grow):
    grow()
    has_checkpoint = any((run / "checkpoints").glob("step_*.ckpt"))
    r = run_tiny(run, resume=True) if has_checkpoint else run_tiny(run, *args, "--force")
    assert r.returncode == 0, r.stderr
    assert "damaged" not in r.stderr, r.stderr
    assert (run / "metrics.jsonl").read_bytes() == (reference / "metrics.jsonl").read_bytes()
    for npy in sorted((reference / "spectra").glob("*.npy")):
        assert (run / "spectra" / npy.name).read_bytes() == npy.read_bytes(), npy.name
    return "resumed" if has_checkpoint else "restarted"


def reference_of(tmp_path_factory, args):
    out = tmp_path_factory.mktemp("ref") / "run"
    assert run_tiny(out, *args).returncode == 0
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return reference_of(tmp_path_factory, RUN)


def pages_of(run):
    return sum(-(-f.stat().st_size // PAGE) for f in run.rglob("*") if f.is_file())


def scan(mnt, args, reference, sizes, hit, outcomes):
    """One trial per tmpfs size (in pages): run, check, grow the disk, finish."""
    for pages in sizes:
        assert mount(mnt, f"size={pages * PAGE}")
        try:
            run = mnt / "run"
            r = run_tiny(run, *args)
            if r.returncode == 0:
                outcomes.add("completed")
                continue
            lines = error_lines(r.stderr)
            assert len(lines) == 1 and "No space left on device" in lines[0], r.stderr
            hit.setdefault(which_file(lines[0]), pages)
            check_intact(run, reference)
            if run.exists():
                outcomes.add(finish(run, args, reference, lambda: remount(mnt, "size=64m")))
        finally:
            umount(mnt)


def test_a_full_disk_stops_the_run_cleanly_and_resume_completes_it(tmp_path, tmp_path_factory,
                                                                   reference, record):
    mnt = tmp_path / "disk"
    if not mount(mnt, f"size={4 * PAGE}"):
        pytest.skip("mounting a tmpfs is not allowed here (see the file-size-limit test)")
    umount(mnt)
    hit, outcomes = {}, set()
    total = pages_of(reference)
    scan(mnt, RUN, reference, range(1, total + 8), hit, outcomes)
    plain = reference_of(tmp_path_factory, NO_SPECTRA)
    scan(mnt, NO_SPECTRA, plain, range(pages_of(plain) - 4, pages_of(plain) + 4), hit, outcomes)
    for f in ("metrics", "checkpoint", "spectra", "summary"):
        assert f in hit, f"no size filled the disk while writing {f}: {hit}"
    assert "completed" in outcomes
    record(fault="disk full (tmpfs with size=)",
           how=f"the tiny run (40 steps, a checkpoint every 10, spectra) on a tmpfs of 1 to "
               f"{total + 7} pages, one trial per size (and without the spectral probe near its "
               "full size); then the mount grown and the run resumed",
           outcome="stopped with one line 'cannot write FILE: No space left on device' while "
                   f"writing {', '.join(f'{k} (at {v} pages)' for k, v in sorted(hit.items()))}; "
                   "no temporary or damaged file left, metrics a prefix of the uninterrupted "
                   f"run's; then {' or '.join(sorted(outcomes - {'completed'}))} to metrics and "
                   "spectra byte-identical to an uninterrupted run")


def test_a_file_size_limit_stops_the_run_cleanly_and_resume_completes_it(tmp_path, reference,
                                                                          record):
    """Runs everywhere (no mount): writes beyond RLIMIT_FSIZE fail with EFBIG, through the same
    error paths as a full disk."""
    hit = {}
    for limit in range(200, 12000, 600):
        def limited():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        run = tmp_path / f"run{limit}"
        r = run_tiny(run, *RUN, preexec_fn=limited)
        if r.returncode == 0:
            continue
        lines = error_lines(r.stderr)
        assert len(lines) == 1 and "File too large" in lines[0], r.stderr
        hit.setdefault(which_file(lines[0]), limit)
        check_intact(run, reference)
        finish(run, RUN, reference, lambda: None)
    assert "checkpoint" in hit and "metrics" in hit, hit
    record(fault="a file-size limit (RLIMIT_FSIZE; where mounting is not allowed)",
           how="the tiny run under limits of 200 to 11,600 bytes per file (every 600 bytes), "
               "then resumed without",
           outcome="stopped with one line 'cannot write FILE: File too large' while writing "
                   f"{', '.join(f'{k} (at {v} bytes)' for k, v in sorted(hit.items()))}; "
                   "nothing left half-written; resumed to byte-identical metrics and spectra")
