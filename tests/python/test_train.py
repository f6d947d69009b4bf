"""gradscope.run trains in-process exactly as `gradscope run` does: the same run directory byte for
byte (metrics, config.toml, the checkpoint's arrays) from a file with overrides and from a dict; Ctrl-C writes
a checkpoint and raises KeyboardInterrupt, and resume continues to the uninterrupted run's
metrics; bad input is a ValueError naming the key, with nothing written.

Run by ctest (label python) with PYTHONPATH=<build>/python and GRADSCOPE_BINARY set.
"""

import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

import gradscope as gs

BINARY = os.environ["GRADSCOPE_BINARY"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SMALL = EXAMPLES / "grok-mlp-small.toml"


def cli_run(out, *overrides):
    subprocess.run([BINARY, "run", SMALL, *overrides, "--out", out], check=True,
                   capture_output=True)


def same_files(a: Path, b: Path, names):
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_a_file_with_overrides_trains_the_same_run_as_the_cli(tmp_path):
    cli_run(tmp_path / "cli", "train.steps=300", "optim.weight_decay=0.5")
    run = gs.run(SMALL, {"train.steps": 300, "optim.weight_decay": 0.5}, out=tmp_path / "py")
    assert isinstance(run, gs.Run) and run.summary["steps_done"] == 300
    same_files(tmp_path / "cli", tmp_path / "py", ["metrics.jsonl", "metrics.csv", "config.toml"])
    cli = gs.Run(tmp_path / "cli")  # the checkpoint's arrays (its header holds wall time)
    for name, value in cli.params(300).items():
        assert value.tobytes() == run.params(300)[name].tobytes(), name
    for buffer, values in cli.optimizer_state(300).items():
        for name, value in values.items():
            assert value.tobytes() == run.optimizer_state(300)[buffer][name].tobytes(), name
    # The list form of the overrides is the command line's.
    gs.run(SMALL, ["train.steps=300", "optim.weight_decay=0.5"], out=tmp_path / "list")
    same_files(tmp_path / "cli", tmp_path / "list", ["metrics.jsonl"])


def test_a_dict_experiment_is_the_toml_file(tmp_path):
    with open(SMALL, "rb") as f:
        experiment = tomllib.load(f)
    experiment["train"]["steps"] = 200
    run = gs.run(experiment, out=tmp_path / "dict")
    cli_run(tmp_path / "cli", "train.steps=200")
    same_files(tmp_path / "cli", tmp_path / "dict", ["metrics.jsonl", "config.toml"])
    assert run.config["train"]["steps"] == 200


def test_bad_input_is_a_value_error_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="optim.weight_decy"):
        gs.run(SMALL, {"optim.weight_decy": 0.3}, out=tmp_path / "a")
    with pytest.raises(ValueError, match="optim.lr"):
        gs.run(SMALL, {"optim.lr": "fast"}, out=tmp_path / "b")
    with pytest.raises(ValueError, match="a bool, number, string or list"):
        gs.run(SMALL, {"optim.lr": {"x": 1}}, out=tmp_path / "c")
    assert not any(tmp_path.iterdir())
    gs.run(SMALL, {"train.steps": 20}, out=tmp_path / "d")
    with pytest.raises(ValueError, match="--force"):
        gs.run(SMALL, {"train.steps": 20}, out=tmp_path / "d")
    with pytest.raises(ValueError, match="optim.lr cannot change"):
        gs.run(resume=tmp_path / "d", overrides={"optim.lr": 0.1})


CHILD = """
import sys, gradscope as gs
try:
    gs.run(sys.argv[1], ["train.steps=200000", "train.checkpoint_every=100"], out=sys.argv[2])
except KeyboardInterrupt as e:
    print("KeyboardInterrupt:", e)
    sys.exit(3)
"""


def test_ctrl_c_writes_a_checkpoint_raises_and_resumes(tmp_path):
    out = tmp_path / "stopped"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(SMALL), str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=os.environ)
    deadline = time.time() + 60
    while time.time() < deadline and not (out / "checkpoints" / "step_00000100.ckpt").exists():
        time.sleep(0.05)
    time.sleep(0.3)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 3, stderr
    assert "KeyboardInterrupt" in stdout and "resume=" in stdout
    run = gs.Run(out)
    assert run.summary["status"] == "interrupted"
    stopped_at = run.summary["steps_done"]
    # Continue to a nearby end: the same metrics as a run of that length never interrupted.
    end = stopped_at + 150
    resumed = gs.run(resume=out, overrides={"train.steps": end})
    assert resumed.summary["steps_done"] == end
    cli_run(tmp_path / "whole", f"train.steps={end}", "train.checkpoint_every=100")
    same_files(tmp_path / "whole", out, ["metrics.jsonl"])


def test_task_data_is_the_split_a_run_builds():
    d = gs.task_data(SMALL)
    assert d["x_train"].shape == (576, 2) and d["x_test"].shape == (385, 2)
    assert d["x_train"].dtype == np.int32 and d["y_train"].shape == (576,)
    x = np.concatenate([d["x_train"], d["x_test"]])
    y = np.concatenate([d["y_train"], d["y_test"]])
    assert len({(int(a), int(b)) for a, b in x}) == 31 * 31  # every pair once
    assert np.array_equal(y, (x[:, 0] + x[:, 1]) % 31)
    assert d["vocab"] == 31 and d["num_classes"] == 31 and not d["regression"]
    again = gs.task_data(SMALL)
    assert np.array_equal(again["x_train"], d["x_train"])  # deterministic: task.split_seed
    other = gs.task_data(SMALL, {"task.split_seed": 1})
    assert not np.array_equal(other["x_train"], d["x_train"])
    nanda = gs.task_data(EXAMPLES / "nanda-grokking.toml")
    assert nanda["x_train"].shape == (3830, 3) and np.all(nanda["x_train"][:, 2] == 113)
    assert nanda["equals_token"] == 113 and nanda["vocab"] == 114
    saxe = gs.task_data(EXAMPLES / "saxe-deep-linear.toml")
    assert saxe["regression"] and saxe["x_train"].dtype == np.float64
    assert saxe["y_train"].ndim == 2
    with pytest.raises(ValueError, match="task.p"):
        gs.task_data(SMALL, {"task.p": 1})
    icl = gs.task_data(EXAMPLES / "icl-fresh-tasks.toml",
                       {"task.n_test": 50, "task.n_pool": 3})
    x, y = icl["x_test"], icl["y_test"]  # tokens [N, 2K, d + 1], targets [N, K]
    assert x.shape == (50, 16, 5) and y.shape == (50, 8) and icl["fresh_samples"]
    assert np.array_equal(x[:, 1::2, 0], y) and np.all(x[:, ::2, 0] == 0)
    ridge = icl["baselines_test"]["ridge"]
    assert set(icl["baselines_train"]) == {"ridge", "dmmse", "least_squares", "zero"}
    # Ridge (lambda = 0.25) recomputed in NumPy at query 6 of each sequence from its 5 pairs.
    X, Y = x[:, ::2, 1:][:, :5], y[:, :5]
    Xt = X.transpose(0, 2, 1)
    w = np.linalg.solve(Xt @ X + 0.25 * np.eye(4), Xt @ Y[..., None])  # [N, 4, 1]
    assert np.allclose(ridge[:, 5], (x[:, 10, 1:][:, None, :] @ w)[:, 0, 0])


def test_sweep_runs_every_point_once_and_returns_them_from_the_index(tmp_path):
    root = tmp_path / "runs"
    frame = gs.sweep(SMALL, {"train.steps": 100, "optim.weight_decay": [0.1, 1.0]}, jobs=2,
                     root=root)
    assert sorted(frame["optim.weight_decay"]) == [0.1, 1.0]
    assert set(frame["status"]) == {"completed"}
    mtimes = {p: p.stat().st_mtime_ns for p in root.rglob("metrics.jsonl")}
    assert len(mtimes) == 2
    again = gs.sweep(SMALL, ["train.steps=100", "optim.weight_decay=0.1,1.0"], root=root)
    assert len(again) == 2  # nothing run twice
    assert {p: p.stat().st_mtime_ns for p in root.rglob("metrics.jsonl")} == mtimes
    named = gs.sweep(SMALL, {"train.steps": 100, "optim.weight_decay": [0.1, 1.0],
                             "name": "named"}, root=root)  # a dict's name: TOML-quoted
    assert len(named) == 2 and set(named["sweep"]) == {"named"}
    with pytest.raises(ValueError, match="optim.weight_decy"):
        gs.sweep(SMALL, {"optim.weight_decy": [0.1, 0.2]}, root=root)


def test_a_sweep_whose_runs_fail_raises_naming_them(tmp_path, monkeypatch):
    """A sweep that exits 1 (some runs failed) raises RuntimeError with their lines; the sweep
    command's own output is what the fake returns here."""
    import subprocess
    from gradscope import training

    def failing(command, **kwargs):
        return subprocess.CompletedProcess(
            command, 1, stderr="gradscope: failed run 0123abcd (exit 1): no CUDA GPU here\n")
    monkeypatch.setattr(training.subprocess, "run", failing)
    with pytest.raises(RuntimeError, match="1 run\\(s\\) failed.*0123abcd"):
        gs.sweep(SMALL, {"train.steps": 10, "seed": [0, 1]}, root=tmp_path / "r")


def test_a_sweep_of_replicas_is_the_same_runs(tmp_path):
    """replicas=K trains the runs as one group: the same ids and the same metrics as plain runs."""
    axes = {"train.steps": 60, "seed": [0, 1, 2]}
    group = gs.sweep(SMALL, axes, replicas=3, threads=2, root=tmp_path / "group")
    plain = gs.sweep(SMALL, axes, jobs=2, root=tmp_path / "plain")
    assert sorted(group["id"]) == sorted(plain["id"]) and len(group) == 3
    assert set(group["status"]) == {"completed"}
    files = sorted((tmp_path / "group").rglob("metrics.jsonl"))
    assert len(files) == 3
    for a in files:
        b = tmp_path / "plain" / a.relative_to(tmp_path / "group")
        assert a.read_bytes() == b.read_bytes()
    logs = list((tmp_path / "group").rglob("*.group.log"))
    assert len(logs) == 1 and "3 runs of" in logs[0].read_text()
    with pytest.raises(ValueError, match="--replicas 0"):
        gs.sweep(SMALL, axes, replicas=0, root=tmp_path / "bad")


def test_values_and_config_text_are_the_cores():
    """Overrides and experiment dicts are written by the C++ core (its value grammar and its
    config writer): nothing is parsed or written as TOML in Python."""
    core = gs._core
    assert core.assignment("optim.lr", 0.1) == "optim.lr=0.1"
    assert core.assignment("task.unordered", True) == "task.unordered=true"
    assert core.assignment("name", 'a "b"') == 'name="a \\"b\\""'
    assert core.assignment("optim.weight_decay", [0.1, 1], True) == "optim.weight_decay=0.1,1"
    assert core.assignment("task.target", [3, 2], True) == "task.target=[3.0, 2.0]"
    assert (core.assignment("task.target", [[3, 2], [1, 1]], True)
            == "task.target=[3.0, 2.0],[1.0, 1.0]")
    for bad in (float("nan"), {"a": 1}, [1, "x"], None, [True]):
        with pytest.raises(ValueError, match="optim.lr = "):
            core.assignment("optim.lr", bad)
    text = core.experiment_toml({"name": "t", "task": {"p": 7}, "optim": {"lr": 0.01},
                                 "sweep": {"optim.weight_decay": [0.1, 1.0]}})
    parsed = tomllib.loads(text)
    assert (parsed["name"], parsed["task"]["p"], parsed["optim"]["lr"]) == ("t", 7, 0.01)
    assert "sweep" not in parsed
    with pytest.raises(ValueError, match="task.q"):
        core.experiment_toml({"task": {"q": 1}})
    with pytest.raises(ValueError, match="sections hold values"):
        core.experiment_toml({"task": {"p": {"x": 1}}})
