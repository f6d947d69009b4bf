#!/usr/bin/python3
"""Writes tests/oracle/fixtures/models.json: PyTorch logits, loss and every parameter gradient for
small configurations of gradscope's transformer and MLP models (tests/oracle/model_oracle_test.cpp).

The models are written here from their definitions (../shared/REFERENCES.md 1a-1c and
src/gradscope/nn/models.h), with gradscope's parameter names and layouts (W stored [in, out],
W_Q/W_K/W_V [D, H*Dh] with head h in columns h*Dh..). Parameters are random, not gradscope's
initialization: the test loads them by name. Computed in float64.

Rerun with `make oracle-fixtures`.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
GEN = torch.Generator().manual_seed(4321)


def randn(*shape, scale=0.4):
    return (torch.randn(*shape, generator=GEN) * scale).requires_grad_(True)


def attention(q, k, v, heads, causal):
    n, t, e = q.shape
    dh = e // heads
    split = lambda x: x.reshape(n, t, heads, dh).transpose(1, 2)  # [N, H, T, Dh]
    s = split(q) @ split(k).transpose(-1, -2) / math.sqrt(dh)
    if causal:
        s = s.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
    z = torch.softmax(s, -1) @ split(v)  # [N, H, T, Dh]
    return z.transpose(1, 2).reshape(n, t, e)


def act(x, name):
    return {"relu": F.relu, "gelu": F.gelu, "gelu_tanh": lambda y: F.gelu(y, approximate="tanh"),
            "square": lambda y: y * y}[name](x)


def transformer_params(c, vocab, length):
    d, e, f = c["model.d_model"], c["model.d_model"], c["model.d_mlp"]
    p = {"embed.W_E": randn(vocab, d)}
    if c["model.positions"] == "learned":
        p["pos_embed.W_pos"] = randn(length, d)
    for l in range(c["model.n_layers"]):
        b = f"blocks.{l}."
        if c["model.norm"] != "none":
            p[b + "ln1.w"] = (1 + randn(d, scale=0.1)).detach().requires_grad_(True)
            p[b + "ln1.b"] = randn(d, scale=0.1)
        for m in "QKV":
            p[b + f"attn.W_{m}"] = randn(d, e)
        p[b + "attn.W_O"] = randn(e, d)
        if c["model.attn_bias"]:
            for m in "QKV":
                p[b + f"attn.b_{m}"] = randn(e, scale=0.1)
            p[b + "attn.b_O"] = randn(d, scale=0.1)
        if c["model.norm"] != "none":
            p[b + "ln2.w"] = (1 + randn(d, scale=0.1)).detach().requires_grad_(True)
            p[b + "ln2.b"] = randn(d, scale=0.1)
        p[b + "mlp.W_in"] = randn(d, f)
        if c["model.mlp_bias"]:
            p[b + "mlp.b_in"] = randn(f, scale=0.1)
        p[b + "mlp.W_out"] = randn(f, d, scale=0.2)
        if c["model.mlp_bias"]:
            p[b + "mlp.b_out"] = randn(d, scale=0.1)
    if c["model.norm"] == "pre":
        p["ln_final.w"] = (1 + randn(d, scale=0.1)).detach().requires_grad_(True)
        p["ln_final.b"] = randn(d, scale=0.1)
    if not c["model.tied_unembed"]:
        p["unembed.W_U"] = randn(d, vocab)
    return p


def transformer_logits(c, p, tokens, pre=None):
    """The logits [n, vocab] at the last position; with a list `pre`, each block's MLP
    pre-activation [n, t, d_mlp] appended to it."""
    d = c["model.d_model"]
    n, t = tokens.shape
    x = p["embed.W_E"][tokens]
    if c["model.positions"] == "learned":
        x = x + p["pos_embed.W_pos"][:t]
    else:
        pos = torch.arange(t).unsqueeze(1).double()
        j = torch.arange(d)
        angle = pos / torch.pow(10000.0, (j - j % 2).double() / d)
        x = x + torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle))
    ln = lambda y, name: F.layer_norm(y, (d,), p[name + ".w"], p[name + ".b"], 1e-5)
    get = lambda name: p.get(name)
    for l in range(c["model.n_layers"]):
        b = f"blocks.{l}."
        lin = lambda y, w, bias: y @ p[w] + (p[bias] if bias in p else 0)
        h = ln(x, b + "ln1") if c["model.norm"] == "pre" else x
        a = attention(lin(h, b + "attn.W_Q", b + "attn.b_Q"), lin(h, b + "attn.W_K", b + "attn.b_K"),
                      lin(h, b + "attn.W_V", b + "attn.b_V"), c["model.n_heads"], c["model.causal"])
        x = x + lin(a, b + "attn.W_O", b + "attn.b_O")
        if c["model.norm"] == "post":
            x = ln(x, b + "ln1")
        h = ln(x, b + "ln2") if c["model.norm"] == "pre" else x
        z = lin(h, b + "mlp.W_in", b + "mlp.b_in")
        if pre is not None:
            pre.append(z)
        m = act(z, c["model.activation"])
        x = x + lin(m, b + "mlp.W_out", b + "mlp.b_out")
        if c["model.norm"] == "post":
            x = ln(x, b + "ln2")
    if c["model.norm"] == "pre":
        x = ln(x, "ln_final")
    last = x[:, -1]
    return last @ (p["embed.W_E"].T if c["model.tied_unembed"] else p["unembed.W_U"])


def mlp_params(c, vocab, classes):
    de, dh = c["model.d_embed"], c["model.d_hidden"]
    if c["model.mlp_form"] == "pair":
        return {"embed.W_E": randn(classes, de), "mlp.W_in": randn(de, dh), "mlp.W_out": randn(dh, de)}
    return {"embed.W_E": randn(vocab, de), "mlp.W_in": randn(2 * de, dh),
            "mlp.b_in": randn(dh, scale=0.1), "mlp.W_out": randn(dh, classes),
            "mlp.b_out": randn(classes, scale=0.1)}


def mlp_logits(c, p, ids, pre=None):
    """The logits [n, classes]; with a list `pre` (the concatenating form), the hidden
    pre-activation [n, d_hidden] appended to it."""
    e = p["embed.W_E"]
    if c["model.mlp_form"] == "pair":
        h = act(e[ids[:, 0]] @ p["mlp.W_in"] + e[ids[:, 1]] @ p["mlp.W_in"], c["model.activation"])
        return (h @ p["mlp.W_out"]) @ e.T
    x = torch.cat([e[ids[:, 0]], e[ids[:, 1]]], 1)
    z = x @ p["mlp.W_in"] + p["mlp.b_in"]
    if pre is not None:
        pre.append(z)
    return act(z, c["model.activation"]) @ p["mlp.W_out"] + p["mlp.b_out"]


BASE_T = {"model.type": "transformer", "model.d_model": 16, "model.n_heads": 2, "model.d_mlp": 32,
          "model.n_layers": 2, "model.causal": True, "model.attn_bias": False,
          "model.mlp_bias": True, "model.tied_unembed": False, "model.positions": "learned",
          "model.norm": "pre", "model.activation": "relu"}
CASES = [
    ("transformer_prenorm", dict(BASE_T, **{"model.activation": "gelu", "model.attn_bias": True})),
    ("transformer_postnorm_power", dict(BASE_T, **{"model.norm": "post", "model.positions": "sinusoidal",
                                                   "model.tied_unembed": True, "model.mlp_bias": False})),
    ("transformer_nanda_1layer", dict(BASE_T, **{"model.norm": "none", "model.n_layers": 1,
                                                 "model.n_heads": 4})),
    ("mlp_pair", {"model.type": "mlp", "model.mlp_form": "pair", "model.d_embed": 12,
                  "model.d_hidden": 6, "model.activation": "relu"}),
    ("mlp_pair_square", {"model.type": "mlp", "model.mlp_form": "pair", "model.d_embed": 12,
                         "model.d_hidden": 6, "model.activation": "square"}),
    ("mlp_concat", {"model.type": "mlp", "model.mlp_form": "concat", "model.d_embed": 8,
                    "model.d_hidden": 10, "model.activation": "relu"}),
    # Appended (the generator's draws for the cases above stay as they were).
    ("transformer_gelu_tanh", dict(BASE_T, **{"model.activation": "gelu_tanh"})),
    ("mlp_concat_gelu_tanh", {"model.type": "mlp", "model.mlp_form": "concat", "model.d_embed": 8,
                              "model.d_hidden": 10, "model.activation": "gelu_tanh"}),
    ("transformer_1layer_gelu", dict(BASE_T, **{"model.norm": "none", "model.n_layers": 1,
                                                "model.d_model": 8, "model.d_mlp": 16,
                                                "model.activation": "gelu"})),
]
# ReLU models with pre-activations just above the kink (hold_at_kink): a finite difference of
# gradients there crosses it unless the kinks are held (run/hessian.h KinkHeldHessian).
KINK_CASES = [
    ("mlp_concat_relu_kink", {"model.type": "mlp", "model.mlp_form": "concat", "model.d_embed": 8,
                              "model.d_hidden": 10, "model.activation": "relu"}),
    ("transformer_1layer_relu_kink", dict(BASE_T, **{"model.norm": "none", "model.n_layers": 1,
                                                     "model.d_model": 8, "model.d_mlp": 16})),
]
CASES += KINK_CASES
# Cases small enough for the exact Hessian (tests/oracle/hessian_oracle_test.cpp): smooth ones,
# and the ReLU ones at their kinks.
HESSIAN_CASES = {"mlp_pair_square", "mlp_concat_gelu_tanh", "transformer_1layer_gelu",
                 *(name for name, _ in KINK_CASES)}
KINK_OFFSET = 1e-9  # far above the pre-activations' rounding, far below the step of 1e-5


def hold_at_kink(bias, pre):
    """Shifts bias [units] so that example j's pre-activation of unit j (pre [n, units], the rows
    that reach the loss) is KINK_OFFSET, for j below 4."""
    with torch.no_grad():
        for j in range(4):
            bias[j] -= pre[j, j] - KINK_OFFSET


def hessian_of(loss_of, params):
    """The exact Hessian of loss_of(params) over every parameter, flattened in the dict's order:
    its top 5 eigenvalues and trace, and each tensor's diagonal block's top eigenvalue and trace."""
    names = list(params)
    sizes = [params[k].numel() for k in names]
    flat = torch.cat([params[k].detach().reshape(-1) for k in names])

    def f(x):
        parts = torch.split(x, sizes)
        return loss_of({k: v.reshape(params[k].shape) for k, v, in zip(names, parts)})
    H = torch.autograd.functional.hessian(f, flat)
    out = dict(top=torch.linalg.eigvalsh(H).flip(0)[:5].tolist(), trace=H.trace().item(),
               tensors={})
    start = 0
    for k, size in zip(names, sizes):
        block = H[start:start + size, start:start + size]
        out["tensors"][k] = dict(top=torch.linalg.eigvalsh(block)[-1].item(),
                                 trace=block.trace().item())
        start += size
    return out


def main():
    p_mod, n = 7, 10
    a = torch.randint(0, p_mod, (n,), generator=GEN)
    b = torch.randint(0, p_mod, (n,), generator=GEN)
    targets = (a + b) % p_mod
    out = dict(p=p_mod, torch_version=torch.__version__, cases=[])
    for name, c in CASES:
        if c["model.type"] == "transformer":
            inputs = torch.stack([a, b, torch.full((n,), p_mod)], 1)
            vocab, length = p_mod + 1, 3
            params = transformer_params(c, vocab, length)
            if (name, c) in KINK_CASES:
                pre = []
                transformer_logits(c, params, inputs, pre)
                hold_at_kink(params["blocks.0.mlp.b_in"], pre[-1][:, -1])
            logits = transformer_logits(c, params, inputs)
        else:
            inputs = torch.stack([a, b], 1)
            vocab, length = p_mod, 2
            params = mlp_params(c, vocab, p_mod)
            if (name, c) in KINK_CASES:
                pre = []
                mlp_logits(c, params, inputs, pre)
                hold_at_kink(params["mlp.b_in"], pre[-1])
            logits = mlp_logits(c, params, inputs)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        out["cases"].append(dict(
            name=name, config=c, vocab=vocab, classes=p_mod, length=length,
            inputs=inputs.reshape(-1).tolist(), targets=targets.tolist(),
            params={k: v.detach().reshape(-1).tolist() for k, v in params.items()},
            logits=logits.detach().reshape(-1).tolist(), loss=loss.item(),
            grads={k: v.grad.reshape(-1).tolist() for k, v in params.items()}))
        if (name, c) in KINK_CASES:  # below float32's resolution: float64 only
            out["cases"][-1]["kink_offset"] = KINK_OFFSET
        if name in HESSIAN_CASES:
            forward = transformer_logits if c["model.type"] == "transformer" else mlp_logits
            out["cases"][-1]["hessian"] = hessian_of(
                lambda q: F.cross_entropy(forward(c, q, inputs), targets), params)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "models.json")
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"wrote {path} ({len(CASES)} cases, torch {torch.__version__})")


if __name__ == "__main__":
    main()
