#!/usr/bin/python3
"""Write a random-weight GGUF model (`cwm` or `llama` architecture) of any shape.

Keys and tensor names follow docs/gguf-format.md. Optional keys are written only when their
option is given, so files also exercise the defaults (e.g. no --pattern: CWM's layer rule).

Weights: token embedding ~ N(0, 1); projection matrices (q, k, v, o, gate, up, down) ~
N(0, 1 / fan_in), so activations and attention scores stay O(1); the output matrix is
multiplied by --scale, so next-token logits have a standard deviation of about --scale
(4 gives peaked distributions) without making the rest of the network ill-conditioned. Norm
weights are f32, 1 + N(0, 0.1^2); matrices use --dtype. Tensors are generated and written one
at a time (a 1.5B model needs about one f32 copy of its largest tensor in memory).

Tokenizer: with --tokenizer-json, a Hugging Face byte-level BPE tokenizer.json is embedded as
llama.cpp's converter writes it; without, a synthetic byte-level BPE vocabulary of --vocab
tokens: the 256 byte tokens (in Llama-3's order), merges learned from a small built-in text,
then special tokens (for vocabularies of 4096+ tokens, CWM's block of 256 at CWM's offsets,
so a 128256-token vocabulary has BOS 128000, EOT 128009 etc. as CWM does).
"""

import argparse
import json
import math
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_io import TensorSpec, TensorType, ValueType, array, scalar, write_gguf  # noqa: E402

DTYPES = {"f32": TensorType.F32, "f16": TensorType.F16, "bf16": TensorType.BF16}

# CWM's named special tokens, by offset from the first special id.
CWM_SPECIALS = {
    0: "<|begin_of_text|>", 1: "<|end_of_text|>", 4: "<|pad|>",
    6: "<|start_header_id|>", 7: "<|end_header_id|>", 8: "<|eom_id|>", 9: "<|eot_id|>",
    100: "<|frame_sep|>", 101: "<|action_sep|>", 102: "<|return_sep|>", 103: "<|call_sep|>",
    104: "<|line_sep|>", 105: "<|exception_sep|>", 106: "<|arg_sep|>",
    107: "<|trace_context_start|>",
    120: "<|reasoning_thinking_start|>", 121: "<|reasoning_thinking_end|>",
}
FULL_SPECIAL_BLOCK = 256        # CWM's block of special ids, reserved in full by
FULL_SPECIAL_BLOCK_FROM = 4096  # vocabularies of at least this many tokens

TOKEN_NORMAL, TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_UNUSED = 1, 3, 4, 5

CORPUS = """\
def fibonacci(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a

class Stack:
    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)

    def pop(self):
        if not self.items:
            raise IndexError("pop from an empty stack")
        return self.items.pop()

The model predicts how the local variables of a Python program change while it runs,
line by line, and it can read and write code, answer questions and call tools. Each frame
of a trace records the line that is about to execute and the values of the variables in
the current scope. For example, after the line `total = total + value` the variable total
holds the sum of the values seen so far, and the loop continues with the next element.
"""


# ---------------------------------------------------------------------------------------------
# Tokenizer


_PRINTABLE = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
_UNPRINTABLE = [b for b in range(256) if b not in _PRINTABLE]


def byte_to_char() -> dict[int, str]:
    """GPT-2's byte-level map: printable bytes stand for themselves, the others for chr(256+k)."""
    chars = {b: chr(b) for b in _PRINTABLE}
    chars.update({b: chr(256 + k) for k, b in enumerate(_UNPRINTABLE)})
    return chars


def byte_tokens() -> list[str]:
    """The 256 byte tokens in Llama-3's rank order: printable bytes first, then the others
    (so byte 32, the space, is token 220 and byte 10 is token 198)."""
    chars = byte_to_char()
    return [chars[b] for b in _PRINTABLE + _UNPRINTABLE]


def learn_merges(corpus: str, count: int) -> list[tuple[str, str]]:
    """Byte-level BPE training on `corpus` (words split roughly like Llama-3's pre-tokenizer):
    repeatedly merge the most frequent adjacent pair, until `count` merges or no pair repeats."""
    chars = byte_to_char()
    words: dict[tuple[str, ...], int] = {}
    for word in re.findall(r" ?[A-Za-z]+| ?[0-9]{1,3}| ?[^\sA-Za-z0-9]+|\s+", corpus):
        key = tuple(chars[b] for b in word.encode("utf-8"))
        words[key] = words.get(key, 0) + 1
    merges = []
    while len(merges) < count:
        pairs: dict[tuple[str, str], int] = {}
        for word, n in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] = pairs.get(pair, 0) + n
        if not pairs or max(pairs.values()) < 2:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))
        merges.append(best)
        words = {_merge_word(w, best): n for w, n in words.items()}
    return merges


def _merge_word(word: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(word):
        if word[i:i + 2] == pair:
            out.append(pair[0] + pair[1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def filler_merges(tokens: list[str], count: int) -> list[tuple[str, str]]:
    """`count` deterministic merges (existing token + a letter) with new, distinct results,
    for when the corpus is exhausted."""
    known, merges = set(tokens), []
    pool, i = list(tokens[256:] or tokens), 0
    while len(merges) < count:
        for letter in "etaoinsrhldcumfpgwybvk":
            piece = pool[i] + letter
            if piece not in known and len(merges) < count:
                known.add(piece)
                pool.append(piece)
                merges.append((pool[i], letter))
        i += 1
    return merges


def special_names(n_vocab: int) -> list[str]:
    """Special tokens for the end of the vocabulary: CWM's full block of 256 for realistic
    vocabulary sizes, else just the named ones in order."""
    if n_vocab < FULL_SPECIAL_BLOCK_FROM:
        return [CWM_SPECIALS[k] for k in sorted(CWM_SPECIALS)]
    names, reserved = [], 0
    for k in range(FULL_SPECIAL_BLOCK):
        if k in CWM_SPECIALS:
            names.append(CWM_SPECIALS[k])
        else:
            names.append(f"<|reserved_special_token_{reserved}|>")
            reserved += 1
    return names


def synthetic_vocab(n_vocab: int) -> tuple[list[str], list[int], list[str]]:
    """(tokens, token types, merges) of a valid byte-level BPE vocabulary of n_vocab tokens:
    every merge's parts and result are tokens."""
    specials = special_names(n_vocab)
    n_ordinary = n_vocab - len(specials)
    if n_ordinary < 256:
        raise SystemExit(f"--vocab must be at least {256 + len(specials)}")
    tokens = byte_tokens()
    merges = learn_merges(CORPUS, n_ordinary - 256)
    for a, b in merges:
        if a + b not in tokens:
            tokens.append(a + b)
    extra = filler_merges(tokens, n_ordinary - len(tokens))
    tokens += [a + b for a, b in extra]
    types = [TOKEN_NORMAL] * len(tokens) + [TOKEN_CONTROL] * len(specials)
    return tokens + specials, types, [f"{a} {b}" for a, b in merges + extra]


def vocab_from_tokenizer_json(path: str, n_vocab: int | None) -> tuple[list[str], list[int], list[str]]:
    """(tokens, token types, merges) as llama.cpp's converter derives them from tokenizer.json:
    special added tokens are control (3), other added tokens user-defined (4), ids without a
    token (padding up to n_vocab) become "[PAD<id>]" of type unused (5)."""
    with open(path, encoding="utf-8") as f:
        tok = json.load(f)
    by_id = {i: (t, TOKEN_NORMAL) for t, i in tok["model"]["vocab"].items()}
    for added in tok.get("added_tokens", []):
        by_id[added["id"]] = (added["content"],
                              TOKEN_CONTROL if added["special"] else TOKEN_USER_DEFINED)
    size = max(by_id) + 1 if n_vocab is None else n_vocab
    if size <= max(by_id):
        raise SystemExit(f"--vocab {size} is smaller than the tokenizer's {max(by_id) + 1} ids")
    entries = [by_id.get(i, (f"[PAD{i}]", TOKEN_UNUSED)) for i in range(size)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
    return [t for t, _ in entries], [k for _, k in entries], merges


def tokenizer_kv(tokens: list[str], types: list[int], merges: list[str]) -> dict:
    kv = {
        "tokenizer.ggml.model": scalar(ValueType.STRING, "gpt2"),
        "tokenizer.ggml.pre": scalar(ValueType.STRING, "llama-bpe"),
        "tokenizer.ggml.tokens": array(ValueType.STRING, tokens),
        "tokenizer.ggml.token_type": array(ValueType.INT32, types),
        "tokenizer.ggml.merges": array(ValueType.STRING, merges),
    }
    ids = {t: i for i, t in enumerate(tokens)}
    for key, name in [("bos", "<|begin_of_text|>"), ("eos", "<|end_of_text|>"),
                      ("eot", "<|eot_id|>"), ("eom", "<|eom_id|>"), ("padding", "<|pad|>")]:
        if name in ids:
            kv[f"tokenizer.ggml.{key}_token_id"] = scalar(ValueType.UINT32, ids[name])
    kv["tokenizer.ggml.add_bos_token"] = scalar(ValueType.BOOL, True)
    return kv


# ---------------------------------------------------------------------------------------------
# Hyperparameters


def llama3_rope_divisors(args) -> np.ndarray:
    """Per-frequency divisors for `rope_freqs.weight`, computed as llama.cpp's converter does."""
    dim = args.rope_dim or args.head_dim
    low_wavelen = args.rope_orig_ctx / args.rope_low
    high_wavelen = args.rope_orig_ctx / args.rope_high
    divisors = []
    for i in range(0, dim, 2):
        wavelen = 2 * math.pi * args.rope_theta ** (i / dim)
        if wavelen < high_wavelen:
            divisors.append(1.0)
        elif wavelen > low_wavelen:
            divisors.append(args.rope_factor)
        else:
            smooth = (args.rope_orig_ctx / wavelen - args.rope_low) / (args.rope_high - args.rope_low)
            divisors.append(1 / ((1 - smooth) / args.rope_factor + smooth))
    return np.array(divisors, dtype=np.float32)


def model_kv(args) -> dict:
    a, u32, f32 = args.arch, ValueType.UINT32, ValueType.FLOAT32
    kv = {
        "general.architecture": scalar(ValueType.STRING, a),
        "general.name": scalar(ValueType.STRING, f"random-{a}-seed{args.seed}"),
        f"{a}.block_count": scalar(u32, args.layers),
        f"{a}.context_length": scalar(u32, args.ctx),
        f"{a}.embedding_length": scalar(u32, args.embd),
        f"{a}.feed_forward_length": scalar(u32, args.ff),
        f"{a}.attention.head_count": scalar(u32, args.heads),
        f"{a}.attention.head_count_kv": scalar(u32, args.kv_heads),
        f"{a}.attention.layer_norm_rms_epsilon": scalar(f32, args.eps),
        f"{a}.rope.freq_base": scalar(f32, args.rope_theta),
        f"{a}.vocab_size": scalar(u32, args.vocab),
    }
    if args.head_dim_given:
        kv[f"{a}.attention.key_length"] = scalar(u32, args.head_dim)
        kv[f"{a}.attention.value_length"] = scalar(u32, args.head_dim)  # llama.cpp reads it too
    if args.rope_dim:
        kv[f"{a}.rope.dimension_count"] = scalar(u32, args.rope_dim)
    if args.rope_scaling == "llama3" and not args.rope_freqs_tensor:
        kv.update({
            f"{a}.rope.scaling.type": scalar(ValueType.STRING, "llama3"),
            f"{a}.rope.scaling.factor": scalar(f32, args.rope_factor),
            f"{a}.rope.scaling.low_freq_factor": scalar(f32, args.rope_low),
            f"{a}.rope.scaling.high_freq_factor": scalar(f32, args.rope_high),
            f"{a}.rope.scaling.original_context_length": scalar(u32, args.rope_orig_ctx),
        })
    if args.window is not None:
        kv["cwm.attention.sliding_window"] = scalar(u32, args.window)
    if args.pattern is not None:
        kv["cwm.attention.sliding_window_pattern"] = array(ValueType.BOOL, [c == "L" for c in args.pattern])
    if args.pair_layout is not None:
        kv["cwm.rope.pair_layout"] = scalar(ValueType.STRING, args.pair_layout)
    return kv


# ---------------------------------------------------------------------------------------------
# Tensors


def _normal(seed: int, index: int, shape: tuple[int, ...], std: float) -> np.ndarray:
    x = np.random.default_rng([seed, index]).standard_normal(shape, dtype=np.float32)
    x *= np.float32(std)
    return x


def tensor_specs(args) -> list[TensorSpec]:
    mat, q_dim, kv_dim = DTYPES[args.dtype], args.heads * args.head_dim, args.kv_heads * args.head_dim
    shapes = [("token_embd.weight", (args.vocab, args.embd), mat)]
    for i in range(args.layers):
        shapes += [
            (f"blk.{i}.attn_norm.weight", (args.embd,), TensorType.F32),
            (f"blk.{i}.attn_q.weight", (q_dim, args.embd), mat),
            (f"blk.{i}.attn_k.weight", (kv_dim, args.embd), mat),
            (f"blk.{i}.attn_v.weight", (kv_dim, args.embd), mat),
            (f"blk.{i}.attn_output.weight", (args.embd, q_dim), mat),
            (f"blk.{i}.ffn_norm.weight", (args.embd,), TensorType.F32),
            (f"blk.{i}.ffn_gate.weight", (args.ff, args.embd), mat),
            (f"blk.{i}.ffn_up.weight", (args.ff, args.embd), mat),
            (f"blk.{i}.ffn_down.weight", (args.embd, args.ff), mat),
        ]
    shapes += [("output_norm.weight", (args.embd,), TensorType.F32),
               ("output.weight", (args.vocab, args.embd), mat)]
    specs = [TensorSpec(name, shape, ttype, _maker(args, index, name, shape))
             for index, (name, shape, ttype) in enumerate(shapes)]
    if args.rope_freqs_tensor:
        divisors = llama3_rope_divisors(args)
        specs.insert(0, TensorSpec("rope_freqs.weight", divisors.shape, TensorType.F32, lambda: divisors))
    return specs


def _maker(args, index: int, name: str, shape: tuple[int, ...]):
    if len(shape) == 1:
        return lambda: 1 + _normal(args.seed, index, shape, 0.1)
    if name == "token_embd.weight":
        std = 1.0
    else:
        std = (args.scale if name == "output.weight" else 1.0) / math.sqrt(shape[1])
    return lambda: _normal(args.seed, index, shape, std)


# ---------------------------------------------------------------------------------------------
# CLI


def parse_args(argv: list[str] | None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="GGUF file to write")
    p.add_argument("--arch", choices=["cwm", "llama"], default="cwm")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--embd", type=int, default=64)
    p.add_argument("--ff", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, help="default: --heads")
    p.add_argument("--head-dim", type=int, help="default: embd / heads (key omitted)")
    p.add_argument("--vocab", type=int, help="default 512, or the tokenizer's size")
    p.add_argument("--ctx", type=int, default=256)
    p.add_argument("--eps", type=float, default=1e-5)
    p.add_argument("--window", type=int, help="cwm: sliding window (default: key omitted)")
    p.add_argument("--pattern", help="cwm: one L (local) or G (global) per layer "
                                     "(default: key omitted, CWM's rule applies)")
    p.add_argument("--pair-layout", choices=["interleaved", "rotate_half"], help="cwm only")
    p.add_argument("--rope-theta", type=float, default=500000.0)
    p.add_argument("--rope-dim", type=int, help="rotated dims per head (default: head dim)")
    p.add_argument("--rope-scaling", choices=["none", "llama3"], default="none")
    p.add_argument("--rope-factor", type=float, default=16.0)
    p.add_argument("--rope-low", type=float, default=1.0)
    p.add_argument("--rope-high", type=float, default=4.0)
    p.add_argument("--rope-orig-ctx", type=int, default=8192)
    p.add_argument("--rope-freqs-tensor", action="store_true",
                   help="write the llama3 scaling as rope_freqs.weight instead of the keys")
    p.add_argument("--dtype", choices=list(DTYPES), default="f32", help="matrix type")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=float, default=1.0,
                   help="output weight multiplier: next-token logits std (peakedness)")
    p.add_argument("--tokenizer-json", help="embed this Hugging Face tokenizer.json")
    args = p.parse_args(argv)
    _check_args(p, args)
    return args


def _check_args(p: argparse.ArgumentParser, args) -> None:
    args.kv_heads = args.kv_heads or args.heads
    args.head_dim_given = args.head_dim is not None
    args.head_dim = args.head_dim or args.embd // args.heads
    if args.arch == "llama" and any(x is not None for x in (args.window, args.pattern, args.pair_layout)):
        p.error("--window, --pattern and --pair-layout are cwm-only")
    if args.window is not None and args.window < 1:
        p.error("--window must be at least 1")
    if args.pattern is not None and (len(args.pattern) != args.layers or set(args.pattern) - set("LG")):
        p.error(f"--pattern needs {args.layers} letters L or G")
    if args.heads % args.kv_heads or (not args.head_dim_given and args.embd % args.heads):
        p.error("--heads must be a multiple of --kv-heads (and divide --embd without --head-dim)")
    if args.rope_dim is not None and (args.rope_dim % 2 or not 0 < args.rope_dim <= args.head_dim):
        p.error("--rope-dim must be even and at most the head dim")
    if args.rope_freqs_tensor and args.rope_scaling != "llama3":
        p.error("--rope-freqs-tensor needs --rope-scaling llama3")
    if args.tokenizer_json is None and args.vocab is None:
        args.vocab = 512


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.tokenizer_json:
        tokens, types, merges = vocab_from_tokenizer_json(args.tokenizer_json, args.vocab)
        args.vocab = len(tokens)
    else:
        tokens, types, merges = synthetic_vocab(args.vocab)
    kv = {**model_kv(args), **tokenizer_kv(tokens, types, merges)}
    specs = tensor_specs(args)
    total = sum(s.nbytes() for s in specs)
    print(f"writing {args.out}: {len(specs)} tensors, {total / 2**20:.1f} MiB", file=sys.stderr)

    def progress(i: int, spec: TensorSpec) -> None:
        print(f"  [{i + 1}/{len(specs)}] {spec.name} {spec.shape}", file=sys.stderr, flush=True)

    write_gguf(args.out, kv, specs, on_tensor=progress if total > 64 * 2**20 else None)


if __name__ == "__main__":
    main()
