"""gs.Model.to_torch: a run's model as a torch.nn.Module whose forward gives run_with_cache's
outputs (float32: 1e-5, float64: 1e-12) at three checkpoints of nanda, the 2-layer induction
model, a text GPT, pair-mlp and a transformer with every option TransformerLens can express
differently (post-LN, sinusoidal positions, attention biases, tied unembedding, GELU); the
transformer's state dict has TransformerLens's names and shapes, checked against a table taken
from its source (TransformerLensOrg/TransformerLens at 54bd335c: components/attention.py,
abstract_attention.py, embed.py, pos_embed.py, layer_norm.py, mlps/mlp.py, unembed.py).

Needs Debian's python3-torch (skipped without it). Run by ctest (label python).
"""

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import gradscope as gs

torch = pytest.importorskip("torch")

BINARY = os.environ["GRADSCOPE_BINARY"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SHORT = ["train.steps=30", "train.log_every=10", "train.checkpoint_steps=every:10"]
RUNS = {
    "nanda": ("nanda-grokking.toml", ["task.p=23", "model.d_model=32", "model.d_mlp=64"]),
    "induction": ("induction-2layer.toml", ["task.vocab=16", "task.seq_len=12",
                                            "task.segment_len=3", "task.n_test=32",
                                            "model.d_model=32", "train.batch_size=16"]),
    "text-gpt": ("text-gpt.toml", ["task.seq_len=16", "task.n_eval=16", "model.d_model=32",
                                   "model.d_mlp=64", "train.batch_size=8",
                                   "optim.warmup_steps=5", "model.activation=gelu_tanh"]),
    "pair-mlp": ("pair-mlp.toml", ["task.p=23", "model.d_embed=32"]),
    "variants": ("nanda-grokking.toml", ["task.p=11", "model.d_model=16", "model.d_mlp=32",
                                         "model.norm=post", "model.positions=sinusoidal",
                                         "model.attn_bias=true", "model.tied_unembed=true",
                                         "model.activation=gelu", "precision=float64"]),
}

# TransformerLens's parameters: name pattern -> shape from the config's fields.
TL_SHAPES = {
    "embed.W_E": lambda c: (c["d_vocab"], c["d_model"]),
    "pos_embed.W_pos": lambda c: (c["n_ctx"], c["d_model"]),
    "attn.W_Q": lambda c: (c["n_heads"], c["d_model"], c["d_head"]),
    "attn.W_K": lambda c: (c["n_heads"], c["d_model"], c["d_head"]),
    "attn.W_V": lambda c: (c["n_heads"], c["d_model"], c["d_head"]),
    "attn.W_O": lambda c: (c["n_heads"], c["d_head"], c["d_model"]),
    "attn.b_Q": lambda c: (c["n_heads"], c["d_head"]),
    "attn.b_K": lambda c: (c["n_heads"], c["d_head"]),
    "attn.b_V": lambda c: (c["n_heads"], c["d_head"]),
    "attn.b_O": lambda c: (c["d_model"],),
    "ln1.w": lambda c: (c["d_model"],), "ln1.b": lambda c: (c["d_model"],),
    "ln2.w": lambda c: (c["d_model"],), "ln2.b": lambda c: (c["d_model"],),
    "mlp.W_in": lambda c: (c["d_model"], c["d_mlp"]), "mlp.b_in": lambda c: (c["d_mlp"],),
    "mlp.W_out": lambda c: (c["d_mlp"], c["d_model"]), "mlp.b_out": lambda c: (c["d_model"],),
    "ln_final.w": lambda c: (c["d_model"],), "ln_final.b": lambda c: (c["d_model"],),
    "unembed.W_U": lambda c: (c["d_model"], c["d_vocab_out"]),
    "unembed.b_U": lambda c: (c["d_vocab_out"],),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("torch")
    out = {}
    for name, (example, overrides) in RUNS.items():
        subprocess.run([BINARY, "run", EXAMPLES / example, *overrides, *SHORT, "--out",
                        root / name], check=True, capture_output=True)
        out[name] = (gs.Run(root / name), example, overrides)
    return out


@pytest.mark.parametrize("name", list(RUNS))
def test_forward_gives_run_with_cache_outputs_at_three_checkpoints(runs, name):
    run, example, overrides = runs[name]
    inputs = gs.task_data(EXAMPLES / example, overrides)["x_test"][:64]
    for step in (10, 20, 30):
        model = gs.Model.from_run(run, step)
        expected, _ = model.run_with_cache(inputs)
        module = model.to_torch()
        with torch.no_grad():
            got = module(torch.as_tensor(inputs)).numpy()
        assert got.shape == expected.shape, (name, step)
        tol = 1e-12 if expected.dtype == np.float64 else 1e-5
        scale = max(1.0, float(np.abs(expected).max()))
        assert float(np.abs(got - expected).max()) <= tol * scale, (name, step)


@pytest.mark.parametrize("name", ["nanda", "induction", "text-gpt", "variants"])
def test_state_dict_has_transformer_lens_names_and_shapes(runs, name):
    model = gs.Model.from_run(runs[name][0])
    state = model.to_torch().state_dict()
    m = runs[name][0].config["model"]
    cfg = dict(model.hooked_transformer_config()) if m.get("norm") != "post" else None
    if cfg is None:  # post-LN has no TransformerLens config; the names still follow its layout
        V = state["embed.W_E"].shape[0]
        cfg = {"d_vocab": V, "d_vocab_out": V, "d_model": int(m["d_model"]),
               "n_ctx": state["pos_embed.W_pos"].shape[0], "n_heads": int(m["n_heads"]),
               "d_head": int(m["d_model"]) // int(m["n_heads"]), "d_mlp": int(m["d_mlp"])}
    for key, value in state.items():
        leaf = key.split(".", 2)[-1] if key.startswith("blocks.") else key
        assert leaf in TL_SHAPES, key
        assert tuple(value.shape) == TL_SHAPES[leaf](cfg), key
    n_layers = int(m["n_layers"])
    for l in range(n_layers):
        for x in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O"):
            assert f"blocks.{l}.attn.{x}" in state
    assert "unembed.W_U" in state and "unembed.b_U" in state


def test_hooked_transformer_config_and_what_has_no_equivalent(runs):
    cfg = gs.Model.from_run(runs["induction"][0]).hooked_transformer_config()
    assert (cfg["n_layers"], cfg["d_model"], cfg["n_heads"], cfg["d_head"]) == (2, 32, 4, 8)
    assert (cfg["n_ctx"], cfg["d_vocab"], cfg["attn_only"], cfg["d_mlp"]) == (12, 16, True, None)
    assert cfg["normalization_type"] is None and cfg["attention_dir"] == "causal"
    with pytest.raises(ValueError, match="post-LN"):
        gs.Model.from_run(runs["variants"][0]).hooked_transformer_config()
    with pytest.raises(ValueError, match="not a transformer"):
        gs.Model.from_run(runs["pair-mlp"][0]).hooked_transformer_config()


def test_the_torch_model_trains_on_from_the_checkpoint(runs):
    """A step of plain PyTorch on the module lowers the loss it starts from (going on in torch)."""
    run, example, overrides = runs["nanda"]
    data = gs.task_data(EXAMPLES / example, overrides)
    module = gs.Model.from_run(run).to_torch()
    x, y = torch.as_tensor(data["x_train"]), torch.as_tensor(data["y_train"]).long()
    loss = lambda: torch.nn.functional.cross_entropy(module(x)[:, -1], y)  # noqa: E731
    before = loss()
    before.backward()
    with torch.no_grad():
        for p in module.parameters():
            if p.grad is not None:
                p -= 1e-2 * p.grad
    assert float(loss()) < float(before)
