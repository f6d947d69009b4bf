#!/usr/bin/python3
"""The local learning coefficient at one checkpoint: `gradscope llc` beside the same SGLD estimator
written in PyTorch (devinterp's update, run/llc.h's conventions), on the same weights, data and
settings, timed on the same machine.

Usage: PYTHONPATH=build/python llc_peer.py BUILD_DIR [--model pair|nanda] [--threads 1[,2...]]
       [--rounds 1] [--chains 4] [--draws 200] [--step-size 1e-5] [--localization 100]
       [--steps 2000]
Trains examples/pair-mlp.toml (or nanda-grokking.toml) for --steps steps (a checkpoint at the end),
then estimates the LLC there both ways: full-batch SGLD, n beta = n / log n of the training pairs
(911 for pair-mlp, 3,830 for nanda). The PyTorch side reads gradscope's checkpoint
(gradscope.Run.params) and the task's data (gradscope.task_data) and computes the same loss: for
pair-mlp PAIR's cross-entropy / 67 in the factored form of bench/compare's pair-mlp peer, for nanda
the cross-entropy of the same decoder written functionally on gradscope's weights. Both
sides print L_n(w*), which agree when the two models are the same.
Each side is timed at every thread count of --threads, the two interleaved, --rounds times (gradscope
spreads the chains over its threads, each chain computed as alone; PyTorch uses its threads inside
each op, and at counts above 1 is also timed with its chains spread over that many one-thread
processes, as devinterp's `cores` spreads them). gradscope's chains flush subnormal numbers to zero
(llc.flush_subnormals, its default); PyTorch is timed both ways: as it runs by default (subnormals
kept: on x86 each costs a microcode assist, and a trained model's softmax underflows) and with
torch.set_flush_denormal(True), each measurement in a fresh process that sets the mode before its
first op (the mode is per thread; PyTorch's workers copy it when they start). Prints each side's
estimate (mean and std over chains), the median seconds per estimate in each way with the range
over rounds, and the ratio of the two sides' best medians against each PyTorch mode.
The chains' noise differs between the two (each its own generator; PyTorch's chain c seeds its
own with c): the estimates agree within their chains' spread, not bit for bit.
"""
import argparse
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("--model", choices=["pair", "nanda"], default="pair")
ap.add_argument("--threads", default="1", help="comma-separated thread counts, e.g. 1,2")
ap.add_argument("--rounds", type=int, default=1)
ap.add_argument("--chains", type=int, default=4)
ap.add_argument("--draws", type=int, default=200)
ap.add_argument("--step-size", type=float, default=1e-5)
ap.add_argument("--localization", type=float, default=100.0)
ap.add_argument("--steps", type=int, default=2000)
a = ap.parse_args()
THREADS = [int(t) for t in a.threads.split(",")]
os.environ.setdefault("OMP_NUM_THREADS", str(max(THREADS)))

import torch  # noqa: E402  (after the thread settings)

import gradscope as gs  # noqa: E402

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


def torch_llc(run_dir, chains, threads, flush):
    """PyTorch SGLD chains `chains` (indices) from the run's last checkpoint on `threads` threads,
    chain c's noise from a generator seeded c, subnormals flushed to zero when `flush`
    (torch.set_flush_denormal); (per-chain lambda-hat, L_n(w*), seconds)."""
    torch.set_flush_denormal(flush)  # before any op, so that the threads it starts copy it
    torch.set_num_threads(threads)
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
    out = []
    for chain in chains:
        gen = torch.Generator().manual_seed(chain)
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


def torch_llc_fresh(run_dir, threads, flush):
    """torch_llc of every chain in a process of its own, which sets the subnormal mode before its
    first op: the mode is per thread, and PyTorch's workers copy it when they start."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(torch_llc, (run_dir, list(range(a.chains)), threads, flush))


def torch_llc_processes(run_dir, procs, flush):
    """The chains spread over `procs` processes of one thread each, as devinterp's `cores` runs
    them; seconds from the first chain's start to the last one's end in the slowest process (each
    process's start and loading not counted, as gradscope's are not)."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(procs) as pool:
        parts = pool.starmap(torch_llc, [(run_dir, list(range(p, a.chains, procs)), 1, flush)
                                         for p in range(procs)])
    return [v for part in parts for v in part[0]], max(part[2] for part in parts)


def summary(xs):
    m = sum(xs) / len(xs)
    s = (sum((v - m) ** 2 for v in xs) / (len(xs) - 1)) ** 0.5 if len(xs) > 1 else float("nan")
    return m, s


def gradscope_llc(run_dir, threads):
    """`gradscope llc` at the run's last checkpoint on `threads` threads: (the estimate's line,
    seconds for the chains as the command reports them, seconds for the whole command)."""
    llc_dir = os.path.join(run_dir, "llc")
    if os.path.isdir(llc_dir):
        shutil.rmtree(llc_dir)  # estimated afresh every time
    t0 = time.perf_counter()
    done = subprocess.run(
        [BINARY, "--threads", str(threads), "llc", run_dir, "--steps", "last",
         f"llc.chains={a.chains}", f"llc.draws={a.draws}", f"llc.step_size={a.step_size}",
         f"llc.localization={a.localization}"], check=True, capture_output=True, text=True)
    whole = time.perf_counter() - t0
    line = next(l for l in done.stdout.splitlines() if ": llc " in l)
    return line, float(re.search(r", ([0-9.]+) s$", line)[1]), whole


def median(xs):
    xs = sorted(xs)
    return (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2


MODES = {False: "subnormals kept (its default)", True: "subnormals flushed (set_flush_denormal)"}


def main():
    ours, whole = ({t: [] for t in THREADS} for _ in range(2))
    theirs, procs = ({(t, f): [] for t in THREADS for f in MODES} for _ in range(2))
    estimates = {}
    with tempfile.TemporaryDirectory(prefix="gradscope-llc-") as tmp:
        run_dir = os.path.join(tmp, a.model)
        subprocess.run([BINARY, "--threads", "2", "run", EXAMPLE, f"train.steps={a.steps}",
                        f'train.checkpoint_steps="every:{a.steps}"', "probe.spectra=false",
                        "--out", run_dir], check=True, stdout=subprocess.DEVNULL)
        for _ in range(a.rounds):
            for t in THREADS:
                line, chains, command = gradscope_llc(run_dir, t)
                ours[t].append(chains)
                whole[t].append(command)
                for f in MODES:
                    estimates[f], init, seconds = torch_llc_fresh(run_dir, t, f)
                    theirs[t, f].append(seconds)
                    if t > 1:
                        procs[t, f].append(torch_llc_processes(run_dir, t, f)[1])
    m = re.search(r": llc (\S+) \+- (\S+)", line)
    ours_init = float(re.search(r"L_n\(w\*\) (\S+),", line)[1])
    tm, ts = summary(estimates[False])
    fm, fs = summary(estimates[True])
    print(f"{a.model} at step {a.steps}, {a.chains} chains x {a.draws} draws, step size "
          f"{a.step_size}, localization {a.localization}, {a.rounds} round(s)")
    print(f"gradscope llc: {float(m[1]):.4g} +- {float(m[2]):.2g} (llc.flush_subnormals = true)")
    print(f"PyTorch SGLD:  {tm:.4g} +- {ts:.2g} ({fm:.4g} +- {fs:.2g} flushing subnormals)")
    print(f"L_n(w*): gradscope {ours_init:.6g}, PyTorch {init:.6g}")
    span = lambda xs: f"{median(xs):.2f} s ({min(xs):.2f}-{max(xs):.2f})"
    for t in THREADS:
        print(f"{t} thread(s): gradscope {span(ours[t])} for the chains, {span(whole[t])} for "
              f"the whole command (start, data, model, checkpoint)")
        for f, words in MODES.items():
            line = f"  PyTorch, {words}: {span(theirs[t, f])}"
            if t > 1:
                line += f", its chains over {t} one-thread processes {span(procs[t, f])}"
            print(line)
    best_ours = min(THREADS, key=lambda t: median(ours[t]))
    for f, words in MODES.items():
        peers = [(median(theirs[t, f]), f"{t} thread(s)") for t in THREADS]
        peers += [(median(procs[t, f]), f"{t} processes") for t in THREADS if t > 1]
        best, how = min(peers)
        print(f"ratio at each side's best, PyTorch with {words} (gradscope {best_ours} "
              f"thread(s), PyTorch {how}): {best / median(ours[best_ours]):.2f}x on the chains "
              f"({best / median(whole[best_ours]):.2f}x against the whole command)")


if __name__ == "__main__":
    main()
