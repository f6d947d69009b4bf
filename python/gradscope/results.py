"""Reading results: gradscope.Run (a run directory) and gradscope.runs (the results index).

A run directory is the contract between training and everything that reads it (docs/FORMATS.md).
The file names and binary layouts come from the C++ core (gradscope._core, through rundir/), so
this module never spells a file name itself. Arrays are NumPy views of memory-mapped files where
the file's layout allows it (spectra, Fourier norms, checkpoint buffers): nothing is copied until
it is used.
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np

from . import _core
from .arrays import Arrays

if TYPE_CHECKING:
    import pandas as pd


def _pandas():
    """pandas, imported when the first table is made: it is most of `import gradscope`'s time
    (about 0.15 s of 0.24), which reading arrays, checkpoints or training should not pay."""
    import pandas

    return pandas


RunError = _core.RunError  # a corrupt or partial file (a ValueError), named in the message


def _fail(path: Path, what: str) -> RunError:
    return RunError(f"{path}: {what}")


class Run:
    """One run directory, read lazily: each property reads its file on first use.

    config            dict: the resolved config (every key; sections as nested dicts)
    metrics           pandas DataFrame, one row per logged step, the columns of metrics.jsonl
    summary           dict (summary.json), or None while the run has not ended
    spectra           {matrix: (steps [n], singular values [n, k])}
    fourier           {matrix: (steps [n], norms per frequency [n, (p-1)/2])}
    llc               DataFrame, a row per step estimated (gradscope llc or probe.llc): step,
                      llc (mean over the chains that did not diverge), llc_std, init_loss
                      (L_n(w*)) and chain_<i>; .attrs holds llc/settings.json (nbeta, nbeta_how)
    llc_trace(step)   ndarray [chains, draws]: every draw's loss at that step
    hessian           DataFrame, a row per step measured (gradscope hessian or probe.hessian):
                      step, top_<i> (descending), trace, trace_error, per parameter tensor
                      <name>.top, <name>.trace, <name>.trace_error, and with
                      hessian.preconditioned Adam's preconditioned sharpness; .attrs its settings
    measure_llc(step=None, **settings), measure_hessian(step=None, **settings)
                      run gradscope llc / hessian at one checkpoint (default: the last) with
                      llc.* / hessian.* settings (e.g. chains=8) and return its row
    checkpoint_steps  steps of the checkpoints present, ascending
    params(step)      {name: ndarray shaped like the parameter} at a checkpoint (default: last)
    initial_params()  {name: ndarray}: W_0 (every checkpoint keeps it)
    optimizer_state(step)  {buffer: {name: ndarray}}: the optimizer's state per parameter
    data              gradscope.Arrays a task.name = "arrays" run trained on (its copy), or None
    inside_steps      steps of the inside view's complete frames (probe.inside, gradscope inside)
    inside(step)      {name: ndarray} of that frame (default: the last): param.<name> [r, c],
                      neurons [k, p, p], embed_pca and embed_key [p, 2], attention, predictions
                      (whichever the task has; docs/FORMATS.md), with "frame" (frame.json) and
                      "layout" (inside/inside.json: the kept rows and columns, neurons, windows)
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"{self.path}: no such run directory")
        if not _core.is_run_dir(self.path):
            raise _fail(self.path, "not a gradscope run directory (no config.toml)")
        self._files = _core.run_paths(self.path)

    def __repr__(self) -> str:
        return f"gradscope.Run({str(self.path)!r})"

    @cached_property
    def config(self) -> dict:
        try:
            return _core.run_config(self.path)  # read by the core, every key resolved
        except ValueError as e:
            raise _fail(self._files["config"], f"malformed TOML ({e})") from None

    @cached_property
    def metrics(self) -> pd.DataFrame:
        if not self._files["metrics"].exists():
            return _pandas().DataFrame()
        names, table = _core.metrics_table(self.path)  # float64 [rows, columns]
        frame = _pandas().DataFrame(table, columns=names, copy=False)
        if "step" in frame:
            frame["step"] = frame["step"].astype(np.int64)
        return frame

    @cached_property
    def summary(self) -> dict | None:
        file = self._files["summary"]
        if not file.exists():
            return None
        try:
            return json.loads(file.read_text())
        except json.JSONDecodeError as e:
            raise _fail(file, f"malformed JSON ({e})") from None

    @cached_property
    def spectra(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return _probe_rows(self._files["spectra"])

    @cached_property
    def fourier(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return _probe_rows(self._files["fourier"])

    @property
    def llc(self) -> pd.DataFrame:
        frame = _step_table(self._files["llc"], {"init_loss": None, "llc": "chain_"})
        if "chain_0" in frame:
            chains = frame.filter(like="chain_")
            frame.insert(1, "llc", chains.mean(axis=1, skipna=True))
            frame.insert(2, "llc_std", chains.std(axis=1, ddof=1, skipna=True))
        return frame

    def llc_trace(self, step: int) -> np.ndarray:
        file = _core.llc_trace_file(self.path, step)
        if not file.exists():
            steps = sorted(int(f.stem.split("_")[-1]) for f in file.parent.glob("trace_*.npy"))
            raise ValueError(f"{self.path}: no LLC trace at step {step} "
                             f"(valid: {', '.join(map(str, steps)) or 'none: run gradscope llc'})")
        return np.load(file)

    @property
    def hessian(self) -> pd.DataFrame:
        columns = {"top": "top_", "trace": ["trace", "trace_error"]}
        folder = self._files["hessian"]
        if folder.is_dir():
            for f in sorted(folder.glob("tensor.*.npy")):
                name = f.stem[len("tensor."):]
                columns[f.stem] = [f"{name}.top", f"{name}.trace", f"{name}.trace_error"]
            if (folder / "preconditioned.npy").exists():
                columns["preconditioned"] = None
        return _step_table(folder, columns)

    def measure_llc(self, step: int | None = None, **settings) -> pd.Series:
        return self._measure("llc", step, settings)

    def measure_hessian(self, step: int | None = None, **settings) -> pd.Series:
        return self._measure("hessian", step, settings)

    def _measure(self, measure: str, step: int | None, settings: dict) -> pd.Series:
        steps = "last" if step is None else str(int(step))
        over = [_core.assignment(f"{measure}.{k}", v) for k, v in settings.items()]
        _core.measure_checkpoints(measure, self.path, steps, over)
        at = self.checkpoint_steps[-1] if step is None else int(step)
        table = getattr(self, measure)  # read afresh: not cached
        return table[table["step"] == at].iloc[0]

    @cached_property
    def data(self):
        task = self.config.get("task", {})
        if task.get("name") != "arrays":
            return None
        file = Path(task["path"])  # a run's copy is relative to the run directory
        return Arrays.load(file if file.is_absolute() else self.path / file)

    @property
    def checkpoint_steps(self) -> list[int]:
        return list(_core.checkpoint_steps(self.path))

    @property
    def inside_steps(self) -> list[int]:
        folder = self.path / "inside"
        if not folder.is_dir():
            return []
        return sorted(int(f.name) for f in folder.iterdir()
                      if f.name.isdigit() and (f / "frame.json").exists())

    def inside(self, step: int | None = None) -> dict:
        steps = self.inside_steps
        if not steps:
            raise _fail(self.path / "inside", "has no frames (run with probe.inside = true, "
                        "or gradscope inside RUN)")
        if step is None:
            step = steps[-1]
        if step not in steps or isinstance(step, bool):
            raise ValueError(f"{self.path}: no inside frame at step {step} (steps: {steps})")
        folder = self.path / "inside" / str(int(step))  # 100.0 names step 100
        try:
            out = {f.stem: np.load(f) for f in sorted(folder.glob("*.npy"))}
            out["frame"] = json.loads((folder / "frame.json").read_text())
            out["layout"] = json.loads((self.path / "inside" / "inside.json").read_text())
        except (ValueError, OSError) as e:
            raise _fail(folder, f"a corrupt or missing frame file ({e})") from None
        return out

    def params(self, step: int | None = None) -> dict[str, np.ndarray]:
        return self._checkpoint(step).arrays("values")

    def initial_params(self) -> dict[str, np.ndarray]:
        return self._checkpoint(None).arrays("initial")

    def optimizer_state(self, step: int | None = None) -> dict[str, dict[str, np.ndarray]]:
        ckpt = self._checkpoint(step)
        return {b: ckpt.arrays(b) for b in ckpt.buffer_names() if b not in ("values", "initial")}

    def _checkpoint(self, step: int | None) -> "_Checkpoint":
        steps = self.checkpoint_steps
        if not steps:
            raise _fail(self.path, "has no checkpoints")
        if step is None:
            step = steps[-1]
        if isinstance(step, (bool, str)) or step not in steps:  # 100.0 is step 100; "100" is not
            raise ValueError(f"{self.path}: no checkpoint at step {step!r} (valid: one of {steps})")
        return _Checkpoint(_core.checkpoint_file(self.path, int(step)))


class _Checkpoint:
    """A checkpoint file mapped read-only; arrays are views of the mapping."""

    def __init__(self, file: Path):
        self.file = file
        self.layout = _core.checkpoint_layout(file)
        self.dtype = np.dtype("<f8" if self.layout["element_size"] == 8 else "<f4")

    def buffer_names(self) -> list[str]:
        return [b[0] for b in self.layout["buffers"]]

    def arrays(self, buffer: str) -> dict[str, np.ndarray]:
        for name, elements, byte_offset in self.layout["buffers"]:
            if name == buffer:
                flat = np.memmap(self.file, dtype=self.dtype, mode="r", offset=byte_offset,
                                 shape=(elements,))
                break
        else:
            raise ValueError(f"{self.file}: no buffer {buffer!r} (valid: {self.buffer_names()})")
        out = {}
        for name, shape, offset in self.layout["params"]:
            size = int(np.prod(shape, dtype=np.int64))
            out[name] = flat[offset:offset + size].reshape(shape)
        return out


def _step_table(folder: Path, columns: dict) -> pd.DataFrame:
    """A StepRows folder (steps.npy and [S, width] arrays) as a DataFrame: for each array stem in
    `columns`, None (one column of its name), a prefix (columns prefix0, prefix1, ...) or a list
    of column names. Its settings.json goes into .attrs."""
    if not (folder / "steps.npy").exists():
        return _pandas().DataFrame()
    try:
        frame = _pandas().DataFrame({"step": np.load(folder / "steps.npy").astype(np.int64)})
        for stem, names in columns.items():
            a = np.load(folder / f"{stem}.npy")
            a = a.reshape(len(a), -1)
            if names is None:
                names = [stem]
            elif isinstance(names, str):
                names = [f"{names}{i}" for i in range(a.shape[1])]
            for i, n in enumerate(names):
                frame[n] = a[:, i].astype(np.float64)
    except (ValueError, FileNotFoundError) as e:
        raise _fail(folder, f"a corrupt or missing .npy file ({e})") from None
    settings = folder / "settings.json"
    if settings.exists():
        frame.attrs.update(json.loads(settings.read_text()))
    return frame


def _probe_rows(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{matrix: (steps, rows)} from a probe folder's steps.npy and <matrix>.npy files."""
    if not folder.is_dir():
        return {}
    steps_file = folder / "steps.npy"
    if not steps_file.exists():
        raise _fail(folder, "has probe files but no steps.npy")
    try:
        steps = np.load(steps_file, mmap_mode="r")
        out = {}
        for f in sorted(folder.glob("*.npy")):
            if f.name == "steps.npy":
                continue
            rows = np.load(f, mmap_mode="r")
            out[f.stem] = (steps[: len(rows)], rows)
        return out
    except ValueError as e:
        raise _fail(folder, f"a corrupt .npy file ({e})") from None


def runs(root: str | os.PathLike = "runs", where: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """The results index under `root` as a DataFrame, one row per run, filtered by `where`: the
    strings `gradscope ls` takes ("optim.weight_decay>=0.3", "regime=grokking"). Numeric columns
    come back as numbers."""
    if where is None:
        where = []
    if isinstance(where, str):
        where = [where]
    columns, rows, text = _core.select_runs(_core.index_file(Path(root)), list(where))
    frame = _pandas().DataFrame(rows, columns=columns)
    for c in frame.columns:
        if c in text:  # text columns stay text, also when every value is empty or looks numeric
            continue
        converted = _pandas().to_numeric(frame[c], errors="coerce")
        if converted.notna().sum() == (frame[c] != "").sum():
            frame[c] = converted
    return frame
