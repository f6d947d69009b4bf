#!/usr/bin/python3
"""The local learning coefficient at one checkpoint: `gradscope llc` beside the same SGLD estimator
written in PyTorch (devinterp's update, run/llc.h's conventions), on the same weights, data and
settings, timed on the same machine.

Usage: PYTHONPATH=build/python llc_peer.py BUILD_DIR [--model pair|nanda] [--threads 1]
       [--chains 4] [--draws 200] [--step-size 1e-5] [--localization 100] [--steps 2000]
Trains examples/pair-mlp.toml (or nanda-grokking.toml) for --steps steps (a checkpoint at the end),
then estimates the LLC there both ways: full-batch SGLD, n beta = n / log n of the training pairs
(911 for pair-mlp, 3,830 for nanda). The PyTorch side reads gradscope's checkpoint
(gradscope.Run.params) and the task's data (gradscope.task_data) and computes the same loss: for
pair-mlp PAIR's cross-entropy / 67 in the factored form of bench/compare's pair-mlp peer, for nanda
the cross-entropy of the same decoder written functionally on gradscope's weights. Both
sides print L_n(w*), which agree when the two models are the same.
Prints each side's estimate (mean and std over chains) and seconds per estimate, and their ratio.
The chains' noise differs between the two (each its own generator): the estimates agree within
their chains' spread, not bit for bit.
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("--model", choices=["pair", "nanda"], default="pair")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--chains", type=int, default=4)
ap.add_argument("--draws", type=int, default=200)
ap.add_argument("--step-size", type=float, default=1e-5)
ap.add_argument("--localization", type=float, default=100.0)
ap.add_argument("--steps", type=int, default=2000)
a = ap.parse_args()
os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))

import torch  # noqa: E402  (after the thread settings)

import gradscope as gs  # noqa: E402

torch.set_num_threads(a.threads)
HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples",
                       "pair-mlp.toml" if a.model == "pair" else "nanda-grokking.toml")
BINARY = os.path.join(a.build, "gradscope")


def pair_loss(w, x, y, p):
    """PAIR's loss in the factored form, as a function of the parameter list."""
    a_, b_, rows = x[:, 0], x[:, 1], torch.arange(len(y))

    def loss_of(E, W_in, W_out):
        T = E @ W_in                                  # [p, Dh]
        logits = torch.relu(T[a_] + T[b_]) @ (W_out @ E.T)
        return -(torch.log_softmax(logits, -1)[rows, y]).mean() / p
    return [w["embed.W_E"], w["mlp.W_in"], w["mlp.W_out"]], loss_of


NANDA = ["embed.W_E", "pos_embed.W_pos", "blocks.0.attn.W_Q", "blocks.0.attn.W_K",
         "blocks.0.attn.W_V", "blocks.0.attn.W_O", "blocks.0.mlp.W_in", "blocks.0.mlp.b_in",
         "blocks.0.mlp.W_out", "blocks.0.mlp.b_out", "unembed.W_U"]


def nanda_loss(w, x, y, heads=4):
    """Nanda's 1-layer decoder (bench/compare's nanda peer: causal attention with 4 heads of
    d / 4 columns each, a ReLU MLP, no layer norm, logits at the last position) in functional
    form on gradscope's weights; cross-entropy."""
    N, L = x.shape
    mask = torch.triu(torch.ones(L, L, dtype=torch.bool), 1)

    def loss_of(W_E, W_pos, W_Q, W_K, W_V, W_O, W_in, b_in, W_out, b_out, W_U):
        h = W_E[x] + W_pos[:L]                                    # [N, L, D]
        D = h.shape[-1]
        split = lambda t: t.view(N, L, heads, D // heads).transpose(1, 2)
        att = split(h @ W_Q) @ split(h @ W_K).transpose(-1, -2) / (D // heads) ** 0.5
        z = (att.masked_fill(mask, float("-inf")).softmax(-1) @ split(h @ W_V))
        h = h + z.transpose(1, 2).reshape(N, L, D) @ W_O
        h = h + torch.relu(h @ W_in + b_in) @ W_out + b_out
        return torch.nn.functional.cross_entropy((h @ W_U)[:, -1], y)
    return [w[k] for k in NANDA], loss_of


def torch_llc(run_dir):
    """PyTorch SGLD chains from the run's last checkpoint; (per-chain lambda-hat, L_n(w*),
    seconds)."""
    w = {k: torch.tensor(v, dtype=torch.float32) for k, v in gs.Run(run_dir).params().items()}
    data = gs.task_data(EXAMPLE)
    x = torch.tensor(data["x_train"], dtype=torch.long)
    y = torch.tensor(data["y_train"], dtype=torch.long)
    n = len(y)
    nbeta = n / math.log(n)
    if a.model == "pair":
        star, loss_of = pair_loss(w, x, y, int(data["num_classes"]))
    else:
        star, loss_of = nanda_loss(w, x, y)
    t0 = time.perf_counter()
    with torch.no_grad():
        init = float(loss_of(*star))
    gen = torch.Generator().manual_seed(0)
    out = []
    for _ in range(a.chains):
        params = [s.clone().requires_grad_(True) for s in star]
        total = 0.0
        for _ in range(a.draws):
            loss = loss_of(*params)
            grads = torch.autograd.grad(loss, params)
            total += float(loss)
            with torch.no_grad():
                for q, g, s in zip(params, grads, star):
                    q.add_(nbeta * g + a.localization * (q - s), alpha=-0.5 * a.step_size)
                    q.add_(torch.randn(q.shape, generator=gen), alpha=a.step_size ** 0.5)
        out.append(nbeta * (total / a.draws - init))
    return out, init, time.perf_counter() - t0


def summary(xs):
    m = sum(xs) / len(xs)
    s = (sum((v - m) ** 2 for v in xs) / (len(xs) - 1)) ** 0.5 if len(xs) > 1 else float("nan")
    return m, s


def main():
    with tempfile.TemporaryDirectory(prefix="gradscope-llc-") as tmp:
        run_dir = os.path.join(tmp, a.model)
        subprocess.run([BINARY, "--threads", "2", "run", EXAMPLE, f"train.steps={a.steps}",
                        f'train.checkpoint_steps="every:{a.steps}"', "probe.spectra=false",
                        "--out", run_dir], check=True, stdout=subprocess.DEVNULL)
        t0 = time.perf_counter()
        done = subprocess.run(
            [BINARY, "--threads", str(a.threads), "llc", run_dir, "--steps", "last",
             f"llc.chains={a.chains}", f"llc.draws={a.draws}", f"llc.step_size={a.step_size}",
             f"llc.localization={a.localization}"], check=True, capture_output=True, text=True)
        ours = time.perf_counter() - t0
        line = next(l for l in done.stdout.splitlines() if ": llc " in l)
        m = re.search(r": llc (\S+) \+- (\S+)", line)
        chains = float(re.search(r", ([0-9.]+) s$", line)[1])  # the estimate alone
        theirs, init, seconds = torch_llc(run_dir)
        ours_init = float(re.search(r"L_n\(w\*\) (\S+),", line)[1])
    tm, ts = summary(theirs)
    print(f"{a.model} at step {a.steps}, {a.chains} chains x {a.draws} draws, step size "
          f"{a.step_size}, localization {a.localization}, {a.threads} thread(s)")
    print(f"gradscope llc: {float(m[1]):.4g} +- {float(m[2]):.2g}, {chains:.2f} s for the chains "
          f"({ours:.2f} s for the whole command: start, data, model, checkpoint)")
    print(f"PyTorch SGLD:  {tm:.4g} +- {ts:.2g}, {seconds:.2f} s (the chains alone)")
    print(f"L_n(w*): gradscope {ours_init:.6g}, PyTorch {init:.6g}")
    print(f"ratio: {seconds / chains:.2f}x on the chains ({seconds / ours:.2f}x against the whole "
          "command)")
    if done.stderr:
        sys.stderr.write(done.stderr)


if __name__ == "__main__":
    main()
