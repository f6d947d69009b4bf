"""gradscope from Python: read run directories and the results index into NumPy and pandas.

    import gradscope as gs
    run = gs.Run("runs/nanda-grokking")
    run.metrics            # pandas DataFrame, one row per logged step
    run.params(4000)       # {name: ndarray} at a checkpoint, views of the file
    gs.runs("runs", where=["optim.weight_decay>=0.3", "regime=grokking"])
    gs.run("examples/nanda-grokking.toml", {"optim.weight_decay": 0.3}, out="runs/wd03")
    gs.run("examples/nanda-grokking.toml", data=gs.Arrays(x_train, y_train, x_test, y_test))

The same C++ core as the gradscope executable reads every file (docs/PYTHON.md).
"""

from ._core import RunError
from .arrays import Arrays
from .model import Model
from .results import Run, runs
from .training import run, sweep, task_data

__all__ = ["Arrays", "Model", "Run", "RunError", "run", "runs", "sweep", "task_data"]
