"""A run's model as a torch.nn.Module (gradscope.Model.to_torch), to go on in PyTorch, nnsight or
TransformerLens from a checkpoint. The module computes gradscope's forward pass on the plain path
(every position): its outputs equal gs.Model.run_with_cache's (float32: 1e-5, float64: 1e-12).

The transformer's state dict follows TransformerLens's HookedTransformer names and shapes
(embed.W_E [d_vocab, d_model], pos_embed.W_pos [n_ctx, d_model], blocks.{l}.attn.W_Q / W_K / W_V
[n_heads, d_model, d_head], W_O [n_heads, d_head, d_model], b_Q / b_K / b_V [n_heads, d_head],
b_O [d_model], blocks.{l}.ln1.w / b, ln2.w / b, blocks.{l}.mlp.W_in [d_model, d_mlp], b_in,
W_out [d_mlp, d_model], b_out, ln_final.w / b, unembed.W_U [d_model, d_vocab], b_U [d_vocab]),
gradscope's [d_model, n_heads * d_head] matrices reshaped, and zeros for the biases gradscope's
model does not have. hooked_transformer_config() gives the matching HookedTransformerConfig
fields. The MLPs and deep linear networks keep gradscope's own parameter names.

PyTorch is imported when a module is made, not before (Debian: python3-torch).
"""

from __future__ import annotations

import math

import numpy as np


def _torch():
    try:
        import torch
    except ImportError as e:
        raise ImportError("to_torch needs PyTorch (Debian: apt install python3-torch)") from e
    return torch


def transformer_state(config: dict, params: dict[str, np.ndarray], positions: np.ndarray) -> dict:
    """The transformer's parameters under TransformerLens's names and shapes (NumPy, float64 or
    float32 as stored); `positions` is the model's position table [L, D] as its forward adds it
    (learned or sinusoidal)."""
    m = config["model"]
    D, H = int(m["d_model"]), int(m["n_heads"])
    Dh = int(m.get("d_head") or 0) or D // H
    dtype = params["embed.W_E"].dtype
    zeros = lambda *shape: np.zeros(shape, dtype=dtype)  # noqa: E731
    out = {"embed.W_E": params["embed.W_E"]}
    out["pos_embed.W_pos"] = positions
    for l in range(int(m["n_layers"])):
        b = f"blocks.{l}."
        for x in "QKV":
            out[b + f"attn.W_{x}"] = params[b + f"attn.W_{x}"].reshape(D, H, Dh).transpose(1, 0, 2)
            bias = params.get(b + f"attn.b_{x}")
            out[b + f"attn.b_{x}"] = bias.reshape(H, Dh) if bias is not None else zeros(H, Dh)
        out[b + "attn.W_O"] = params[b + "attn.W_O"].reshape(H, Dh, D)
        out[b + "attn.b_O"] = params.get(b + "attn.b_O", zeros(D))
        for ln in ("ln1", "ln2"):
            if b + f"{ln}.w" in params:
                out[b + f"{ln}.w"], out[b + f"{ln}.b"] = params[b + f"{ln}.w"], params[b + f"{ln}.b"]
        if b + "mlp.W_in" in params:
            F = params[b + "mlp.W_in"].shape[1]
            out[b + "mlp.W_in"] = params[b + "mlp.W_in"]
            out[b + "mlp.b_in"] = params.get(b + "mlp.b_in", zeros(F))
            out[b + "mlp.W_out"] = params[b + "mlp.W_out"]
            out[b + "mlp.b_out"] = params.get(b + "mlp.b_out", zeros(D))
    if "ln_final.w" in params:
        out["ln_final.w"], out["ln_final.b"] = params["ln_final.w"], params["ln_final.b"]
    out["unembed.W_U"] = params["unembed.W_U"] if "unembed.W_U" in params else params["embed.W_E"].T
    out["unembed.b_U"] = zeros(out["unembed.W_U"].shape[1])
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


def hooked_transformer_config(config: dict, params: dict[str, np.ndarray], length: int) -> dict:
    """HookedTransformerConfig's fields for the run's transformer; ValueError where TransformerLens
    has no equivalent (post-LN, real-valued inputs)."""
    m = config["model"]
    if m.get("norm") == "post":
        raise ValueError("model.norm = \"post\" (post-LN) has no TransformerLens equivalent "
                         "(valid: pre, none)")
    D, H = int(m["d_model"]), int(m["n_heads"])
    d_mlp = int(m.get("d_mlp", 0))
    V = params["embed.W_E"].shape[0]
    return {
        "n_layers": int(m["n_layers"]), "d_model": D, "n_ctx": length, "n_heads": H,
        "d_head": int(m.get("d_head") or 0) or D // H, "d_mlp": d_mlp if d_mlp > 0 else None,
        "attn_only": d_mlp == 0, "d_vocab": V, "d_vocab_out": V, "act_fn": _TL_ACT_FN.get(m.get("activation"), m.get("activation")),
        "normalization_type": "LN" if m.get("norm") == "pre" else None,
        "positional_embedding_type": "standard",
        "attention_dir": "causal" if m.get("causal", True) else "bidirectional",
        "default_prepend_bos": False,
        "dtype": "float64" if params["embed.W_E"].dtype == np.float64 else "float32",
    }


def _parameters(torch, tensors: dict[str, np.ndarray]):
    """A module holding `tensors` under their dotted names (nested modules)."""
    root = torch.nn.Module()
    for name, value in tensors.items():
        *path, leaf = name.split(".")
        owner = root
        for part in path:
            if not hasattr(owner, part):
                owner.add_module(part, torch.nn.Module())
            owner = getattr(owner, part)
        owner.register_parameter(leaf, torch.nn.Parameter(torch.from_numpy(value.copy())))
    return root


def _adopt(torch, module, tensors: dict[str, np.ndarray]) -> None:
    """Gives `module` the parameters `tensors` under their dotted names."""
    for name, child in _parameters(torch, tensors).named_children():
        module.add_module(name, child)


# TransformerLens's name for GPT-2's tanh GELU is "gelu_new"; the others are gradscope's own.
_TL_ACT_FN = {"gelu_tanh": "gelu_new"}


def _activation(torch, name: str):
    F = torch.nn.functional
    return {"relu": F.relu, "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
            "square": lambda x: x * x}[name]


def transformer_module(config: dict, params: dict[str, np.ndarray], positions: np.ndarray):
    """The transformer as a torch.nn.Module: forward(tokens [batch, pos]) -> logits
    [batch, pos, d_vocab]."""
    torch = _torch()
    m = config["model"]
    norm, causal = m.get("norm", "none"), bool(m.get("causal", True))
    act = _activation(torch, m.get("activation", "relu"))
    n_layers = int(m["n_layers"])

    class Transformer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            _adopt(torch, self, transformer_state(config, params, positions))

        def _ln(self, x, ln):
            return torch.nn.functional.layer_norm(x, x.shape[-1:], ln.w, ln.b, 1e-5)

        def _attention(self, h, a):
            q = torch.einsum("bpd,hde->bphe", h, a.W_Q) + a.b_Q  # [B, P, H, Dh]
            k = torch.einsum("bpd,hde->bphe", h, a.W_K) + a.b_K
            v = torch.einsum("bpd,hde->bphe", h, a.W_V) + a.b_V
            scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(q.shape[-1])
            if causal:
                P = scores.shape[-1]
                mask = torch.ones(P, P, dtype=torch.bool, device=h.device).tril()
                scores = scores.masked_fill(~mask, float("-inf"))
            pattern = scores.softmax(dim=-1)  # [B, H, Q, K]
            z = torch.einsum("bhqk,bkhe->bqhe", pattern, v)
            return torch.einsum("bqhe,hed->bqd", z, a.W_O) + a.b_O

        def forward(self, tokens):
            tokens = torch.as_tensor(tokens, dtype=torch.long)
            x = self.embed.W_E[tokens] + self.pos_embed.W_pos[: tokens.shape[1]]
            for l in range(n_layers):
                blk = self.blocks.get_submodule(str(l))
                h = self._ln(x, blk.ln1) if norm == "pre" else x
                x = x + self._attention(h, blk.attn)
                if norm == "post":
                    x = self._ln(x, blk.ln1)
                if not hasattr(blk, "mlp"):
                    continue
                h = self._ln(x, blk.ln2) if norm == "pre" else x
                x = x + act(h @ blk.mlp.W_in + blk.mlp.b_in) @ blk.mlp.W_out + blk.mlp.b_out
                if norm == "post":
                    x = self._ln(x, blk.ln2)
            if norm == "pre":
                x = self._ln(x, self.ln_final)
            return x @ self.unembed.W_U + self.unembed.b_U

    return Transformer()


def mlp_module(config: dict, params: dict[str, np.ndarray]):
    """The MLPs (pair, concat: operand ids [batch, 2]; dense: features [batch, F]) as a module:
    forward -> outputs [batch, classes]. gradscope's parameter names."""
    torch = _torch()
    m = config["model"]
    form, act = m.get("mlp_form", "pair"), _activation(torch, m.get("activation", "relu"))

    class Mlp(torch.nn.Module):
        def __init__(self):
            super().__init__()
            _adopt(torch, self, params)

        def forward(self, inputs):
            if form == "dense":
                h = torch.as_tensor(inputs).reshape(len(inputs), -1).to(self.readout.W.dtype)
                for l in range(len(list(self.layers.children()))):
                    layer = self.layers.get_submodule(str(l))
                    h = act(h @ layer.W + layer.b)
                return h @ self.readout.W + self.readout.b
            ids = torch.as_tensor(inputs, dtype=torch.long)
            x = self.embed.W_E[ids]  # [N, 2, De]
            if form == "pair":
                h = act((x @ self.mlp.W_in).sum(dim=1))
                return (h @ self.mlp.W_out) @ self.embed.W_E.T
            h = act(x.reshape(len(ids), -1) @ self.mlp.W_in + self.mlp.b_in)
            return h @ self.mlp.W_out + self.mlp.b_out

    return Mlp()


def deep_linear_module(params: dict[str, np.ndarray]):
    """A deep linear network: forward(x [batch, d_in]) = x W_0 W_1 ... [batch, d_out]."""
    torch = _torch()

    class DeepLinear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            _adopt(torch, self, params)

        def forward(self, x):
            y = torch.as_tensor(x).reshape(len(x), -1).to(self.layers.get_submodule("0").W.dtype)
            for l in range(len(list(self.layers.children()))):
                y = y @ self.layers.get_submodule(str(l)).W
            return y

    return DeepLinear()


def module(config: dict, params: dict[str, np.ndarray], features: int, positions=None):
    """The run's model as a torch.nn.Module (`positions`: a transformer's position table [L, D]);
    ValueError for a model type without one."""
    kind = config["model"].get("type")
    if kind == "transformer":
        if features > 0:
            raise ValueError("a transformer on real-valued inputs has no PyTorch module yet "
                             "(valid: token inputs)")
        return transformer_module(config, params, positions)
    if kind == "mlp":
        return mlp_module(config, params)
    if kind == "deep_linear":
        return deep_linear_module(params)
    raise ValueError(f"model.type = {kind!r} has no PyTorch module yet "
                     "(valid: transformer, mlp, deep_linear)")
