"""examples/notebooks/nanda-fourier.ipynb executes headlessly (nbclient, a python3 kernel) on a
short nanda run with gradscope's Fourier probe on, and its NumPy Fourier norms agree with the
probe's.

Run by ctest (label python) with PYTHONPATH=<build>/python and GRADSCOPE_BINARY set.
"""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BINARY = os.environ["GRADSCOPE_BINARY"]
SOURCE = Path(__file__).resolve().parents[2]


def test_the_example_notebook_runs_on_a_short_run(tmp_path):
    run = tmp_path / "nanda"
    subprocess.run([BINARY, "run", SOURCE / "examples" / "nanda-grokking.toml", "task.p=23",
                    "model.d_model=32", "model.d_mlp=64", "train.steps=300",
                    "train.checkpoint_every=100", "probe.fourier=true", "probe.every=100",
                    "--out", run], check=True, capture_output=True)
    notebook = nbformat.read(SOURCE / "examples" / "notebooks" / "nanda-fourier.ipynb",
                             as_version=4)
    env = {"GRADSCOPE_RUN": str(run), "GRADSCOPE_BUILD": str(Path(BINARY).parent)}
    old = {k: os.environ.get(k) for k in [*env, "PATH"]}
    os.environ.update(env)  # the kernel inherits them; its python3 is this interpreter's
    os.environ["PATH"] = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    try:
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    text = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "checkpoints at [0," in text
    assert "numpy against the probe at" in text and "worst relative difference" in text
    assert "Gini coefficient of the norms by checkpoint" in text
    assert any(o.get("output_type") == "display_data" for c in notebook.cells
               if c.cell_type == "code" for o in c.get("outputs", []))  # the figure
