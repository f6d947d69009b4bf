"""gs.Model: a run's transformer at its checkpoints, run on the plain path with TransformerLens's
names. Its logits give the test loss the training path logged (which reads the last position
through its shortcuts); the cached activations recompose: softmax(q k^T / sqrt(d_head) + mask)
is the pattern, pattern @ v is z, the final residual unembedded is the logits. Zeroing a head
through run_with_hooks changes the loss and patching the clean activation back restores it
exactly. Bad input is a ValueError.

Run by ctest (label python) with PYTHONPATH=<build>/python and GRADSCOPE_BINARY set.
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import gradscope as gs

BINARY = os.environ["GRADSCOPE_BINARY"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# nanda-grokking made small: p = 23, d_model 32, 4 heads of 8, d_mlp 64; 300 full-batch steps.
SMALL_NANDA = ["task.p=23", "model.d_model=32", "model.d_mlp=64", "train.steps=300",
               "train.log_every=100", "train.checkpoint_every=100"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "nanda"
    subprocess.run([BINARY, "run", EXAMPLES / "nanda-grokking.toml", *SMALL_NANDA, "--out", out],
                   check=True, capture_output=True)
    return gs.Run(out)


def cross_entropy(logits, targets):
    z = logits.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(z)), targets]))


def test_logits_give_the_logged_test_loss_at_three_checkpoints(run):
    data = gs.task_data(EXAMPLES / "nanda-grokking.toml", SMALL_NANDA)
    logged = {r["step"]: r for r in map(json.loads, open(run.path / "metrics.jsonl"))}
    for step in (100, 200, 300):
        model = gs.Model.from_run(run, step)
        logits, _ = model.run_with_cache(data["x_test"])
        assert logits.shape == (len(data["x_test"]), 3, 24)
        loss = cross_entropy(logits[:, -1], data["y_test"])
        assert loss == pytest.approx(logged[step]["test_loss"], rel=1e-5), step
        acc = float(np.mean(logits[:, -1].argmax(axis=1) == data["y_test"]))
        assert acc == pytest.approx(logged[step]["test_acc"], abs=1e-9), step


def test_cached_activations_recompose_the_forward_pass(run):
    model = gs.Model.from_run(run)  # the last checkpoint
    tokens = gs.task_data(EXAMPLES / "nanda-grokking.toml", SMALL_NANDA)["x_test"][:200]
    logits, cache = model.run_with_cache(tokens)
    q, k, v = (cache[f"blocks.0.attn.hook_{x}"].astype(np.float64) for x in "qkv")
    assert q.shape == (200, 3, 4, 8)
    scores = np.einsum("nqhd,nkhd->nhqk", q, k) / np.sqrt(8)
    scores = scores + np.triu(np.full((3, 3), -np.inf), 1)  # causal
    pattern = np.exp(scores - scores.max(axis=-1, keepdims=True))
    pattern /= pattern.sum(axis=-1, keepdims=True)
    got = cache["blocks.0.attn.hook_pattern"]
    assert got.shape == (200, 4, 3, 3)
    np.testing.assert_allclose(got, pattern, rtol=1e-5, atol=1e-6)
    z = np.einsum("nhqk,nkhd->nqhd", got.astype(np.float64), v)
    np.testing.assert_allclose(cache["blocks.0.attn.hook_z"], z, rtol=1e-5, atol=1e-6)
    params = model.params()
    resid = cache["blocks.0.hook_resid_post"].astype(np.float64)
    unembedded = resid @ params["unembed.W_U"].astype(np.float64)
    scale = np.abs(unembedded).max()
    np.testing.assert_allclose(logits, unembedded, rtol=1e-5, atol=1e-5 * scale)
    # The residual stream adds up: resid_pre + attn_out = resid_mid, + mlp_out = resid_post.
    np.testing.assert_allclose(
        cache["blocks.0.hook_resid_pre"] + cache["blocks.0.hook_attn_out"],
        cache["blocks.0.hook_resid_mid"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        cache["hook_embed"] + cache["hook_pos_embed"], cache["blocks.0.hook_resid_pre"],
        rtol=1e-6, atol=1e-6)


def test_ablating_a_head_changes_the_loss_and_patching_restores_it(run):
    data = gs.task_data(EXAMPLES / "nanda-grokking.toml", SMALL_NANDA)
    model = gs.Model.from_run(run)
    tokens, targets = data["x_test"], data["y_test"]
    clean, cache = model.run_with_cache(tokens)

    def zero_head_0(z):
        z = z.copy()
        z[:, :, 0, :] = 0
        return z

    ablated = model.run_with_hooks(tokens, {"blocks.0.attn.hook_z": zero_head_0})
    assert cross_entropy(ablated[:, -1], targets) != cross_entropy(clean[:, -1], targets)
    assert not np.array_equal(ablated, clean)
    patched = model.run_with_hooks(
        tokens, {"blocks.0.attn.hook_z": zero_head_0,
                 "blocks.0.hook_attn_out": lambda _: cache["blocks.0.hook_attn_out"]})
    assert np.array_equal(patched, clean)  # the clean activation patched back: exactly
    same = model.run_with_hooks(tokens, {"blocks.0.mlp.hook_post": lambda a: None})
    assert np.array_equal(same, clean)


def test_bad_input_is_a_value_error(run, tmp_path):
    model = gs.Model.from_run(run)
    tokens = np.array([[1, 2, 23]])
    with pytest.raises(ValueError, match="no activation blocks.0.attn.hook_zz.*hook_z"):
        model.run_with_hooks(tokens, {"blocks.0.attn.hook_zz": lambda a: a})
    with pytest.raises(ValueError, match="another shape"):
        model.run_with_hooks(tokens, {"blocks.0.hook_mlp_out": lambda a: np.zeros(3)})
    with pytest.raises(ValueError, match="cannot be replaced"):
        model.run_with_hooks(tokens, {"blocks.0.attn.hook_pattern": lambda a: a * 0})
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model.run_with_cache(np.array([[1, 2, 99]]))
    with pytest.raises(ValueError, match="outside the vocabulary"):  # not wrapped into 5
        model.run_with_cache(np.array([[1, 2, 2**32 + 5]]))
    with pytest.raises(ValueError, match="integer ids .*float64"):  # not truncated to 1, 2, 23
        model.run_with_cache(np.array([[1.7, 2.0, 23.0]]))
    with pytest.raises(ValueError, match=r"\[batch, 3\]"):
        model.run_with_cache(np.array([1, 2, 23]))
    with pytest.raises(ValueError, match="no checkpoint at step 7"):
        gs.Model.from_run(run, 7)
    mlp = tmp_path / "mlp"
    subprocess.run([BINARY, "run", EXAMPLES / "grok-mlp-small.toml", "train.steps=10", "--out",
                    mlp], check=True, capture_output=True)
    with pytest.raises(ValueError, match="no activation mlp.hook_x .*valid: hook_embed, mlp"):
        gs.Model.from_run(mlp).run_with_hooks(np.array([[1, 2]]), {"mlp.hook_x": lambda a: a})


def test_every_family_runs_from_python_with_named_activations(tmp_path):
    """Not only transformers: pair-mlp's outputs give its logged test loss, its named activations
    have their documented shapes and a hook replaces them; a deep linear network names each
    layer's output, the last being the outputs."""
    mlp = ["task.p=23", "model.d_embed=32"]
    short = ["train.steps=20", "train.log_every=10"]
    subprocess.run([BINARY, "run", EXAMPLES / "pair-mlp.toml", *mlp, *short, "--out",
                    tmp_path / "mlp"], check=True, capture_output=True)
    data = gs.task_data(EXAMPLES / "pair-mlp.toml", mlp)
    x, y = data["x_test"], data["y_test"]
    model = gs.Model.from_run(tmp_path / "mlp")
    logits, cache = model.run_with_cache(x)
    assert logits.shape == (len(x), 23)
    logged = [json.loads(r) for r in open(tmp_path / "mlp" / "metrics.jsonl")][-1]
    assert cross_entropy(logits, y) == pytest.approx(logged["test_loss"], rel=1e-5)
    assert cache["hook_embed"].shape == (len(x), 2, 32)
    assert cache["mlp.hook_pre"].shape == cache["mlp.hook_post"].shape == (len(x), 24)
    assert np.array_equal(cache["mlp.hook_post"], np.maximum(cache["mlp.hook_pre"], 0))
    zeroed = model.run_with_hooks(x, {"mlp.hook_post": lambda a: np.zeros_like(a)})
    assert not zeroed.any()  # (0 W_out) E^T

    subprocess.run([BINARY, "run", EXAMPLES / "saxe-deep-linear.toml", *short, "--out",
                    tmp_path / "linear"], check=True, capture_output=True)
    x = gs.task_data(EXAMPLES / "saxe-deep-linear.toml")["x_test"]
    outputs, cache = gs.Model.from_run(tmp_path / "linear").run_with_cache(x)
    assert sorted(cache) == ["layers.0.hook_out", "layers.1.hook_out"]
    assert np.array_equal(cache["layers.1.hook_out"], outputs)
