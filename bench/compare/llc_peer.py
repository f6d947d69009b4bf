#!/usr/bin/python3
"""The local learning coefficient at one checkpoint: `gradscope llc` beside the same SGLD estimator
written in PyTorch (devinterp's update, run/llc.h's conventions), on the same weights, data and
settings, timed on the same machine.

Usage: PYTHONPATH=build/python llc_peer.py BUILD_DIR [--threads 1] [--chains 4] [--draws 200]
       [--step-size 1e-5] [--localization 100] [--steps 2000]
Trains examples/pair-mlp.toml for --steps steps (a checkpoint at the end), then estimates the LLC
there both ways: full-batch SGLD, n beta = n / log n of the 911 training pairs. The PyTorch side
reads gradscope's checkpoint (gradscope.Run.params) and the task's data (gradscope.task_data) and
computes PAIR's loss, cross-entropy / 67, in the factored form of bench/compare's pair-mlp peer.
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
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "pair-mlp.toml")
BINARY = os.path.join(a.build, "gradscope")


def torch_llc(run_dir):
    """PyTorch SGLD chains from the run's last checkpoint; (per-chain lambda-hat, seconds)."""
    w = {k: torch.tensor(v, dtype=torch.float32) for k, v in gs.Run(run_dir).params().items()}
    data = gs.task_data(EXAMPLE)
    x = torch.tensor(data["x_train"], dtype=torch.long)
    y = torch.tensor(data["y_train"], dtype=torch.long)
    p = int(data["num_classes"])
    n = len(y)
    nbeta = n / math.log(n)
    a_, b_ = x[:, 0], x[:, 1]
    rows = torch.arange(n)

    def loss_of(E, W_in, W_out):
        T = E @ W_in                                  # [p, Dh]
        logits = torch.relu(T[a_] + T[b_]) @ (W_out @ E.T)
        return -(torch.log_softmax(logits, -1)[rows, y]).mean() / p

    star = [w["embed.W_E"], w["mlp.W_in"], w["mlp.W_out"]]
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
    return out, time.perf_counter() - t0


def summary(xs):
    m = sum(xs) / len(xs)
    s = (sum((v - m) ** 2 for v in xs) / (len(xs) - 1)) ** 0.5 if len(xs) > 1 else float("nan")
    return m, s


def main():
    with tempfile.TemporaryDirectory(prefix="gradscope-llc-") as tmp:
        run_dir = os.path.join(tmp, "pair")
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
        theirs, seconds = torch_llc(run_dir)
    tm, ts = summary(theirs)
    print(f"pair-mlp at step {a.steps}, {a.chains} chains x {a.draws} draws, step size "
          f"{a.step_size}, localization {a.localization}, {a.threads} thread(s)")
    print(f"gradscope llc: {float(m[1]):.4g} +- {float(m[2]):.2g}, {chains:.2f} s for the chains "
          f"({ours:.2f} s for the whole command: start, data, model, checkpoint)")
    print(f"PyTorch SGLD:  {tm:.4g} +- {ts:.2g}, {seconds:.2f} s (the chains alone)")
    print(f"ratio: {seconds / chains:.2f}x on the chains ({seconds / ours:.2f}x against the whole "
          "command)")
    if done.stderr:
        sys.stderr.write(done.stderr)


if __name__ == "__main__":
    main()
