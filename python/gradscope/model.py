"""Looking inside a run's model: gradscope.Model at a checkpoint (forward, run_with_cache with
TransformerLens's activation names, run_with_hooks), through the C++ core's own kernels.
"""

from __future__ import annotations

import os

import numpy as np

from . import _core
from .results import Run


class Model:
    """A run's model at one checkpoint, for looking inside (every model family).

    model = gs.Model.from_run(run, step)      # step: a checkpoint step (default: the last)
    logits, cache = model.run_with_cache(tokens)
    logits = model.run_with_hooks(tokens, {"blocks.0.attn.hook_z": fn})

    tokens: integer ids [batch, pos] (the task's layout, e.g. gs.task_data's x_test), or for a
    task of real inputs its features [batch, ...]. The model runs on the plain path (every
    position, none of training's shortcuts) through the same C++ kernels; a transformer's logits
    are [batch, pos, vocab], any other model's outputs [batch, outputs]. The MLPs name
    hook_embed [batch, 2, d_embed] and mlp.hook_pre / mlp.hook_post [batch, d_hidden] (dense:
    layers.{l}.hook_pre / hook_post); deep linear networks layers.{l}.hook_out; the diagonal
    models none. A transformer's activations carry TransformerLens's names and shapes:
    hook_embed, hook_pos_embed [batch, pos, d_model]; blocks.{l}.hook_resid_pre / hook_attn_out /
    hook_resid_mid / hook_mlp_out / hook_resid_post [batch, pos, d_model];
    blocks.{l}.attn.hook_q / hook_k / hook_v / hook_z [batch, pos, head, d_head];
    blocks.{l}.attn.hook_pattern [batch, head, query, key]; blocks.{l}.mlp.hook_pre / hook_post
    [batch, pos, d_mlp]; blocks.{l}.ln1.hook_normalized, ln2.hook_normalized,
    ln_final.hook_normalized with pre-LayerNorm.
    """

    _PER_HEAD = ("attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_z")

    def __init__(self, run: "Run | str | os.PathLike", step: int | None = None):
        self.run = run if isinstance(run, Run) else Run(run)
        self.step = self.run._checkpoint(step).layout["step"]
        self._core = _core.Model(self.run.path, self.step)
        m = self.run.config["model"]
        self.type = m.get("type")
        self.n_heads = int(m["n_heads"]) if self.type == "transformer" else 0
        self.d_head = (int(m.get("d_head") or 0) or int(m["d_model"]) // self.n_heads
                       if self.n_heads else 0)

    @classmethod
    def from_run(cls, run: "Run | str | os.PathLike", step: int | None = None) -> "Model":
        return cls(run, step)

    def params(self) -> dict[str, np.ndarray]:
        return self._core.params()

    def _per_head(self, name: str) -> bool:
        return self.n_heads > 0 and name.endswith(self._PER_HEAD)

    def _outward(self, name: str, a: np.ndarray, batch: int) -> np.ndarray:
        """An activation as TransformerLens shapes it (a view)."""
        if self._per_head(name):
            return a.reshape(a.shape[0], a.shape[1], self.n_heads, self.d_head)
        if name == "hook_pos_embed":
            return np.broadcast_to(a, (batch, *a.shape))
        return a

    def run_with_cache(self, tokens) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        tokens = np.asarray(tokens)
        logits, cache = self._core.run(tokens, {}, True)
        return logits, {k: self._outward(k, v, len(tokens)) for k, v in cache.items()}

    def run_with_hooks(self, tokens, hooks: dict) -> np.ndarray:
        """Logits with each named activation passed through its hook: fn(activation) returns a
        replacement of the same shape (zero- or mean-ablation, patching) or None to keep it."""
        tokens = np.asarray(tokens)

        def wrap(name, fn):
            def call(a):
                got = fn(self._outward(name, a, len(tokens)))
                if got is None:
                    return None
                got = np.asarray(got)
                if name == "hook_pos_embed":
                    if got.ndim == 3 and not np.all(got == got[:1]):
                        raise ValueError("hook_pos_embed is one [pos, d_model] table: "
                                         "a replacement must be the same for every sequence")
                    got = got[0] if got.ndim == 3 else got
                if got.size != a.size:
                    expected = self._outward(name, a, len(tokens)).shape
                    raise ValueError(f"hook {name} returned an array of another shape "
                                     f"({got.shape}; expected {expected})")
                return got.reshape(a.shape)
            return call

        logits, _ = self._core.run(tokens, {k: wrap(k, f) for k, f in hooks.items()}, False)
        return logits

    def to_torch(self):
        """The model as a torch.nn.Module at this checkpoint (python/gradscope/torch_model.py):
        its forward gives run_with_cache's outputs; a transformer's state dict has
        TransformerLens's names and shapes."""
        from . import torch_model
        features, positions = self._core.features(), None
        if self.type == "transformer" and features == 0:
            # The position table as the core's forward adds it (learned or sinusoidal).
            tokens = np.zeros((1, self._core.length()), dtype=np.int32)
            positions = self._core.run(tokens, {}, True)[1]["hook_pos_embed"]
        return torch_model.module(self.run.config, self.params(), features, positions)

    def hooked_transformer_config(self) -> dict:
        """The HookedTransformerConfig fields of this transformer: with TransformerLens installed,
        HookedTransformer(HookedTransformerConfig(**model.hooked_transformer_config()))
        .load_state_dict(model.to_torch().state_dict(), strict=False) gives the same logits."""
        from . import torch_model
        if self.type != "transformer":
            raise ValueError(f"model.type = {self.type!r} is not a transformer")
        return torch_model.hooked_transformer_config(self.run.config, self.params(),
                                                     self._core.length())
