#!/usr/bin/env python3
"""PyTorch's way of training many models at once, the peer of gradscope's replica groups
(bench_workloads WORKLOAD 1 REPEATS cuda replicas=K): K copies of a model with their parameters
stacked along a leading replica dimension, the loss's gradient taken with vmap(grad(loss)) over
that dimension, and one AdamW over the stacked tensors (elementwise, so each replica's update is
its own), as torch.func.stack_module_state + vmap ensembles do.

Usage: ensemble_peer.py WORKLOAD K REPEATS [--device cuda]
WORKLOAD: nanda (examples/nanda-grokking.toml, every position through the layer, the last
position's logits) or pair-mlp (examples/pair-mlp.toml per example). Prints one JSON line:
{"workload", "replicas", "device", "median_s", "per_replica_s", "times_s"}; a step is timed between
torch.cuda.synchronize() calls on a GPU. torch.func where PyTorch has it (2.0 on), else the
functorch package of PyTorch 1.13 (Debian's), which has the same vmap and grad.
"""
import json
import os
import statistics
import sys
import time
import tomllib

import torch

try:
    from torch.func import grad, vmap
except ImportError:  # PyTorch 1.13
    from functorch import grad, vmap

WORKLOAD, K, REPEATS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
DEVICE = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
if DEVICE == "cuda":
    torch.backends.cuda.matmul.allow_tf32 = False  # as gradscope: plain float32 GEMMs
torch.manual_seed(0)


def experiment(name):
    with open(os.path.join(ROOT, "examples", name), "rb") as f:
        return tomllib.load(f)


def modular_pairs(p, fraction, unordered=False):
    pairs = [(a, b) for a in range(p) for b in range(p) if not unordered or a <= b]
    order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(598))
    sel = torch.tensor([pairs[i] for i in order[:int(fraction * len(pairs))].tolist()])
    sel = sel.to(DEVICE)
    return sel[:, 0], sel[:, 1], (sel[:, 0] + sel[:, 1]) % p


def stacked(shapes):
    """K independent initializations of each named parameter, stacked: {name: [K, *shape]}."""
    return {name: (torch.randn(K, *shape) * sd).to(DEVICE).requires_grad_()
            for name, (shape, sd) in shapes.items()}


def nanda():
    cfg = experiment("nanda-grokking.toml")
    t, m = cfg["task"], cfg["model"]
    p, d, H, d_mlp = t.get("p", 113), m.get("d_model", 128), m.get("n_heads", 4), m.get("d_mlp", 512)
    a, b, c = modular_pairs(p, t.get("train_fraction", 0.3))
    tokens = torch.stack([a, b, torch.full_like(a, p)], 1)
    s = d ** -0.5
    params = stacked({"W_E": ((p + 1, d), s), "W_pos": ((3, d), s), "W_Q": ((d, d), s),
                      "W_K": ((d, d), s), "W_V": ((d, d), s), "W_O": ((d, d), s),
                      "W_in": ((d, d_mlp), s), "b_in": ((d_mlp,), 0.0),
                      "W_out": ((d_mlp, d), s), "b_out": ((d,), 0.0),
                      "W_U": ((d, p + 1), (p + 1) ** -0.5)})
    mask = torch.triu(torch.ones(3, 3, dtype=torch.bool, device=DEVICE), 1)

    def loss(P, tokens, c):
        N, L = tokens.shape
        x = P["W_E"][tokens] + P["W_pos"]                        # [N, L, d]
        split = lambda u: u.reshape(N, L, H, d // H).transpose(1, 2)
        att = split(x @ P["W_Q"]) @ split(x @ P["W_K"]).transpose(-1, -2) / (d // H) ** 0.5
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        x = x + (att @ split(x @ P["W_V"])).transpose(1, 2).reshape(N, L, d) @ P["W_O"]
        x = x + torch.relu(x @ P["W_in"] + P["b_in"]) @ P["W_out"] + P["b_out"]
        return torch.nn.functional.cross_entropy((x @ P["W_U"])[:, -1], c)
    return params, loss, (tokens, c), cfg["optim"]


def pair_mlp():
    cfg = experiment("pair-mlp.toml")
    t, m = cfg["task"], cfg["model"]
    p, De, Dh = t["p"], m["d_embed"], m["d_hidden"]
    a, b, c = modular_pairs(p, t["train_fraction"], t.get("unordered", False))
    params = stacked({"E": ((p, De), (2 / p) ** 0.5), "W_in": ((De, Dh), De ** -0.5),
                      "W_out": ((Dh, De), Dh ** -0.5)})

    def loss(P, a, b, c):
        h = torch.relu(P["E"][a] @ P["W_in"] + P["E"][b] @ P["W_in"])
        logits = (h @ P["W_out"]) @ P["E"].T
        return -torch.log_softmax(logits, -1).gather(1, c[:, None]).mean() / p
    return params, loss, (a, b, c), cfg["optim"]


def main():
    if WORKLOAD not in ("nanda", "pair-mlp"):
        sys.exit(f"ensemble_peer.py: unknown workload {WORKLOAD} (valid: nanda, pair-mlp)")
    params, loss, data, o = nanda() if WORKLOAD == "nanda" else pair_mlp()
    gradients = vmap(grad(loss), in_dims=(0,) + (None,) * len(data))
    opt = torch.optim.AdamW(list(params.values()), lr=o.get("lr", 1e-3),
                            weight_decay=o.get("weight_decay", 1.0),
                            betas=(o.get("beta1", 0.9), o.get("beta2", 0.98)))
    sync = torch.cuda.synchronize if DEVICE == "cuda" else (lambda: None)

    def step():
        with torch.no_grad():
            g = gradients({k: v.detach() for k, v in params.items()}, *data)
        for k, v in params.items():
            v.grad = g[k]
        opt.step()

    for _ in range(3):
        step()
    sync()
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(json.dumps({"workload": WORKLOAD, "replicas": K, "device": DEVICE, "median_s": median,
                      "per_replica_s": median / K, "times_s": sorted(times)}))


if __name__ == "__main__":
    main()
