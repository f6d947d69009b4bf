#!/usr/bin/env python3
"""The inside view's acceptance figures (issue 38) from runs trained with probe.inside:

  modular runs (nanda, pair-mlp): the share of each neuron map's 2-D Fourier power in its top
  frequency (frame.json's neuron_top_share; mean and min over the kept neurons) at the first frame,
  at the frame nearest memorized_step and at the last frame (after grokking);
  sequence runs (induction): the best head's induction score (attention on the token after the
  previous occurrence) at the first and the last frame;
  and for the first modular transformer run an independent NumPy recomputation of one neuron map and
  one head's attention at the last frame from the checkpoint's weights (the largest difference).

  /usr/bin/python3 scripts/inside_figures.py RUN_DIR ...   (PYTHONPATH=build/python)
"""

import sys

import numpy as np

import gradscope as gs


def nearest(steps, step):
    return min(steps, key=lambda s: abs(s - step))


def transformer_readout(params, p, heads):
    """The readout position's attention [N, H, L] and MLP post-activation [N, d_mlp] of a 1-layer
    transformer without norms or attention biases on every [a, b, '=']."""
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    tokens = np.stack([a.ravel(), b.ravel(), np.full(p * p, p)], axis=1)
    P = {k: v.astype(np.float64) for k, v in params.items()}
    x = P["embed.W_E"][tokens] + P["pos_embed.W_pos"]
    N, L, _ = x.shape
    q, k, v = (np.einsum("nld,de->nle", x, P[f"blocks.0.attn.W_{m}"]).reshape(N, L, heads, -1)
               for m in "QKV")
    s = np.einsum("nqhe,nkhe->nhqk", q, k) / np.sqrt(q.shape[-1])
    s = np.where(np.tril(np.ones((L, L), bool)), s, -np.inf)
    pattern = np.exp(s - s.max(-1, keepdims=True))
    pattern /= pattern.sum(-1, keepdims=True)
    z = np.einsum("nhqk,nkhe->nqhe", pattern, v).reshape(N, L, -1)
    resid = x + z @ P["blocks.0.attn.W_O"]
    post = np.maximum(resid @ P["blocks.0.mlp.W_in"] + P["blocks.0.mlp.b_in"], 0)
    return pattern[:, :, L - 1, :], post[:, L - 1, :]


def modular(run):
    steps = run.inside_steps
    summary = run.summary or {}
    mem = summary.get("memorized_step")
    picks = [("first", steps[0])]
    if mem is not None:
        picks.append(("memorized", nearest(steps, mem)))
    picks.append(("last", steps[-1]))
    for label, step in picks:
        share = np.array(run.inside(step)["frame"]["neuron_top_share"])
        print(f"  {label:>10} step {step:>6}: neuron top-frequency share mean {share.mean():.3f}, "
              f"min {share.min():.3f}, median {np.median(share):.3f}")
    print(f"  memorized_step {mem}, generalized_step {summary.get('generalized_step')}; "
          f"{len(steps)} frames, {sum(1 for s in steps if mem is not None and mem <= s <= (summary.get('generalized_step') or 0))} "
          f"between memorization and generalization")


def sequence(run):
    steps = run.inside_steps
    for label, step in (("first", steps[0]), ("last", steps[-1])):
        scores = run.inside(step)["frame"]["induction_score"]
        best = int(np.argmax(scores))
        print(f"  {label:>5} step {step:>6}: best head {best} induction score {scores[best]:.3f} "
              f"(all: {', '.join(f'{s:.2f}' for s in scores)})")


def recompute(run):
    f = run.inside()
    layout = f["layout"]
    step = f["frame"]["step"]
    heads = layout.get("heads") or run.config["model"]["n_heads"]
    readout, post = transformer_readout(run.params(step), layout["p"], heads)
    n = layout["neurons"]["indices"][0]
    p = layout["p"]
    want = post[:, n].reshape(p, p)
    attn = readout[:, 0, :].reshape(p, p, -1)
    print(f"  NumPy recomputation at step {step}: neuron {n} map max |diff| "
          f"{np.abs(f['neurons'][0] - want).max():.2e} (max |value| {np.abs(want).max():.3g}); "
          f"head 0 attention max |diff| {np.abs(f['attention'][0] - attn).max():.2e}")


def main():
    recomputed = False
    for path in sys.argv[1:]:
        run = gs.Run(path)
        layout = run.inside()["layout"]
        print(f"{path}: {layout['kind']}")
        if layout["kind"] == "modular":
            modular(run)
            if run.config["model"]["type"] == "transformer" and not recomputed:
                recompute(run)
                recomputed = True
        elif layout["kind"] == "sequence":
            sequence(run)


if __name__ == "__main__":
    main()
