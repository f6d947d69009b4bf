"""The inside view (probe.inside, gradscope inside, gs.Run.inside) against an independent NumPy
recomputation from the checkpoints' weights: the neuron maps, the readout attention, the
embedding's projections, the per-neuron Fourier shares and the induction scores equal what the
files hold (float32 tolerance); the metrics are byte-identical with and without the probe; frames
taken after training equal those taken during it; bad input is refused.

Run by ctest (label python) with PYTHONPATH=<build>/python and GRADSCOPE_BINARY set.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradscope as gs

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from inside_figures import transformer_readout  # noqa: E402

BINARY = os.environ["GRADSCOPE_BINARY"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NANDA = [EXAMPLES / "nanda-fourier.toml", "task.p=23", "train.steps=300",
         "train.checkpoint_every=100", "train.stop_after_generalized=0", "probe.fourier=false",
         "probe.restricted_loss=false", "probe.spectra=false"]


def gradscope(*args, check=True):
    return subprocess.run([BINARY, *map(str, args)], check=check, capture_output=True, text=True)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("inside")
    gradscope("run", *NANDA, "probe.inside=true", "--out", root / "nanda")
    gradscope("run", *NANDA, "--out", root / "plain")
    gradscope("run", EXAMPLES / "grok-mlp-small.toml", "train.steps=200",
              "train.checkpoint_every=100", "probe.inside=true", "inside.every=50",
              "--out", root / "mlp")
    return root


def nanda_forward(params, p):
    """The readout position's attention [N, H, L] and the MLP's post-activation there [N, d_mlp]
    of the 1-layer, 4-head transformer on every pair [a, b, '=']: scripts/inside_figures.py's NumPy
    forward pass (no gradscope kernel in it)."""
    return transformer_readout(params, p, 4)


def top_share(m):
    """Share of a [p, p] map's 2-D Fourier power (constant left out) in its best frequency k: the
    complex DFT bins {0, k, p - k} on each axis but (0, 0)."""
    p = m.shape[0]
    power = np.abs(np.fft.fft2(m)) ** 2
    total = power.sum() - power[0, 0]
    best = max((power[np.ix_([0, k, p - k], [0, k, p - k])].sum() - power[0, 0], k)
               for k in range(1, (p - 1) // 2 + 1))
    return (best[0] / total if total > 0 else 0.0), best[1]  # a dead neuron's map: 0


def test_frames_follow_their_schedule_and_leave_the_metrics_alone(root):
    run = gs.Run(root / "nanda")
    assert run.inside_steps == list(range(0, 301, 3))  # ceil(300 / 100) = 3
    for name in ("metrics.jsonl",):
        assert (root / "nanda" / name).read_bytes() == (root / "plain" / name).read_bytes()
    f = run.inside(300)
    assert f["neurons"].shape == (16, 23, 23)
    assert f["attention"].shape == (4, 23, 23, 3)
    assert f["embed_pca"].shape == f["embed_key"].shape == (23, 2)
    assert f["param.blocks.0.mlp.W_in"].shape == (128, 256)  # 512 columns: every other kept
    cols = f["layout"]["params"][6]["cols"]
    assert cols == list(range(0, 512, 2))
    np.testing.assert_array_equal(f["param.blocks.0.mlp.W_in"],
                                  run.params(300)["blocks.0.mlp.W_in"][:, cols])
    assert run.inside(300.0)["frame"]["step"] == 300  # a whole float names its step
    with pytest.raises(ValueError, match="no inside frame at step 301"):
        run.inside(301)


@pytest.mark.parametrize("step", [0, 300])
def test_neuron_maps_and_attention_equal_a_numpy_recomputation(root, step):
    run = gs.Run(root / "nanda")
    f = run.inside(step)
    readout, post = nanda_forward(run.params(step), 23)
    neurons = f["layout"]["neurons"]["indices"]
    want = post[:, neurons].T.reshape(len(neurons), 23, 23)
    np.testing.assert_allclose(f["neurons"], want, rtol=1e-4, atol=1e-5)
    want_attn = readout.transpose(1, 0, 2).reshape(4, 23, 23, 3)
    np.testing.assert_allclose(f["attention"], want_attn, rtol=1e-4, atol=1e-6)
    for i, m in enumerate(f["neurons"]):
        share, k = top_share(m.astype(np.float64))
        assert f["frame"]["neuron_top_share"][i] == pytest.approx(share, rel=1e-4, abs=1e-9)
        if share > 0.05:
            assert f["frame"]["neuron_top_frequency"][i] == k
        if share == 0:  # no power beyond the constant (a dead neuron): no top frequency
            assert f["frame"]["neuron_top_frequency"][i] is None


def test_embedding_projections_lie_on_the_principal_and_key_planes(root):
    run = gs.Run(root / "nanda")
    f = run.inside(300)
    E = run.params(300)["embed.W_E"][:23].astype(np.float64)
    X = E - E.mean(axis=0)
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    pca = X @ vt[:2].T
    np.testing.assert_allclose(np.abs(f["embed_pca"]), np.abs(pca), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(f["frame"]["pca_variance"], (s[:2] ** 2) / (s ** 2).sum(), rtol=1e-4)
    k = f["frame"]["key_frequency"]
    w = 2 * np.pi * k * np.arange(23) / 23
    plane, _ = np.linalg.qr(np.stack([np.cos(w) @ X, np.sin(w) @ X], axis=1))
    np.testing.assert_allclose(np.abs(f["embed_key"]), np.abs(X @ plane), rtol=1e-3, atol=1e-4)


def test_mlp_neuron_maps_equal_a_numpy_recomputation(root):
    run = gs.Run(root / "mlp")
    assert run.inside_steps == [0, 50, 100, 150, 200]
    f = run.inside(200)
    P = run.params(200)
    a, b = np.meshgrid(np.arange(31), np.arange(31), indexing="ij")
    x = np.concatenate([P["embed.W_E"][a.ravel()], P["embed.W_E"][b.ravel()]], axis=1)
    post = np.maximum(x.astype(np.float64) @ P["mlp.W_in"] + P["mlp.b_in"], 0)
    neurons = f["layout"]["neurons"]["indices"]
    assert f["layout"]["neurons"]["activation"] == "mlp.hook_post"
    np.testing.assert_allclose(f["neurons"], post[:, neurons].T.reshape(-1, 31, 31), rtol=1e-4,
                               atol=1e-5)
    assert "attention" not in f


def test_gradscope_inside_over_checkpoints_matches_the_frames_taken_in_training(root, tmp_path):
    run_dir = tmp_path / "nanda"
    shutil.copytree(root / "nanda", run_dir)
    before = (run_dir / "inside" / "300" / "neurons.npy").read_bytes()
    out = gradscope("inside", run_dir).stdout  # checkpoints 0, 100, 200, 300; frames every 3
    assert "2 frames written, 2 taken before" in out
    shutil.rmtree(run_dir / "inside" / "300")
    out = gradscope("inside", run_dir, "--steps", "300").stdout
    assert "1 frames written, 0 taken before" in out
    assert (run_dir / "inside" / "300" / "neurons.npy").read_bytes() == before


def test_gradscope_inside_chooses_the_strongest_neurons_on_a_run_without_frames(root, tmp_path):
    run_dir = tmp_path / "plain"
    shutil.copytree(root / "plain", run_dir)
    out = gradscope("inside", run_dir, "inside.neurons=4").stdout
    assert "4 frames written" in out
    run = gs.Run(run_dir)
    assert run.inside_steps == [0, 100, 200, 300]
    layout = run.inside(300)["layout"]["neurons"]
    _, post = nanda_forward(run.params(300), 23)
    norms = np.linalg.norm(post, axis=0)
    assert layout["indices"] == list(np.argsort(-norms, kind="stable")[:4])
    assert layout["chosen"] == "largest activation norm over the grid at step 300"


def test_induction_frames_hold_each_heads_pattern_and_score(tmp_path):
    gradscope("run", EXAMPLES / "induction-2layer.toml", "train.steps=40",
              "train.checkpoint_every=40", "probe.inside=true", "inside.every=20",
              "--out", tmp_path / "ind")
    run = gs.Run(tmp_path / "ind")
    f = run.inside(40)
    windows = np.array(f["layout"]["windows"])
    attn = f["attention"]  # [layers * heads, W, T, T]
    assert attn.shape[1:] == (2, windows.shape[1], windows.shape[1])
    np.testing.assert_allclose(attn.sum(axis=-1), 1, atol=1e-5)
    targets = np.array(f["layout"]["induction_targets"])  # the task's copied segments
    assert (targets >= 0).sum() > 0
    for w, ids in enumerate(windows):  # each target: the token after an earlier occurrence
        for i, j in enumerate(targets[w]):
            if j >= 0:
                assert 0 < j <= i and ids[j - 1] == ids[i]
    for head, got in enumerate(f["frame"]["induction_score"]):
        w, i = np.nonzero(targets >= 0)
        want = attn[head, w, i, targets[w, i]].mean()
        assert got == pytest.approx(want, rel=1e-4)


def test_text_frames_name_each_token_as_text(tmp_path):
    gradscope("run", EXAMPLES / "text-gpt.toml", "train.steps=2", "model.d_model=32",
              "model.n_layers=1", "task.seq_len=32", "task.n_eval=4", "train.batch_size=4",
              "optim.warmup_steps=0", "probe.inside=true", "inside.every=2",
              "--out", tmp_path / "text")
    run = gs.Run(tmp_path / "text")
    layout = run.inside(2)["layout"]
    chars = run.config["task"]["chars"]  # the character table: token i is chars[i]

    def shown(ch):
        named = {"\n": "\\n", "\t": "\\t"}
        return named.get(ch, f"\\x{ord(ch):02x}" if ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f else ch)

    assert len(layout["window_text"]) == len(layout["windows"]) == 2
    for ids, text in zip(layout["windows"], layout["window_text"]):
        assert text == [shown(chr(int(chars[i]))) for i in ids]


def test_regression_frames_hold_the_predictions(tmp_path):
    gradscope("run", EXAMPLES / "icl-fresh-tasks.toml", "train.steps=20", "optim.warmup_steps=0",
              "probe.inside=true", "inside.every=10", "--out", tmp_path / "icl")
    f = gs.Run(tmp_path / "icl").inside(20)
    targets = np.array(f["layout"]["targets"])
    assert f["predictions"].shape == targets.shape == (2, targets.shape[1])
    assert np.isfinite(f["predictions"]).all()


@pytest.mark.parametrize("args, words", [
    (["llc.chains=2"], "inside.*"),
    (["--steps", "7"], "no checkpoint at step 7"),
    (["inside.neurons=0"], "inside.neurons"),
    (["--device", "cuda"], "valid: cpu"),
])
def test_bad_input_is_refused_in_one_line(root, tmp_path, args, words):
    run_dir = tmp_path / "plain"
    shutil.copytree(root / "plain", run_dir)
    pre = ["--device", "cuda"] if args[0] == "--device" else []
    rest = [] if pre else args
    r = gradscope(*pre, "inside", run_dir, *rest, check=False)
    assert r.returncode != 0
    assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (run_dir / "inside").exists()
    r = gradscope("inside", tmp_path / "nowhere", check=False)
    assert r.returncode != 0 and "nowhere" in r.stderr


@pytest.mark.parametrize("run, step, setting, words", [
    ("nanda", 100, "inside.neurons=8", "neurons.npy holds the 16 neurons"),
    ("ind", 40, "inside.sequences=4", "other inside settings"),
])
def test_gradscope_inside_refuses_settings_that_change_the_frames_layout(root, tmp_path, run, step,
                                                                         setting, words):
    """Frames already taken fix the windows, examples and neurons: other settings are refused
    before anything is written or printed (nanda's step 100 has no frame yet, so one would be)."""
    run_dir = tmp_path / run
    if run == "nanda":
        shutil.copytree(root / "nanda", run_dir)
    else:
        gradscope("run", EXAMPLES / "induction-2layer.toml", "train.steps=40",
                  "probe.inside=true", "inside.every=40",
                  "--out", run_dir)
    before = sorted(p.name for p in (run_dir / "inside").iterdir())
    index = (run_dir / "inside" / "inside.json").read_bytes()
    r = gradscope("inside", run_dir, "--steps", str(step), setting, check=False)
    assert r.returncode == 2
    assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stdout == "", r.stdout  # refused before a line is printed
    assert sorted(p.name for p in (run_dir / "inside").iterdir()) == before
    assert (run_dir / "inside" / "inside.json").read_bytes() == index


def test_on_the_emulated_device_frames_read_the_parameters_of_their_step(tmp_path):
    """The frames come from the host copy of a device run's parameters, downloaded at each frame:
    the last frame equals a recomputation from the last checkpoint, and the metrics are those of
    the same run without frames."""
    args = [*NANDA, "train.steps=60", "model.d_model=32", "model.d_mlp=64"]
    gradscope("--device", "emulated", "run", *args, "probe.inside=true", "inside.every=20",
              "--out", tmp_path / "with")
    gradscope("--device", "emulated", "run", *args, "--out", tmp_path / "without")
    assert (tmp_path / "with" / "metrics.jsonl").read_bytes() == \
        (tmp_path / "without" / "metrics.jsonl").read_bytes()
    run = gs.Run(tmp_path / "with")
    assert run.inside_steps == [0, 20, 40, 60]
    f = run.inside(60)
    readout, post = nanda_forward(run.params(60), 23)
    neurons = f["layout"]["neurons"]["indices"]
    np.testing.assert_allclose(f["neurons"], post[:, neurons].T.reshape(len(neurons), 23, 23),
                               rtol=1e-4, atol=1e-5)


def test_a_large_modulus_keeps_the_parameters_alone(tmp_path):
    """p > 256: a map over the grid would be p * p floats per neuron; the frames stay bounded."""
    gradscope("run", EXAMPLES / "grok-mlp-small.toml", "task.p=257", "train.steps=2",
              "probe.inside=true", "--out", tmp_path / "big")
    f = gs.Run(tmp_path / "big").inside(2)
    assert f["layout"]["kind"] == "parameters"
    assert "neurons" not in f and "embed_pca" not in f
    assert max(a.size for k, a in f.items() if k.startswith("param.")) <= 256 * 256
