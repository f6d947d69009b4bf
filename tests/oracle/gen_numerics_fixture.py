#!/usr/bin/python3
"""Writes tests/oracle/fixtures/numerics.json: full training steps of Prieto et al.'s model
(grokking at the edge of numerical stability) in PyTorch, for tests/oracle/numerics_oracle_test.cpp.

The model is their MLP (models.py): the operands' one-hot vectors side by side, bias-free Linear
layers with ReLU between them, here 2p -> 12 -> 12 -> p for a+b mod p = 7 on 20 fixed training
pairs, in float64. Each case trains it for a few full-batch steps with AdamW (weight decay 0,
eps 1e-25 as their default, except where a case says) under one of the settings gradscope offers, written as their code
computes it (utils.py, orthograd.py):

  stablemax       train.loss = "stablemax": log(s(x) / sum s(x)) in float64
  torch_float32   train.softmax_numerics = "torch_float32": F.cross_entropy of the logits cast to
                  float32 (init scaled up so that some rows' softmax collapses)
  torch_float32_collapsed
                  the same from weights that fit every training row, scaled up until each row's
                  margin is past 25: every row collapsed, each target-class gradient exactly 0
  torch_float64   train.softmax_numerics = "torch_float64": log_softmax of the logits in float64
  orthogonal      optim.orthogonal = true: OrthoGrad on each tensor's gradient, then AdamW

It records the initial weights (PyTorch's [out, in] layout), the parameters after every step, and
per case the share of training rows whose float32 sum of exp(x - max) is exactly 1 at the start
(logger.py's Softmax Collapse test).

Rerun with `make oracle-fixtures` (it installs Debian's python3-torch first).
"""
import json
import os

import torch
import torch.nn.functional as F

P = 7
HIDDEN = 12
STEPS = 5
LR = 0.01
TRAIN = [(a, b) for a in range(P) for b in range(P)][::2][:20]


def s(x, epsilon=1e-30):
    return torch.where(x < 0, 1 / (1 - x + epsilon), x + 1)


def stablemax_ce(logits, labels):
    s_x = s(logits.to(torch.float64))
    logprobs = torch.log(s_x / torch.sum(s_x, dim=-1, keepdim=True))
    return -torch.mean(torch.gather(logprobs, index=labels[:, None], dim=-1))


def torch_ce(dtype):
    def loss(logits, labels):
        return F.cross_entropy(logits.to(dtype), labels).to(logits.dtype)
    return loss


def orthogonalize(params):
    for p in params:
        w, g = p.view(-1), p.grad.view(-1)
        proj = torch.dot(w, g) / (torch.dot(w, w) + 1e-30)
        g_orth = g - proj * w
        p.grad.copy_((g_orth * (g.norm(2) / (g_orth.norm(2) + 1e-30))).view_as(p.grad))


CASES = [
    dict(name="stablemax", loss="stablemax", init_scale=1.0),
    # The init scale is the first from 8 up at which some rows collapse and no row comes within a
    # factor 2 of the edge (the others' exps summing to 2^-24) during the steps: there a 1-ulp
    # difference between PyTorch's vectorized expf and the C library's decides the collapse, and
    # Adam turns the difference into a full step.
    dict(name="torch_float32", loss="torch_float32", init_scale="away_from_edge"),
    dict(name="torch_float32_collapsed", loss="torch_float32", init_scale=1.0, fitted=True),
    dict(name="torch_float64", loss="torch_float64", init_scale=1.0),
    dict(name="orthogonal", loss="torch_float64", init_scale=1.0, orthogonal=True),
]
LOSSES = {"stablemax": stablemax_ce, "torch_float32": torch_ce(torch.float32),
          "torch_float64": torch_ce(torch.float64)}


def inputs():
    x = torch.zeros(len(TRAIN), 2 * P, dtype=torch.float64)
    for i, (a, b) in enumerate(TRAIN):
        x[i, a] = 1
        x[i, P + b] = 1
    y = torch.tensor([(a + b) % P for a, b in TRAIN])
    return x, y


def forward(x, weights):
    h = x
    for i, w in enumerate(weights):
        h = h @ w.T
        if i + 1 < len(weights):
            h = torch.relu(h)
    return h


def fitted(initial):
    """Weights trained (float64 cross-entropy, Adam) until every training row is right, then
    scaled (the model is homogeneous of degree 3) until the smallest margin is 25."""
    x, y = inputs()
    weights = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in initial]
    opt = torch.optim.Adam(weights, lr=0.03)
    for _ in range(3000):
        opt.zero_grad()
        F.cross_entropy(forward(x, weights), y).backward()
        opt.step()
    with torch.no_grad():
        logits = forward(x, weights)
        assert (logits.argmax(1) == y).all(), "the fitted weights miss a training row"
        other = logits.clone()
        other[torch.arange(len(y)), y] = -float("inf")
        margin = (logits[torch.arange(len(y)), y] - other.max(1).values).min().item()
        k = (25.0 / margin) ** (1 / 3)
        return [(w * k).tolist() for w in weights]


def edge_distance(logits):
    """The smallest |log2(sum of exp(x - max) over all but the max) + 24| over the rows."""
    z = logits.to(torch.float64)
    z = z - z.amax(dim=1, keepdim=True)
    rest = torch.exp(z).sum(dim=1) - 1
    return (torch.log2(rest.clamp(min=1e-300)) + 24).abs().min().item()


def collapsed_share(logits):
    out = logits.to(torch.float32)
    sum_exp = torch.sum(torch.exp(out - out.amax(dim=1, keepdim=True)), dim=-1)
    return (sum_exp == 1).float().mean().item()


def run(case, initial):
    x, y = inputs()
    weights = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in initial]
    opt = torch.optim.AdamW(weights, lr=LR, betas=(0.9, 0.99), eps=case.get("eps", 1e-25),
                            weight_decay=0.0)

    with torch.no_grad():
        share = collapsed_share(forward(x, weights))
    trajectory = []
    edge = float("inf")
    for _ in range(STEPS):
        opt.zero_grad()
        logits = forward(x, weights)
        edge = min(edge, edge_distance(logits.detach()))
        LOSSES[case["loss"]](logits, y).backward()
        if case.get("orthogonal"):
            orthogonalize(weights)
        opt.step()
        trajectory.append([v for w in weights for v in w.detach().reshape(-1).tolist()])
    return share, trajectory, edge


def main():
    torch.manual_seed(0)
    sizes = [(HIDDEN, 2 * P), (HIDDEN, HIDDEN), (P, HIDDEN)]
    base = [torch.empty(o, i, dtype=torch.float64).uniform_(-1, 1) / i ** 0.5 for o, i in sizes]
    out = dict(p=P, hidden=HIDDEN, steps=STEPS, lr=LR, train=TRAIN, cases=[])
    for case in CASES:
        scales = [case["init_scale"]]
        if case["init_scale"] == "away_from_edge":
            scales = [8 + 0.25 * k for k in range(64)]
        for scale in scales:
            initial = [(w * scale).tolist() for w in base]
            if case.get("fitted"):
                initial = fitted(initial)
            share, trajectory, edge = run(case, initial)
            if len(scales) == 1 or (0.2 < share < 0.8 and edge > 1):
                case = dict(case, init_scale=scale)
                break
        else:
            raise SystemExit(case["name"] + ": no init scale keeps away from the edge")
        out["cases"].append(dict(case, initial=initial, sc_share=share, params=trajectory))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "numerics.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", path, [(c["name"], c["init_scale"], c["sc_share"]) for c in out["cases"]])


if __name__ == "__main__":
    main()
