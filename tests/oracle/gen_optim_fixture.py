#!/usr/bin/python3
"""Writes tests/oracle/fixtures/optim.json: PyTorch's SGD / Adam / AdamW trajectories for the
optimizer oracle test (tests/oracle/optim_oracle_test.cpp).

Each case starts from the same parameters (two tensors, flattened in order) and applies the same
fixed sequence of gradients for a few steps, with the case's learning-rate schedule (LambdaLR,
stepped after each optimizer step) and optional clip_grad_norm_. The parameters after every step
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
]


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
            for step in range(STEPS):
                for p, g in zip(params, grads[step]):
                    p.grad = g.clone().to(dtype)
                if "clip_norm" in case:
                    torch.nn.utils.clip_grad_norm_(params, case["clip_norm"])
                opt.step()
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
