"""gradscope.Arrays: a user's own arrays train any built-in model. The acceptance case: (a*b) mod
97 given as the arrays gradscope.task_data returns trains to metrics.jsonl byte-identical to the
command line's run of the built-in task. The run keeps its data (data.npz, its hash in
config.toml) and resumes without the original; sweeps take data too; bad arrays are a
ValueError naming the array, with nothing written.

Run by ctest (label python) with PYTHONPATH=<build>/python and GRADSCOPE_BINARY set.
"""

import os
import subprocess
import tomllib

import numpy as np
import pytest

import gradscope as gs

BINARY = os.environ["GRADSCOPE_BINARY"]

EXPERIMENT = {
    "name": "xy97", "seed": 2,
    "task": {"name": "modular", "op": "a*b", "p": 97, "train_fraction": 0.4},
    "model": {"type": "transformer", "n_layers": 1, "d_model": 32, "n_heads": 2, "d_mlp": 64},
    "optim": {"name": "adamw", "lr": 1e-3, "weight_decay": 1.0},
    "train": {"steps": 40, "log_every": 10},
}


def arrays_of(experiment, **scalars):
    d = gs.task_data(experiment)
    return gs.Arrays(d["x_train"], d["y_train"], d["x_test"], d["y_test"], **scalars)


def test_the_built_in_task_as_arrays_trains_byte_identically_to_the_cli(tmp_path):
    exp = tmp_path / "xy.toml"
    exp.write_text(gs.training._toml_text(EXPERIMENT))
    subprocess.run([BINARY, "run", exp, "--out", tmp_path / "cli"], check=True,
                   capture_output=True)
    run = gs.run(EXPERIMENT, out=tmp_path / "py", data=arrays_of(EXPERIMENT))
    assert (tmp_path / "cli/metrics.jsonl").read_bytes() == \
        (tmp_path / "py/metrics.jsonl").read_bytes()
    assert run.config["task"]["name"] == "arrays"
    assert run.config["task"]["path"] == "data.npz"
    assert len(run.config["task"]["data_hash"]) == 16
    kept = run.data
    assert kept.x_train.dtype == np.int32 and kept.x_train.shape == (3763, 3)
    assert np.array_equal(kept.y_test, gs.task_data(EXPERIMENT)["y_test"])
    assert gs.Run(tmp_path / "cli").data is None
    # Its config with other arrays is a new run on those (their own hash, not the old one's).
    other = arrays_of(dict(EXPERIMENT, task=dict(EXPERIMENT["task"], split_seed=7)))
    again = gs.run(run.config, out=tmp_path / "other", data=other)
    assert again.config["task"]["data_hash"] != run.config["task"]["data_hash"]
    # It resumes from its own copy.
    longer = gs.run(resume=tmp_path / "py", overrides={"train.steps": 60})
    assert longer.metrics["step"].iloc[-1] == 60


def test_saved_arrays_run_from_the_command_line_with_the_same_hash(tmp_path):
    data = arrays_of(EXPERIMENT)
    gs.run(EXPERIMENT, out=tmp_path / "py", data=data)
    data.save(tmp_path / "mine.npz")
    exp = tmp_path / "arrays.toml"
    exp.write_text(gs.training._toml_text(EXPERIMENT) + "")
    done = subprocess.run([BINARY, "run", exp, "task.name=arrays", "task.path=mine.npz",
                           "--out", tmp_path / "cli"], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "cli/config.toml", "rb") as f:
        cli_hash = tomllib.load(f)["task"]["data_hash"]
    assert cli_hash == gs.Run(tmp_path / "py").config["task"]["data_hash"]
    assert (tmp_path / "cli/metrics.jsonl").read_bytes() == \
        (tmp_path / "py/metrics.jsonl").read_bytes()


def test_float_features_with_real_targets_train_the_regression_models(tmp_path):
    rng = np.random.default_rng(0)
    w = np.array([3.0, 2.0, 1.0, 0.5])
    x_train, x_test = rng.normal(size=(64, 4)), rng.normal(size=(32, 4))
    data = gs.Arrays(x_train, x_train @ w, x_test, x_test @ w)
    experiment = {"name": "lin", "model": {"type": "diagonal", "depth": 2, "init_scale": 0.1},
                  "optim": {"name": "sgd", "lr": 0.05, "weight_decay": 0.0},
                  "train": {"steps": 400, "log_every": 100}}
    run = gs.run(experiment, out=tmp_path / "lin", data=data)
    assert run.summary["status"] == "completed"
    assert run.metrics["test_loss"].iloc[-1] < 1e-3 * run.metrics["test_loss"].iloc[0]
    # The dense MLP reads the same features and regresses (one output per target column).
    dense = {"name": "dense", "model": {"type": "mlp", "mlp_form": "dense", "d_hidden": 32},
             "optim": {"name": "adamw", "lr": 1e-2, "weight_decay": 0.0},
             "train": {"steps": 300, "log_every": 100}}
    run = gs.run(dense, out=tmp_path / "dense", data=data)
    assert run.metrics["test_loss"].iloc[-1] < 0.05 * run.metrics["test_loss"].iloc[0]


def test_targets_at_every_position_train_a_transformer(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 10, size=(200, 6))
    y = (x + 1) % 10  # next token: each one plus one
    data = gs.Arrays(x[:150], y[:150], x[150:], y[150:])
    experiment = {"name": "lm", "model": {"type": "transformer", "n_layers": 1, "d_model": 32,
                                          "n_heads": 2, "d_mlp": 64},
                  "optim": {"name": "adamw", "lr": 3e-3, "weight_decay": 0.0},
                  "train": {"steps": 300, "log_every": 100}}
    run = gs.run(experiment, out=tmp_path / "lm", data=data)
    assert run.metrics["test_acc"].iloc[-1] > 0.95


def test_a_sweep_takes_data(tmp_path):
    frame = gs.sweep(EXPERIMENT, {"optim.weight_decay": [0.5, 1.0]}, root=tmp_path / "runs",
                     data=arrays_of(EXPERIMENT))
    assert len(frame) == 2
    hashes = set()
    for run_dir in (tmp_path / "runs" / "xy97").iterdir():
        if run_dir.is_dir() and (run_dir / "summary.json").exists():
            assert (run_dir / "data.npz").exists()
            hashes.add(gs.Run(run_dir).config["task"]["data_hash"])
    assert len(hashes) == 1


@pytest.mark.parametrize("change, message", [
    (lambda a: setattr(a, "classes", 50), "data: y_train holds"),
    (lambda a: setattr(a, "vocab", 10), "data: x_train holds 80 at [0, 0] (valid: 0..9, vocab = 10)"),
    (lambda a: setattr(a, "x_train", a.x_train.astype(np.float32)),
     "data: x_test is int32 but x_train is float32"),
    (lambda a: (setattr(a, "x_train", a.x_train.astype(float)),
                setattr(a, "x_test", a.x_test.astype(float))),
     "data: x_train is float64: the model reads token ids (valid: an integer array [N, L])"),
    (lambda a: setattr(a, "y_test", a.y_test[:5]), "data: y_test has 5 rows but x_test has"),
])
def test_bad_arrays_are_a_value_error_with_nothing_written(tmp_path, change, message):
    data = arrays_of(EXPERIMENT)
    change(data)
    with pytest.raises(ValueError) as error:
        gs.run(EXPERIMENT, out=tmp_path / "bad", data=data)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "bad").exists()


def test_ragged_rows_and_a_malformed_file(tmp_path):
    d = gs.task_data(EXPERIMENT)
    with pytest.raises(ValueError, match="x_train"):
        gs.Arrays([[1, 2], [3]], d["y_train"], d["x_test"], d["y_test"])
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really")
    exp = dict(EXPERIMENT, task={"name": "arrays", "path": str(bad)})
    with pytest.raises(ValueError, match="not a .npz archive"):
        gs.run(exp, out=tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    with pytest.raises(ValueError, match="data is list"):
        gs.run(EXPERIMENT, out=tmp_path / "bad", data=[1, 2])
