"""Two processes on one run directory: a second `gradscope run` of the same directory and a
`--resume` while the run still trains both refuse, naming the holder; the lock of a process killed
with SIGKILL, and another host's lock whose heartbeat went stale, are taken over."""

import json
import os
import signal
import socket
import subprocess
import time

from conftest import BINARY, TINY, run_tiny

LONG = ["train.steps=100000000", "train.log_every=1000", "train.checkpoint_every=500",
        "probe.spectra=false"]


def start(out, *extra):
    return subprocess.Popen([BINARY, "--threads", "1", "run", TINY, *LONG, *extra, "--out", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(path, timeout=30):
    end = time.time() + timeout
    while not path.exists():
        assert time.time() < end, f"{path} never appeared"
        time.sleep(0.01)


def test_a_second_run_and_a_resume_of_a_training_run_refuse(tmp_path, record):
    out = tmp_path / "run"
    first = start(out)
    wait_for(out / "checkpoints" / "step_00000000.ckpt")
    second = run_tiny(out, *LONG, "--force")
    resumed = run_tiny(out, resume=True)
    assert first.poll() is None, "the first run ended before the others started"
    first.send_signal(signal.SIGINT)  # it checkpoints and stops
    first.wait(timeout=300)
    assert first.returncode == 130, first.stderr
    for r in (second, resumed):
        assert r.returncode == 3, r.stderr  # refused as busy: a sweep skips such a run
        assert f"is in use: pid {first.pid} on host {socket.gethostname()}" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert not (out / "run.lock").exists()
    record(fault="two `gradscope run` of one run directory at once; `--resume` while it trains",
           how="a long tiny run started, then `run ... --force` and `run --resume` of the same "
               "directory while it trains, then the first one stopped with SIGINT",
           outcome="both refuse in one line (\"is in use: pid P on host H trains it (since ...)\", "
                   "exit 3, which a sweep counts as trained elsewhere) and change nothing; the first run trains on undisturbed and stops "
                   "cleanly (exit 130); run.lock is removed")


def test_the_lock_of_a_killed_run_is_recovered(tmp_path, record):
    ref = tmp_path / "ref"
    assert run_tiny(ref, "train.steps=8000", "train.log_every=100", "train.checkpoint_every=500",
                    "probe.spectra=false").returncode == 0
    out = tmp_path / "run"
    p = subprocess.Popen([BINARY, "--threads", "1", "run", TINY, "train.steps=8000",
                          "train.log_every=100", "train.checkpoint_every=500",
                          "probe.spectra=false", "--out", out], stdout=subprocess.DEVNULL)
    wait_for(out / "checkpoints" / "step_00000500.ckpt")
    p.send_signal(signal.SIGKILL)
    p.wait()
    killed_mid_way = not (out / "summary.json").exists()
    assert killed_mid_way, "the run ended before the kill"
    assert (out / "run.lock").exists()
    r = run_tiny(out, resume=True)
    assert r.returncode == 0, r.stderr
    assert f"took over the lock of pid {p.pid}" in r.stderr, r.stderr
    assert (out / "metrics.jsonl").read_bytes() == (ref / "metrics.jsonl").read_bytes()
    record(fault="a stale lock: the training process killed with SIGKILL",
           how="an 8,000-step tiny run killed with SIGKILL after its step-500 checkpoint "
               f"({'before' if killed_mid_way else 'after'} it ended), then `run --resume`",
           outcome="the resume takes the lock over, saying so; metrics.jsonl byte-identical to "
                   "an uninterrupted run")


def test_another_hosts_lock_counts_until_its_heartbeat_is_stale(tmp_path, record):
    out = tmp_path / "run"
    assert run_tiny(out, "train.steps=20").returncode == 0
    now = time.time()
    (out / "run.lock").write_text(json.dumps({"host": "node-17", "pid": 4242, "started": now}))
    beat = {"host": "node-17", "pid": 4242, "step": 10, "steps": 40, "steps_per_s": 1.0,
            "wall_time_s": 10.0, "updated": now}
    (out / "heartbeat.json").write_text(json.dumps(beat))
    busy = run_tiny(out, "train.steps=40", resume=True)
    assert busy.returncode != 0 and "pid 4242 on host node-17" in busy.stderr, busy.stderr
    beat["updated"] = now - 120
    (out / "heartbeat.json").write_text(json.dumps(beat))
    taken = run_tiny(out, "train.steps=40", resume=True)
    assert taken.returncode == 0, taken.stderr
    assert "took over the lock of pid 4242 on node-17" in taken.stderr
    record(fault="another host's lock (a shared filesystem)",
           how="run.lock and heartbeat.json of host node-17 written into a finished run, then "
               "`run --resume DIR train.steps=40` with the heartbeat 0 s and 120 s old",
           outcome="refused while the heartbeat is fresh (< 60 s); taken over, saying so, "
                   "once it is stale")
