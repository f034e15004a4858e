#!/usr/bin/python3
"""Independent PyTorch reference implementation of CWM (and plain Llama-3) GGUF models.

The oracle the engine is compared against: written from docs/gguf-format.md and
/work/shared/docs/cwm-model.md, sharing no code with the engine. It computes in float64 by
default (weights are widened exactly from their stored f32/f16/bf16 values), so its own
rounding error (~1e-13) is negligible next to the engine's float32 arithmetic and f16 KV cache.

Graph, per token at positions 0..n-1 (pre-norm, no biases):

    x = token_embd[tokens]
    for each layer:  x += attn_output(attention(rope(q), rope(k), v))   on rms_norm(x) * attn_norm
                     x += ffn_down(silu(ffn_gate(h)) * ffn_up(h))       on h = rms_norm(x) * ffn_norm
    logits = output(rms_norm(x) * output_norm)

Attention is grouped-query (query head h uses key/value head h // (n_head / n_head_kv)), scaled
by 1/sqrt(head_dim), causal; on local layers a token at position p sees only p-window+1..p.

CLI:  cwm_reference.py MODEL.gguf --tokens 1,2,3 --out logits.npy   (float64, [n_tokens, n_vocab])
"""

import argparse
import math
import os
import sys
from dataclasses import dataclass

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_io  # noqa: E402


@dataclass
class RopeScaling:
    """Llama-3 frequency scaling parameters (`rope.scaling.*` with type `llama3`)."""

    factor: float
    low_freq_factor: float
    high_freq_factor: float
    original_context: int


@dataclass
class Config:
    arch: str
    n_layer: int
    n_ctx: int
    n_embd: int
    n_ff: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_vocab: int
    eps: float
    rope_theta: float
    rope_dim: int
    rope_scaling: RopeScaling | None
    pair_layout: str          # "interleaved" (pairs 2i, 2i+1) or "rotate_half" (i, i + d/2)
    window: int
    local_layers: list[bool]  # True = sliding-window attention


def cwm_default_pattern(n_layer: int) -> list[bool]:
    """CWM's rule: layer i is global when i % 4 == 0, and the last layer is global too."""
    return [not (i % 4 == 0 or i == n_layer - 1) for i in range(n_layer)]


def _rope_scaling(f: gguf_io.GGUFFile, arch: str) -> RopeScaling | None:
    kind = f.get(f"{arch}.rope.scaling.type")
    if kind in (None, "none"):
        return None
    if kind != "llama3":
        raise ValueError(f"unsupported rope scaling type {kind!r}")
    return RopeScaling(
        factor=f.get(f"{arch}.rope.scaling.factor"),
        low_freq_factor=f.get(f"{arch}.rope.scaling.low_freq_factor"),
        high_freq_factor=f.get(f"{arch}.rope.scaling.high_freq_factor"),
        original_context=f.get(f"{arch}.rope.scaling.original_context_length"),
    )


def _local_layers(f: gguf_io.GGUFFile, arch: str, n_layer: int) -> list[bool]:
    if arch == "llama":
        return [False] * n_layer
    pattern = f.get("cwm.attention.sliding_window_pattern")
    if pattern is None:
        return cwm_default_pattern(n_layer)
    if len(pattern) != n_layer:
        raise ValueError(f"sliding_window_pattern has {len(pattern)} entries, {n_layer} layers")
    return [bool(p) for p in pattern]


def config_from_gguf(f: gguf_io.GGUFFile) -> Config:
    """Hyperparameters from the GGUF keys, with the defaults of docs/gguf-format.md."""
    arch = f.get("general.architecture")
    if arch not in ("cwm", "llama"):
        raise ValueError(f"unsupported architecture {arch!r}")

    def key(name, default=None):
        value = f.get(f"{arch}.{name}", default)
        if value is None:
            raise ValueError(f"missing required key {arch}.{name}")
        return value

    if "token_embd.weight" not in f.tensors:
        raise ValueError("missing tensor token_embd.weight")
    n_layer, n_embd, n_head = key("block_count"), key("embedding_length"), key("attention.head_count")
    head_dim = key("attention.key_length", n_embd // n_head)
    return Config(
        arch=arch, n_layer=n_layer, n_ctx=key("context_length"), n_embd=n_embd,
        n_ff=key("feed_forward_length"), n_head=n_head,
        n_head_kv=key("attention.head_count_kv", n_head), head_dim=head_dim,
        n_vocab=f.tensors["token_embd.weight"].shape[0],
        eps=key("attention.layer_norm_rms_epsilon", 1e-5),
        rope_theta=key("rope.freq_base", 10000.0),
        rope_dim=key("rope.dimension_count", head_dim),
        rope_scaling=_rope_scaling(f, arch),
        pair_layout=f.get("cwm.rope.pair_layout", "interleaved") if arch == "cwm" else "interleaved",
        window=f.get("cwm.attention.sliding_window", 8192) if arch == "cwm" else 0,
        local_layers=_local_layers(f, arch, n_layer),
    )


def expected_shapes(cfg: Config) -> dict[str, tuple[int, ...]]:
    """Tensor shapes in numpy order (torch Linear layout: [out_features, in_features])."""
    q_dim, kv_dim = cfg.n_head * cfg.head_dim, cfg.n_head_kv * cfg.head_dim
    shapes = {
        "token_embd.weight": (cfg.n_vocab, cfg.n_embd),
        "output_norm.weight": (cfg.n_embd,),
        "output.weight": (cfg.n_vocab, cfg.n_embd),
    }
    for i in range(cfg.n_layer):
        shapes.update({
            f"blk.{i}.attn_norm.weight": (cfg.n_embd,),
            f"blk.{i}.attn_q.weight": (q_dim, cfg.n_embd),
            f"blk.{i}.attn_k.weight": (kv_dim, cfg.n_embd),
            f"blk.{i}.attn_v.weight": (kv_dim, cfg.n_embd),
            f"blk.{i}.attn_output.weight": (cfg.n_embd, q_dim),
            f"blk.{i}.ffn_norm.weight": (cfg.n_embd,),
            f"blk.{i}.ffn_gate.weight": (cfg.n_ff, cfg.n_embd),
            f"blk.{i}.ffn_up.weight": (cfg.n_ff, cfg.n_embd),
            f"blk.{i}.ffn_down.weight": (cfg.n_embd, cfg.n_ff),
        })
    return shapes


# ---------------------------------------------------------------------------------------------
# Building blocks


def llama3_scaled_frequencies(freqs: torch.Tensor, s: RopeScaling) -> torch.Tensor:
    """Llama-3 rule: keep short wavelengths, divide long ones by `factor`, blend in between."""
    wavelength = 2 * math.pi / freqs
    blend = (s.original_context / wavelength - s.low_freq_factor) / (
        s.high_freq_factor - s.low_freq_factor)
    mixed = (1 - blend) * freqs / s.factor + blend * freqs
    out = torch.where(wavelength < s.original_context / s.high_freq_factor, freqs, mixed)
    return torch.where(wavelength > s.original_context / s.low_freq_factor, freqs / s.factor, out)


def rope_frequencies(cfg: Config, rope_freqs: torch.Tensor | None) -> torch.Tensor:
    """Per-pair angular frequencies; a `rope_freqs.weight` tensor of divisors wins over keys."""
    i = torch.arange(cfg.rope_dim // 2, dtype=torch.float64)
    freqs = cfg.rope_theta ** (-2 * i / cfg.rope_dim)
    if rope_freqs is not None:
        return freqs / rope_freqs
    if cfg.rope_scaling is not None:
        return llama3_scaled_frequencies(freqs, cfg.rope_scaling)
    return freqs


def apply_rope(x: torch.Tensor, freqs: torch.Tensor, layout: str) -> torch.Tensor:
    """Rotate the first 2*len(freqs) dims of x [..., n_tokens, n_heads, head_dim] (token t at
    position t); dims past them pass through."""
    rot = 2 * len(freqs)
    angles = torch.arange(x.shape[-3], dtype=freqs.dtype)[:, None] * freqs[None, :]
    cos, sin = angles.cos()[:, None, :].to(x.dtype), angles.sin()[:, None, :].to(x.dtype)
    if layout == "interleaved":
        a, b = x[..., 0:rot:2], x[..., 1:rot:2]
        rotated = torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)
    elif layout == "rotate_half":
        a, b = x[..., :rot // 2], x[..., rot // 2:rot]
        rotated = torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
    else:
        raise ValueError(f"unknown pair layout {layout!r}")
    return torch.cat([rotated, x[..., rot:]], dim=-1)


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight


def attention_mask(n: int, window: int | None) -> torch.Tensor:
    """allowed[p, j]: causal, and within the window when one is given."""
    p, j = torch.arange(n)[:, None], torch.arange(n)[None, :]
    allowed = j <= p
    return allowed & (j > p - window) if window else allowed


# ---------------------------------------------------------------------------------------------
# Model


class Reference:
    """The model; `kv_dtype` rounds K and V through a narrower type (e.g. torch.float16) to
    emulate an engine's KV cache when estimating error bounds. The default keeps them exact."""

    def __init__(self, cfg: Config, weights: dict[str, torch.Tensor],
                 rope_freqs: torch.Tensor | None = None, kv_dtype: torch.dtype | None = None):
        self.cfg = cfg
        self.w = weights
        self.freqs = rope_frequencies(cfg, rope_freqs)
        self.kv_dtype = kv_dtype

    def logits(self, tokens: list[int]) -> np.ndarray:
        """[n_tokens, n_vocab] logits for `tokens` at positions 0..n-1."""
        with torch.no_grad():
            return self.forward(torch.tensor(tokens, dtype=torch.long)).numpy()

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """The same logits as a differentiable tensor: scripts/train_tiny.py trains the weights
        through this very graph, so the model it exports is the one this reference checks."""
        x = self.w["token_embd.weight"][tokens]
        for i in range(self.cfg.n_layer):
            x = x + self._attention(i, x)
            x = x + self._ffn(i, x)
        x = rms_norm(x, self.w["output_norm.weight"], self.cfg.eps)
        return x @ self.w["output.weight"].T

    def _attention(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """x: [..., n_tokens, n_embd]; leading dims are independent sequences (training batches)."""
        cfg, w, lead, n = self.cfg, self.w, x.shape[:-1], x.shape[-2]
        h = rms_norm(x, w[f"blk.{i}.attn_norm.weight"], cfg.eps)
        q = (h @ w[f"blk.{i}.attn_q.weight"].T).view(*lead, cfg.n_head, cfg.head_dim)
        k = (h @ w[f"blk.{i}.attn_k.weight"].T).view(*lead, cfg.n_head_kv, cfg.head_dim)
        v = (h @ w[f"blk.{i}.attn_v.weight"].T).view(*lead, cfg.n_head_kv, cfg.head_dim)
        q, k = apply_rope(q, self.freqs, cfg.pair_layout), apply_rope(k, self.freqs, cfg.pair_layout)
        k, v = self._through_cache(k), self._through_cache(v)
        group = cfg.n_head // cfg.n_head_kv
        k, v = k.repeat_interleave(group, dim=-2), v.repeat_interleave(group, dim=-2)
        scores = torch.einsum("...phd,...jhd->...hpj", q, k) / math.sqrt(cfg.head_dim)
        window = cfg.window if cfg.local_layers[i] else None
        scores = scores.masked_fill(~attention_mask(n, window), float("-inf"))
        out = torch.einsum("...hpj,...jhd->...phd", scores.softmax(dim=-1), v)
        return out.reshape(*lead, -1) @ w[f"blk.{i}.attn_output.weight"].T

    def _through_cache(self, t: torch.Tensor) -> torch.Tensor:
        return t if self.kv_dtype is None else t.to(self.kv_dtype).to(t.dtype)

    def _ffn(self, i: int, x: torch.Tensor) -> torch.Tensor:
        w = self.w
        h = rms_norm(x, w[f"blk.{i}.ffn_norm.weight"], self.cfg.eps)
        gate, up = h @ w[f"blk.{i}.ffn_gate.weight"].T, h @ w[f"blk.{i}.ffn_up.weight"].T
        return (torch.nn.functional.silu(gate) * up) @ w[f"blk.{i}.ffn_down.weight"].T


def _load_weights(f: gguf_io.GGUFFile, cfg: Config, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    weights = {}
    for name, shape in expected_shapes(cfg).items():
        if name not in f.tensors:
            raise ValueError(f"missing tensor {name}")
        if f.tensors[name].shape != shape:
            raise ValueError(f"{name}: shape {f.tensors[name].shape}, expected {shape}")
        weights[name] = torch.from_numpy(f.tensor(name)).to(dtype)
    return weights


def _load_rope_freqs(f: gguf_io.GGUFFile, cfg: Config) -> torch.Tensor | None:
    if "rope_freqs.weight" not in f.tensors:
        return None
    if f.tensors["rope_freqs.weight"].shape != (cfg.rope_dim // 2,):
        raise ValueError(f"rope_freqs.weight: shape {f.tensors['rope_freqs.weight'].shape}")
    return torch.from_numpy(f.tensor("rope_freqs.weight")).to(torch.float64)


def load_gguf(path: str, dtype: torch.dtype = torch.float64,
              kv_dtype: torch.dtype | None = None) -> Reference:
    """Build the reference model from a `cwm` or `llama` GGUF file."""
    f = gguf_io.read_gguf(path)
    cfg = config_from_gguf(f)
    vocab_key = f.get(f"{cfg.arch}.vocab_size")
    if vocab_key is not None and vocab_key != cfg.n_vocab:
        raise ValueError(f"vocab_size {vocab_key} but the embedding has {cfg.n_vocab} rows")
    if cfg.n_head % cfg.n_head_kv or cfg.rope_dim % 2 or cfg.rope_dim > cfg.head_dim:
        raise ValueError(f"inconsistent attention shape: {cfg}")
    return Reference(cfg, _load_weights(f, cfg, dtype), _load_rope_freqs(f, cfg), kv_dtype)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="GGUF file (architecture cwm or llama)")
    parser.add_argument("--tokens", required=True, help="comma-separated token ids")
    parser.add_argument("--out", required=True, help="output .npy file, [n_tokens, n_vocab]")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                        help="compute precision (float32 halves memory for large models)")
    args = parser.parse_args(argv)
    model = load_gguf(args.model, dtype=getattr(torch, args.dtype))
    tokens = [int(t) for t in args.tokens.split(",")]
    if any(not 0 <= t < model.cfg.n_vocab for t in tokens):
        parser.error(f"token ids must be in [0, {model.cfg.n_vocab})")
    np.save(args.out, model.logits(tokens))


if __name__ == "__main__":
    main()
