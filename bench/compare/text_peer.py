#!/usr/bin/env python3
"""The PyTorch peer of a finished text run (task.name = "text"): the same transformer (structure,
sizes, gradscope's initialization scheme), the same AdamW and learning-rate schedule, trained on
exactly the batches the gradscope run drew (gradscope.task_data(...)["sample"](seed, step, n)) and
evaluated on the same held-out windows. Prints one JSON line: the run's and the peer's final test
and train bits per token, their difference, and the peer's training throughput.

Usage: PYTHONPATH=build/python text_peer.py RUN_DIR [--threads N]
"""
import json
import math
import os
import sys
import time
import tomllib

RUN = sys.argv[1]
THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
os.environ["OMP_NUM_THREADS"] = str(THREADS)
os.environ["OPENBLAS_NUM_THREADS"] = str(THREADS)
import numpy as np  # noqa: E402  (after the thread settings)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import gradscope as gs  # noqa: E402
from torch_text import Transformer, lr_at  # noqa: E402

torch.set_num_threads(THREADS)


def bits(model, x, y):
    with torch.no_grad():
        logits = model(torch.from_numpy(np.asarray(x, dtype=np.int64)))
        loss = F.cross_entropy(logits.flatten(0, 1), torch.from_numpy(np.asarray(y, np.int64)).flatten())
    return loss.item() / math.log(2)


def main():
    config = os.path.join(RUN, "config.toml")
    with open(config, "rb") as f:
        c = tomllib.load(f)
    t, m, o, tr = c["task"], c["model"], c["optim"], c["train"]
    if t["name"] != "text" or m["type"] != "transformer" or o["name"] != "adamw":
        sys.exit(f"text_peer.py: {RUN} is not a text run of a transformer trained with adamw")
    data = gs.task_data(config)
    L, steps, n = t["seq_len"], tr["steps"], tr["batch_size"]
    model = Transformer(m, data["vocab"], L, c["seed"])
    opt = torch.optim.AdamW(model.parameters(), lr=o["lr"], betas=(o["beta1"], o["beta2"]),
                            eps=o["eps"], weight_decay=o["weight_decay"])
    clock = 0.0
    for step in range(steps):
        batch = data["sample"](c["seed"], step, n)
        x = torch.from_numpy(batch["x_batch"].astype(np.int64))
        y = torch.from_numpy(batch["y_batch"].astype(np.int64))
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr_at(o, step, steps)
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x).flatten(0, 1), y.flatten()).backward()
        if o["clip_norm"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), o["clip_norm"])
        opt.step()
        clock += time.perf_counter() - t0
    with open(os.path.join(RUN, "summary.json")) as f:
        final = json.load(f)["final"]
    peer = {"test_bits": bits(model, data["x_test"], data["y_test"]),
            "train_bits": bits(model, data["x_train"], data["y_train"])}
    print(json.dumps({
        "run": RUN, "steps": steps, "threads": THREADS,
        "gradscope_test_bits": final["test_bits"], "torch_test_bits": peer["test_bits"],
        "difference_bits": final["test_bits"] - peer["test_bits"],
        "gradscope_train_bits": final["train_bits"], "torch_train_bits": peer["train_bits"],
        "torch_tokens_per_s": steps * n * L / clock}))


if __name__ == "__main__":
    main()
