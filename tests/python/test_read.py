"""gradscope.Run and gradscope.runs against runs the gradscope executable writes: every value the
Python side reads agrees with the files (metrics.jsonl parsed independently, the weight norms the
trainer logged), arrays are views where the layout allows, and a missing, partial or corrupt run
gives a Python exception naming the file.

Run by ctest (label python) with PYTHONPATH=<build>/python and GRADSCOPE_BINARY set.
"""

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import gradscope as gs

BINARY = os.environ["GRADSCOPE_BINARY"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def gradscope(*args):
    subprocess.run([BINARY, *map(str, args)], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Two short runs of the modular-addition MLP (weight decay 1 and 0.1) and their index."""
    root = tmp_path_factory.mktemp("runs")
    for name, wd in (("wd1", 1.0), ("wd01", 0.1)):
        gradscope("run", EXAMPLES / "grok-mlp-small.toml", "train.steps=600",
                  "train.checkpoint_every=200", "probe.fourier=true", f"optim.weight_decay={wd}",
                  "--out", root / name)
    gradscope("index", "rebuild", root)
    return root


def jsonl_rows(run_dir):
    with open(run_dir / "metrics.jsonl") as f:
        return [json.loads(line) for line in f]


def test_config_summary_and_metrics_match_the_files(root):
    run = gs.Run(root / "wd1")
    assert run.config["task"]["p"] == 31
    assert run.config["optim"]["weight_decay"] == 1.0
    assert run.summary["status"] == "completed"
    rows = jsonl_rows(root / "wd1")
    m = run.metrics
    assert len(m) == len(rows)
    assert list(m.columns) == list(rows[0].keys())
    assert m["step"].dtype == np.int64
    for i in (0, len(rows) // 2, len(rows) - 1):
        for key, value in rows[i].items():
            got = m[key].iloc[i]
            assert (value is None and math.isnan(got)) or got == value, (i, key)


def test_numerics_columns_and_their_summary_section(root):
    run = gs.Run(root / "wd01")
    m = run.metrics
    shares = ["numerics.sc_torch_float32", "numerics.absorbed_target", "numerics.absorbed_row",
              "numerics.adam_eps_share"]
    for key in shares + ["numerics.margin_q10", "numerics.margin_q50", "numerics.margin_q90",
                         "numerics.nlm_cosine"]:
        assert key in m.columns, key
    assert math.isnan(m["numerics.adam_eps_share"].iloc[0])  # no moments before the first step
    later = m[shares].iloc[1:]
    assert ((later >= 0) & (later <= 1)).all().all()
    assert (m["numerics.margin_q10"] <= m["numerics.margin_q90"]).all()
    assert m["numerics.nlm_cosine"].abs().max() <= 1
    section = run.summary["numerics"]
    assert set(section) == {k[len("numerics."):] + "_half_step" for k in shares + ["numerics.nlm_cosine"]}
    for key, step in section.items():  # the first logged step at or above one half
        column = m["numerics." + key[: -len("_half_step")]]
        above = m["step"][column >= 0.5]
        assert step == (int(above.iloc[0]) if len(above) else None), key


def test_checkpoint_params_are_shaped_views_matching_the_logged_norms(root):
    run = gs.Run(root / "wd1")
    assert run.checkpoint_steps[-1] == 600
    assert {0, 200, 600} <= set(run.checkpoint_steps)  # every 200, and log-spaced ones
    logged = {r["step"]: r for r in jsonl_rows(root / "wd1")}
    for step in (200, 600):
        params = run.params(step)
        assert set(params) == {"embed.W_E", "mlp.W_in", "mlp.b_in", "mlp.W_out", "mlp.b_out"}
        assert params["embed.W_E"].shape == (31, 32)
        assert params["embed.W_E"].base is not None  # a view of the mapped file, not a copy
        total = math.sqrt(sum(float(np.sum(np.square(v, dtype=np.float64)))
                              for v in params.values()))
        assert total == pytest.approx(logged[step]["weight_norm"], rel=1e-6)
        for name, v in params.items():
            assert float(np.linalg.norm(v.astype(np.float64))) == pytest.approx(
                logged[step]["weight_norm." + name], rel=1e-6)
    w0 = run.initial_params()
    total0 = math.sqrt(sum(float(np.sum(np.square(v, dtype=np.float64))) for v in w0.values()))
    assert total0 == pytest.approx(logged[0]["weight_norm"], rel=1e-6)
    assert run.params()["mlp.W_in"].shape == w0["mlp.W_in"].shape


def test_optimizer_state_has_a_moment_per_parameter(root):
    run = gs.Run(root / "wd1")
    state = run.optimizer_state(600)
    assert len(state) >= 2  # AdamW: first and second moments
    params = run.params(600)
    for buffer in state.values():
        assert {k: v.shape for k, v in buffer.items()} == {k: v.shape for k, v in params.items()}
    assert any(float(np.min(b["mlp.W_in"])) >= 0 and float(np.max(b["mlp.W_in"])) > 0
               for b in state.values())  # the second moment: squares


def test_spectra_and_fourier_rows(root):
    run = gs.Run(root / "wd1")
    steps, sigma = run.spectra["embed.W_E"]
    assert steps[0] == 0 and steps[-1] == 600
    assert sigma.shape == (len(steps), 31)
    assert np.all(np.diff(sigma[-1]) <= 0)  # singular values, descending
    fsteps, norms = run.fourier["W_E"]
    assert norms.shape == (len(fsteps), 15)
    logged = {r["step"]: r for r in jsonl_rows(root / "wd1")}
    assert logged[int(fsteps[-1])]["fourier.W_E.key_count"] >= 1


def test_llc_and_hessian_tables_from_the_probes_and_the_commands(tmp_path):
    """probe.llc and probe.hessian during a short run: run.llc and run.hessian hold the files'
    rows, their means agree with the logged columns, and measure_llc / measure_hessian at one
    checkpoint of a copy without the folders give the probes' numbers for the same step."""
    run_dir = tmp_path / "geo"
    gradscope("run", EXAMPLES / "grok-mlp-small.toml", "train.steps=100", "train.log_every=50",
              "probe.every=50", "probe.llc=true", "probe.hessian=true", "llc.draws=20",
              "hessian.iterations=8", "hessian.trace_probes=4", "--out", run_dir)
    run = gs.Run(run_dir)
    llc, hessian = run.llc, run.hessian
    assert list(llc["step"]) == [0, 50, 100]
    assert list(llc.columns[:4]) == ["step", "llc", "llc_std", "init_loss"]
    assert [c for c in llc.columns if c.startswith("chain_")] == [f"chain_{i}" for i in range(4)]
    assert " / log " in llc.attrs["nbeta_how"]  # n / log n of the training examples
    logged = {r["step"]: r for r in jsonl_rows(run_dir)}
    for _, row in llc.iterrows():  # float32 chains in the file, their mean in double in the log
        assert row["llc"] == pytest.approx(logged[row["step"]]["llc.mean"], rel=1e-6)
    assert run.llc_trace(100).shape == (4, 20)
    with pytest.raises(ValueError, match="no LLC trace at step 7 .valid: .*100"):
        run.llc_trace(7)
    assert [c for c in hessian.columns if c.startswith("top_")] == [f"top_{i}" for i in range(5)]
    assert "embed.W_E.top" in hessian.columns and "trace_error" in hessian.columns
    assert hessian["top_0"].iloc[-1] == pytest.approx(logged[100]["hessian.top"], rel=1e-6)
    assert np.all(np.diff(hessian[[f"top_{i}" for i in range(5)]].to_numpy(), axis=1) <= 0)

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("llc", "hessian"))
    again = gs.Run(copy)
    assert again.llc.empty and again.hessian.empty
    row = again.measure_llc()  # the last checkpoint, the run's own llc.* settings
    assert row["step"] == 100 and row["llc"] == llc["llc"].iloc[-1]
    row = again.measure_hessian(100)
    assert row["top_0"] == hessian["top_0"].iloc[-1]
    with pytest.raises(ValueError, match="llc.chains"):
        again.measure_llc(chains=0)


def test_preconditioned_sharpness_is_adams_on_a_quadratic(tmp_path):
    """gradscope hessian hessian.preconditioned=true on a linear model with whitened inputs, whose
    Hessian is the identity: lambda_1(P^-1 H) is then the largest 1 / P_i, with P Adam's
    preconditioner (1 - beta1^t) (sqrt(v / (1 - beta2^t)) + eps) from the checkpoint's state."""
    run_dir = tmp_path / "adam"
    gradscope("run", EXAMPLES / "diag-stages.toml", "model.type=deep_linear", "model.depth=1",
              "optim.name=adam", "optim.lr=0.01", "train.steps=20",
              'train.checkpoint_steps="every:10"', "--out", run_dir)
    gradscope("hessian", run_dir, "--steps", "10,20", "hessian.top_k=2",
              "hessian.trace_probes=4", "hessian.preconditioned=true")
    run = gs.Run(run_dir)
    table = run.hessian
    assert table.attrs["preconditioned"] is True
    o = run.config["optim"]
    assert list(table["step"]) == [10, 20]
    for _, row in table.iterrows():
        t = int(row["step"])
        v = np.concatenate([a.astype(np.float64).ravel()
                            for a in run.optimizer_state(t)["optim.exp_avg_sq"].values()])
        P = (1 - o["beta1"] ** t) * (np.sqrt(v / (1 - o["beta2"] ** t)) + o["eps"])
        assert row["top_0"] == pytest.approx(1.0, rel=1e-6)  # H = I
        assert row["preconditioned"] == pytest.approx((1 / P).max(), rel=1e-5)


def test_runs_filters_like_gradscope_ls(root):
    every = gs.runs(root)
    assert len(every) == 2
    strong = gs.runs(root, where=["optim.weight_decay>=0.5"])
    assert len(strong) == 1
    assert strong["optim.weight_decay"].iloc[0] == 1.0  # numeric columns come back as numbers
    assert len(gs.runs(root, where="optim.weight_decay<0.5")) == 1
    assert len(gs.runs(root, where=None)) == 2
    # Text columns stay text, also when every value is empty (message) or looks numeric.
    assert list(every["message"]) == ["", ""] and every["message"].dtype == object
    assert every["status"].dtype == object
    with pytest.raises(ValueError, match="regime=grokkign"):
        gs.runs(root, where="regime=grokkign")
    with pytest.raises(gs.RunError, match="no results index"):
        gs.runs(root / "wd1")


def test_missing_partial_and_corrupt_runs_raise(root, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such run directory"):
        gs.Run(tmp_path / "nothing")
    with pytest.raises(gs.RunError, match="no config.toml"):
        gs.Run(tmp_path)
    bad = tmp_path / "bad"
    shutil.copytree(root / "wd1", bad)
    run = gs.Run(bad)
    with pytest.raises(ValueError, match="no checkpoint at step 123"):
        run.params(123)
    last = run.checkpoint_steps[-1]
    assert run.params(float(last)).keys() == run.params(last).keys()  # 600.0 is step 600
    with pytest.raises(ValueError, match=f"no checkpoint at step '{last}'"):
        run.params(str(last))
    ckpt = sorted((bad / "checkpoints").iterdir())[-1]
    ckpt.write_bytes(ckpt.read_bytes()[:-100])  # truncated
    with pytest.raises(gs.RunError, match=f"{ckpt.name}.*truncated"):
        run.params(600)
    ckpt.write_bytes(b"not a checkpoint at all")
    with pytest.raises(gs.RunError, match="not a gradscope checkpoint"):
        run.params(600)
    (bad / "summary.json").write_text("{ broken")
    with pytest.raises(gs.RunError, match="summary.json: malformed JSON"):
        gs.Run(bad).summary
    (bad / "config.toml").write_text("[task\n")
    with pytest.raises(gs.RunError, match="config.toml: malformed TOML"):
        gs.Run(bad).config
    (bad / "spectra" / "steps.npy").write_bytes(b"junk")
    with pytest.raises(gs.RunError, match="corrupt .npy"):
        gs.Run(bad).spectra
    # A run still training has no summary yet: None, not an error.
    (bad / "summary.json").unlink()
    assert gs.Run(bad).summary is None
