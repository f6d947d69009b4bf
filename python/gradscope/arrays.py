"""Your own data for gradscope.run and gradscope.sweep: gradscope.Arrays holds the four arrays
of the task "arrays" and saves them as the .npz file that `task.name = "arrays"`,
`task.path = "data.npz"` reads from the command line, sweeps and Slurm arrays too.

    x integer [N, L]  token sequences          y integer [N]     one class per sequence
    x float   [N, D]  real features            y integer [N, L]  a target at every position
                                               y float [N] / [N, Y]  a regression target

vocab (default: the largest token + 1) and classes (default: the largest label + 1) are saved as
scalars beside them. The C++ core checks shapes, dtypes and ranges when a run starts
(ValueError naming the array and what is valid); docs/PYTHON.md has the details.
"""

from __future__ import annotations

import os

import numpy as np

_NAMES = ("x_train", "y_train", "x_test", "y_test")


class Arrays:
    """x_train, y_train, x_test, y_test as NumPy arrays (anything np.asarray takes), and
    optionally vocab and classes. A ragged list raises ValueError here; every other check is
    the run's."""

    def __init__(self, x_train, y_train, x_test, y_test, *, vocab: int | None = None,
                 classes: int | None = None):
        arrays = {}
        for name, value in zip(_NAMES, (x_train, y_train, x_test, y_test)):
            try:
                arrays[name] = np.asarray(value)
            except ValueError as e:  # ragged nested lists
                raise ValueError(f"{name}: {e}") from None
            if arrays[name].dtype == object:
                raise ValueError(f"{name} has dtype object (ragged rows?); gradscope reads "
                                 "integer or float arrays with rows of equal length")
        self.x_train, self.y_train = arrays["x_train"], arrays["y_train"]
        self.x_test, self.y_test = arrays["x_test"], arrays["y_test"]
        self.vocab, self.classes = vocab, classes

    def arrays(self) -> dict:
        """The arrays by name, as the .npz file holds them."""
        out = {name: getattr(self, name) for name in _NAMES}
        for name in ("vocab", "classes"):
            if getattr(self, name) is not None:
                out[name] = np.int64(getattr(self, name))
        return out

    def save(self, path: str | os.PathLike) -> None:
        """Writes the .npz file (numpy.savez) that task.path names."""
        with open(path, "wb") as f:
            np.savez(f, **self.arrays())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Arrays":
        """The arrays of an .npz file written by save() (or numpy.savez with these names)."""
        with np.load(path, allow_pickle=False) as f:
            missing = [n for n in _NAMES if n not in f.files]
            if missing:
                raise ValueError(f"{path}: no array {missing[0]} (valid: an .npz with "
                                 f"x_train, y_train, x_test, y_test; it holds: "
                                 f"{', '.join(f.files) or 'nothing'})")
            scalars = {n: int(f[n]) for n in ("vocab", "classes") if n in f.files}
            return cls(*(f[n] for n in _NAMES), **scalars)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{n} {getattr(self, n).dtype}{list(getattr(self, n).shape)}"
                           for n in _NAMES)
        return f"Arrays({shapes})"
