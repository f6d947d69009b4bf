"""The PyTorch model of gradscope's text runs, shared by text_peer.py (bits per character beside a
gradscope run) and torch_workloads.py (the text-gpt step's speed). Import it after setting the
thread count: it imports torch."""
import math

import torch
import torch.nn.functional as F


class Transformer(torch.nn.Module):
    """gradscope's transformer (nn/transformer.cpp) for token inputs, logits at every position:
    learned positions, pre/post/no LayerNorm, causal attention without biases, an optional MLP
    (d_mlp = 0: attention-only), every matrix ~ N(0, init_scale^2 / d_model), W_U ~ N(0,
    init_scale^2 / vocab), biases 0, LayerNorm weights 1."""

    def __init__(self, m, vocab, length, seed):
        super().__init__()
        torch.manual_seed(seed)
        d, f, s = m["d_model"], m["d_mlp"], m["init_scale"]
        self.m, self.heads = m, m["n_heads"]
        e = self.heads * (m["d_head"] or d // self.heads)
        W = lambda *shape, fan=d: torch.nn.Parameter(torch.randn(*shape) * s / math.sqrt(fan))
        Z = lambda n: torch.nn.Parameter(torch.zeros(n))
        self.W_E, self.W_pos = W(vocab, d), W(length, d)
        self.blocks = torch.nn.ModuleList()
        for _ in range(m["n_layers"]):
            b = torch.nn.Module()
            b.W_Q, b.W_K, b.W_V, b.W_O = W(d, e), W(d, e), W(d, e), W(e, d)
            if m["norm"] != "none":
                b.ln1 = torch.nn.LayerNorm(d)
                if f > 0:
                    b.ln2 = torch.nn.LayerNorm(d)
            if f > 0:
                b.W_in, b.W_out = W(d, f), W(f, d)
                b.b_in, b.b_out = (Z(f), Z(d)) if m["mlp_bias"] else (None, None)
            self.blocks.append(b)
        if m["norm"] == "pre":
            self.ln_final = torch.nn.LayerNorm(d)
        self.W_U = W(d, vocab, fan=vocab)
        mask = torch.triu(torch.ones(length, length, dtype=torch.bool), 1)
        self.register_buffer("mask", mask)

    def attend(self, b, h):
        N, L, _ = h.shape
        q, k, v = h @ b.W_Q, h @ b.W_K, h @ b.W_V
        split = lambda t: t.view(N, L, self.heads, -1).transpose(1, 2)  # [N, H, L, Dh]
        att = split(q) @ split(k).transpose(-1, -2) / math.sqrt(q.shape[-1] // self.heads)
        att = att.masked_fill(self.mask[:L, :L], float("-inf")).softmax(-1)
        return (att @ split(v)).transpose(1, 2).reshape(N, L, -1) @ b.W_O

    def forward(self, tokens):  # tokens [N, L] -> logits [N, L, V]
        pre, post = self.m["norm"] == "pre", self.m["norm"] == "post"
        act = {"gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
               "relu": F.relu}[self.m["activation"]]
        x = self.W_E[tokens] + self.W_pos[: tokens.shape[1]]
        for b in self.blocks:
            x = x + self.attend(b, b.ln1(x) if pre else x)
            if post:
                x = b.ln1(x)
            if hasattr(b, "W_in"):
                h = b.ln2(x) if pre else x
                h = h @ b.W_in + (b.b_in if b.b_in is not None else 0)
                x = x + act(h) @ b.W_out + (b.b_out if b.b_out is not None else 0)
                if post:
                    x = b.ln2(x)
        if pre:
            x = self.ln_final(x)
        return x @ self.W_U


def lr_at(o, step, total):
    """gradscope's schedule (optim/schedule.cpp): linear warmup, then constant, cosine or linear."""
    f = min(step / o["warmup_steps"], 1.0) if o["warmup_steps"] > 0 else 1.0
    if o["decay"] != "constant" and step >= o["warmup_steps"]:
        p = min(max((step - o["warmup_steps"]) / (total - o["warmup_steps"]), 0.0), 1.0)
        fall = 0.5 * (1 + math.cos(math.pi * p)) if o["decay"] == "cosine" else 1 - p
        f *= o["min_lr_ratio"] + (1 - o["min_lr_ratio"]) * fall
    return o["lr"] * f
