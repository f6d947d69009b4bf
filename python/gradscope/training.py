"""Training from Python: gradscope.run trains in this process, exactly as `gradscope run` does;
gradscope.sweep runs a sweep through the gradscope executable (a sweep is processes anyway).

The experiment is a TOML file or a dict shaped like one; overrides are a dict of dotted keys or a
list of "key=value" strings (the command line's). The C++ core trains with the GIL released,
writes the same run directory (config.toml, metrics, checkpoints, summary) and index entry, and
prints the same progress lines. Ctrl-C stops at the next step, writes a checkpoint and raises
KeyboardInterrupt; gradscope.run(resume=...) continues from it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import _core
from .arrays import Arrays
from .results import Run, runs


def _toml_text(experiment: dict) -> str:
    """An experiment dict ({"name": ..., "task": {"p": 113, ...}, ...}) as TOML text, written by
    the core (its keys and values checked there)."""
    return _core.experiment_toml(experiment)


def _override_list(overrides, axes: bool = False) -> list[str]:
    """Overrides as key=value texts: a dict's through the core's value grammar (with `axes`, a
    list is a sweep axis), strings as they are."""
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return [_core.assignment(k, v, axes) for k, v in overrides.items()]
    if isinstance(overrides, str):
        return [overrides]
    return [str(o) for o in overrides]


def _experiment_args(experiment) -> tuple[str, bool, str]:
    """(file or TOML text, whether it is text, origin) for the C++ core."""
    if isinstance(experiment, dict):
        return _toml_text(experiment), True, "<experiment dict>"
    if experiment is None:
        raise ValueError("an experiment is a TOML file or a dict shaped like one")
    return str(experiment), False, str(experiment)


def _request(**fields) -> "_core.RunRequest":
    """A run's request to the core (sweep/launch.h), its fields named."""
    request = _core.RunRequest()
    for name, value in fields.items():
        setattr(request, name, value)
    return request


def task_data(experiment: str | os.PathLike | dict, overrides=None) -> dict:
    """A built-in task's data exactly as a run of `experiment` (with `overrides`) builds it:
    x_train, y_train, x_test, y_test as NumPy arrays (token or operand ids [N, L] int32, or real
    features [N, F]; class ids [N] or [N, P] int32, or real targets [N, Y]), groups_* for
    multitask tasks, and vocab, num_classes, equals_token, regression, fresh_samples (for tasks
    that draw new training samples every step, x_train and y_train are the fixed sample the
    train_* metrics are measured on) and description.
    Tasks that draw fresh samples also give sample(seed, step, n): the n training examples a run
    of that seed draws at that step, as {"x_batch", "y_batch"} (a PyTorch peer trains on them).
    Text tasks (task.name = "text") give their train_* and test_* evaluation windows."""
    return _core.task_data(*_experiment_args(experiment), _override_list(overrides))


class _DataFile:
    """`data` (an Arrays) saved as a temporary .npz, and the overrides that make a run read it;
    error messages name the data rather than the temporary file."""

    def __init__(self, data):
        if data is not None and not isinstance(data, Arrays):
            raise ValueError(f"data is {type(data).__name__} (valid: gradscope.Arrays(x_train, "
                             "y_train, x_test, y_test))")
        self.data, self.tmp, self.overrides = data, None, []
        if data is not None:
            self.tmp = tempfile.TemporaryDirectory(prefix="gradscope-data-")
            self.path = str(Path(self.tmp.name) / "data.npz")
            data.save(self.path)
            # A config taken from an earlier arrays run names that run's data hash: these
            # arrays are new data, so their own hash is taken.
            self.overrides = ["task.name=arrays", f"task.path={self.path}", "task.data_hash="]

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if self.tmp is not None:
            self.tmp.cleanup()
        if isinstance(error, ValueError) and self.tmp is not None:
            message = str(error).replace(f"task.path {self.path}: ", "data: ")
            raise ValueError(message.replace(self.path, "data")) from None
        return False


def run(experiment: str | os.PathLike | dict | None = None, overrides=None,
        out: str | os.PathLike | None = None, *, resume: str | os.PathLike | None = None,
        force: bool = False, data: Arrays | None = None) -> Run:
    """Trains `experiment` (a TOML file or a dict shaped like one) with `overrides` into `out`
    (default runs/<name>) and returns its Run; or continues the run directory `resume` (the
    overrides may then only extend train.steps). `data` (gradscope.Arrays) trains the
    experiment's model on your arrays instead of its task (task.name = "arrays"; the run keeps
    them as data.npz). A bad key or value, or bad data, raises ValueError before anything is
    written; an existing `out` needs force=True. A run that diverges returns its Run (summary
    status "diverged")."""
    over = _override_list(overrides)
    if resume is not None:
        if experiment is not None or data is not None:
            raise ValueError("run(resume=...) takes no experiment or data: they are the run's own")
        code, target = _core.launch_run(_request(overrides=over, resume=str(resume)))
    elif experiment is not None:
        with _DataFile(data) as file:
            text, is_text, origin = _experiment_args(experiment)
            code, target = _core.launch_run(_request(
                experiment=text, text=is_text, origin=origin, overrides=over + file.overrides,
                out=str(out or ""), force=force))
    else:
        raise ValueError("run needs an experiment (a TOML file or a dict) or resume=RUN_DIR")
    if code == 130:
        raise KeyboardInterrupt(f"{target}: interrupted; a checkpoint was written "
                                f"(continue with gradscope.run(resume={str(target)!r}))")
    return Run(target)


def _executable() -> str:
    """The gradscope executable a sweep's runs are started with: $GRADSCOPE_BINARY, the build
    tree's (this package built into <build>/python/gradscope), or the one on the PATH."""
    here = Path(__file__).resolve()
    for candidate in (os.environ.get("GRADSCOPE_BINARY"), here.parents[2] / "gradscope",
                      shutil.which("gradscope")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise FileNotFoundError("the gradscope executable was not found (make build, make install, "
                            "or set GRADSCOPE_BINARY)")


def sweep(experiment: str | os.PathLike | dict, overrides=None, *, jobs: int = 1,
          root: str | os.PathLike = "runs", threads: int = 1, data: Arrays | None = None,
          replicas: int = 1):
    """Runs a sweep as `gradscope sweep` does (the experiment's [sweep] section and/or
    overrides with several values, {"optim.weight_decay": [0.1, 0.3]} or
    ["optim.weight_decay=0.1,0.3"]), `jobs` runs at a time, into root/<name>/, each added to
    root/index.sqlite; a rerun skips finished runs and resumes interrupted ones. Returns the
    sweep's runs from the index as a DataFrame (gradscope.runs). Bad input raises ValueError
    with the command line's message; runs that fail raise RuntimeError naming them; Ctrl-C stops the runs (each writes a checkpoint) and raises
    KeyboardInterrupt. `data` (gradscope.Arrays) trains every run on your arrays, as in run().
    `replicas` > 1 trains up to that many runs that differ only in replica-safe keys (the seed,
    the learning rate, ...) together in one process on `threads` threads, as
    `gradscope sweep --replicas` does; every run is still its own run directory."""
    args = _override_list(overrides, axes=True)
    if isinstance(experiment, dict):  # its [sweep] section, as axes on the command line
        args = _override_list(experiment.get("sweep", {}), axes=True) + args
    with tempfile.TemporaryDirectory() as tmp, _DataFile(data) as data_file:
        args += data_file.overrides
        if isinstance(experiment, dict):
            file = Path(tmp) / "experiment.toml"
            file.write_text(_toml_text(experiment))
        else:
            file = Path(experiment)
        # The sweep's name as the core reads it (name="x" from a dict is TOML-quoted).
        names = [a for a in args if a.startswith("name=")]
        name = _core.experiment_config(str(file), names)["name"]
        command = [_executable(), "--threads", str(threads), "sweep", str(file), *args,
                   "--root", str(root), "--jobs", str(jobs), "--replicas", str(replicas)]
        try:
            done = subprocess.run(command, stderr=subprocess.PIPE, text=True)
        except KeyboardInterrupt:
            raise KeyboardInterrupt(f"{root}/{name}: interrupted; run gradscope.sweep again to "
                                    "finish it") from None
        if done.returncode == 2:
            raise ValueError(done.stderr.strip().removeprefix("gradscope: error: "))
        if done.returncode != 0:  # runs that failed: their lines, the finished ones still indexed
            failed = [line for line in done.stderr.splitlines() if "failed run" in line]
            if not failed:  # the sweep itself stopped: its own last lines
                raise RuntimeError(f"{root}/{name}: gradscope sweep exited {done.returncode}: "
                                   + " ".join(done.stderr.strip().splitlines()[-2:]))
            raise RuntimeError(
                f"{root}/{name}: {len(failed)} run(s) failed (gradscope.runs({str(root)!r}, "
                f"where=['sweep={name}']) has the others): " + "; ".join(failed[:3]))
    return runs(root, where=[f"sweep={name}"])
