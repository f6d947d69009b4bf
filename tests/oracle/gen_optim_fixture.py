#!/usr/bin/python3
"""Writes tests/oracle/fixtures/optim.json: PyTorch's SGD / Adam / AdamW trajectories for the
optimizer oracle test (tests/oracle/optim_oracle_test.cpp), with Grokfast's gradient filters
(EMA and MA, written as the authors' grokfast.py computes them) and Omnigrok's fixed weight norm
(every parameter scaled by X / total norm after each step) in some cases.

Each case starts from the same parameters (two tensors, flattened in order) and applies the same
fixed sequence of gradients for a few steps, with the case's learning-rate schedule (LambdaLR,
stepped after each optimizer step), in the order filter, clip_grad_norm_, step, weight norm. The parameters after every step
are recorded, in float32 and in float64.

Rerun with `make oracle-fixtures` (it installs Debian's python3-torch first).
"""
import json
import math
import os

import torch

STEPS = 6
SHAPES = [(3, 4), (5,)]

CASES = [
    dict(name="sgd", optim=dict(name="sgd", lr=0.1)),
    dict(name="sgd_momentum_wd", optim=dict(name="sgd", lr=0.05, momentum=0.9, dampening=0.1,
                                            weight_decay=0.01)),
    dict(name="sgd_nesterov", optim=dict(name="sgd", lr=0.05, momentum=0.9, nesterov=True)),
    dict(name="adam", optim=dict(name="adam", lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8)),
    dict(name="adam_l2", optim=dict(name="adam", lr=1e-2, weight_decay=0.1, beta1=0.8, beta2=0.99,
                                    eps=1e-6)),
    # Nanda et al.'s grokking optimizer: AdamW wd 1, betas (0.9, 0.98), warmup min(step/10, 1).
    dict(name="adamw_nanda", optim=dict(name="adamw", lr=1e-3, weight_decay=1.0, beta1=0.9,
                                        beta2=0.98, eps=1e-8),
         schedule=dict(warmup_steps=3)),
    dict(name="adamw_cosine_clip", optim=dict(name="adamw", lr=3e-2, weight_decay=0.1, beta1=0.9,
                                              beta2=0.95, eps=1e-8),
         schedule=dict(warmup_steps=2, decay="cosine", total_steps=STEPS, min_lr_ratio=0.1),
         clip_norm=1.0),
    # Grokfast's setups: EMA with Adam (L2 weight decay), MA (a short window, so that the filter
    # is active within the fixture's steps) with AdamW and clipping after the filter.
    dict(name="adam_grokfast_ema", optim=dict(name="adam", lr=1e-2, weight_decay=0.005, beta1=0.9,
                                              beta2=0.98, eps=1e-8),
         filter=dict(kind="ema", alpha=0.8, lamb=2.0)),
    dict(name="adamw_grokfast_ma_clip", optim=dict(name="adamw", lr=1e-2, weight_decay=0.01,
                                                   beta1=0.9, beta2=0.98, eps=1e-8),
         filter=dict(kind="ma", window=3, lamb=5.0), clip_norm=4.0),
    dict(name="sgd_grokfast_ema", optim=dict(name="sgd", lr=0.05, momentum=0.9),
         filter=dict(kind="ema", alpha=0.98, lamb=0.5)),
    # Omnigrok: the total norm held at 3.0 after every AdamW step.
    dict(name="adamw_weight_norm", optim=dict(name="adamw", lr=3e-2, weight_decay=0.1, beta1=0.9,
                                              beta2=0.98, eps=1e-8),
         weight_norm=3.0),
]


def grokfast_ema(params, state, alpha, lamb):
    """grokfast.py gradfilter_ema: the running average starts at the first gradient."""
    if state is None:
        state = [p.grad.detach() for p in params]
    for i, p in enumerate(params):
        state[i] = state[i] * alpha + p.grad.detach() * (1 - alpha)
        p.grad = p.grad + state[i] * lamb
    return state


def grokfast_ma(params, state, window, lamb):
    """grokfast.py gradfilter_ma (warmup, mean): a deque of the last `window` gradients. The copy
    keeps the raw gradient: grokfast.py stores p.grad itself, which clip_grad_norm_ would then
    scale in place (their setup does not clip; gradscope's window holds raw gradients)."""
    if state is None:
        state = [[] for _ in params]
    for i, p in enumerate(params):
        state[i] = (state[i] + [p.grad.detach().clone()])[-window:]
        if len(state[i]) == window:
            avg = sum(state[i]) / len(state[i])
            p.grad = p.grad + avg * lamb
    return state


def apply_filter(params, state, f):
    if f["kind"] == "ema":
        return grokfast_ema(params, state, f["alpha"], f["lamb"])
    return grokfast_ma(params, state, f["window"], f["lamb"])


def fix_norm(params, norm):
    """Omnigrok's constraint: every parameter scaled so that the total L2 norm is `norm`."""
    with torch.no_grad():
        total = torch.sqrt(sum((p * p).sum() for p in params))
        for p in params:
            p.mul_(norm / total)


def lr_factor(schedule, step):
    """gradscope's schedule (src/gradscope/optim/schedule.h), written out in Python."""
    warmup = schedule.get("warmup_steps", 0)
    factor = min(step / warmup, 1.0) if warmup > 0 else 1.0
    if schedule.get("decay", "constant") == "cosine" and step >= warmup:
        total = schedule["total_steps"]
        progress = min(max((step - warmup) / (total - warmup), 0.0), 1.0)
        lo = schedule.get("min_lr_ratio", 0.0)
        factor *= lo + (1 - lo) * 0.5 * (1 + math.cos(math.pi * progress))
    return factor


def make_optimizer(params, o):
    if o["name"] == "sgd":
        return torch.optim.SGD(params, lr=o["lr"], momentum=o.get("momentum", 0.0),
                               dampening=o.get("dampening", 0.0),
                               weight_decay=o.get("weight_decay", 0.0),
                               nesterov=o.get("nesterov", False))
    cls = torch.optim.Adam if o["name"] == "adam" else torch.optim.AdamW
    return cls(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
               weight_decay=o.get("weight_decay", 0.0), foreach=False)


def main():
    gen = torch.Generator().manual_seed(1234)
    init = [torch.randn(s, generator=gen, dtype=torch.float64) for s in SHAPES]
    # Gradients large enough that clipping at norm 1 is active.
    grads = [[torch.randn(s, generator=gen, dtype=torch.float64) * 2.0 for s in SHAPES]
             for _ in range(STEPS)]
    flat = lambda ts: torch.cat([t.reshape(-1) for t in ts]).tolist()
    out = dict(shapes=SHAPES, steps=STEPS, initial=flat(init),
               gradients=[flat(g) for g in grads], torch_version=torch.__version__, cases=[])
    for case in CASES:
        record = dict(case)
        for dtype, key in ((torch.float32, "float32"), (torch.float64, "float64")):
            params = [p.clone().to(dtype).requires_grad_(True) for p in init]
            opt = make_optimizer(params, case["optim"])
            sched = torch.optim.lr_scheduler.LambdaLR(
                opt, lambda step: lr_factor(case.get("schedule", {}), step))
            trajectory = []
            state = None
            for step in range(STEPS):
                for p, g in zip(params, grads[step]):
                    p.grad = g.clone().to(dtype)
                if "filter" in case:
                    state = apply_filter(params, state, case["filter"])
                if "clip_norm" in case:
                    torch.nn.utils.clip_grad_norm_(params, case["clip_norm"])
                opt.step()
                if "weight_norm" in case:
                    fix_norm(params, case["weight_norm"])
                sched.step()
                trajectory.append(flat([p.detach().to(torch.float64) for p in params]))
            record[key] = trajectory
        out["cases"].append(record)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "optim.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path} ({len(CASES)} cases, {STEPS} steps, torch {torch.__version__})")


if __name__ == "__main__":
    main()
