#!/usr/bin/python3
"""Write a random-weight Llama-3-shape GGUF with llama.cpp's own Python library (gguf-py).

This deliberately does not use our GGUF writer (scripts/gguf_io.py): the file is produced the
way llama.cpp's convert_hf_to_gguf.py produces a Llama-3 conversion, so that comparing `cwm`
with llama.cpp on it also checks that we read llama.cpp's files as llama.cpp does.
`import gguf` must find gguf-py (scripts/peer-setup.sh extracts it to $PEER_DIR/gguf-py: put
that directory on PYTHONPATH, or pass --gguf-py).

Metadata (as convert_hf_to_gguf.py's LlamaModel writes it): llama.block_count, context_length,
embedding_length, feed_forward_length, attention.head_count, attention.head_count_kv,
rope.freq_base, attention.layer_norm_rms_epsilon, general.file_type, vocab_size,
rope.dimension_count. With --rope-scaling llama3 nothing is added to the metadata: like the
converter for Llama 3.1+, the scaling is baked into a `rope_freqs.weight` tensor of head_dim/2
f32 frequency divisors (factor, low/high frequency factors, original context).

Vocabulary (TextModel._set_vocab_gpt2 + get_vocab_base): tokenizer.ggml.model "gpt2", pre
"llama-bpe", tokens in id order ("[PAD<i>]" with type UNUSED for holes), token_type NORMAL (1)
for the BPE vocabulary, CONTROL (3) for added tokens that are special or look special
("<|...|>"), USER_DEFINED (4) for other added tokens; merges, bos/eos ids, add_*_token flags
and the chat template come from gguf.SpecialVocab on the tokenizer.json's directory, as in the
converter (Meta's original Llama-3 tokenizer.json has no TemplateProcessing, so that writes no
add_bos_token key and llama.cpp's default for llama-bpe, add BOS, applies; --add-bos true|false
writes the key explicitly, as converting the current Hugging Face files does).

Weights (seeded): token_embd ~ N(0, 1); q, k, v, o, gate, up, down ~ N(0, 1/fan_in), so
activations and attention scores stay O(1); norm weights 1 + N(0, 0.1^2), always f32 (as the
converter keeps 1-D tensors f32). output.weight ~ N(0, 1/n_embd) * --scale, so the next-token
logits have a standard deviation of about --scale: only the final projection is sharpened, the
rest of the network keeps O(1) activations. The default 8 gives peaked next-token distributions
over the 128256-token vocabulary (mean max-probability 0.59 over 128 positions at n_embd 64).
Matrices are f32 or f16 (--dtype; round to nearest even, as torch's .to(float16) in the
converter); --f16-values stores f16-rounded values in an f32 file, to separate f16 arithmetic
from f16 weights. --dtype q8_0 / q4_0 quantizes every 2-D matrix (token_embd, attn_q/k/v/output,
ffn_gate/up/down, output) from the f32 draw with gguf-py's own gguf.quants.quantize (bit-exact
with ggml's reference quantize_row_q8_0 / q4_0; blocks of 32 along a row, so every row length
must be a multiple of 32) and hands the uint8 blocks to add_tensor with raw_dtype, as
convert_hf_to_gguf.py --outtype q8_0 does; norms and rope_freqs stay f32, general.file_type is
MOSTLY_Q8_0 / MOSTLY_Q4_0. numpy arrays are given to gguf-py outermost dimension first
([rows, cols] = [ne1, ne0]).

usage: make_llama_gguf.py --tokenizer-json tokenizer.json --out model.gguf [shape options]
"""

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="GGUF file to write")
    p.add_argument("--tokenizer-json", required=True, help="Hugging Face tokenizer.json (Llama-3's)")
    p.add_argument("--gguf-py", help="directory holding gguf-py's `gguf` package (else PYTHONPATH)")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--embd", type=int, default=64)
    p.add_argument("--ff", type=int, default=192)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, help="default: --heads (no GQA)")
    p.add_argument("--ctx", type=int, default=8192, help="llama.context_length (n_ctx_train)")
    p.add_argument("--rope-theta", type=float, default=500000.0)
    p.add_argument("--rms-eps", type=float, default=1e-5)
    p.add_argument("--rope-scaling", choices=["none", "llama3"], default="none")
    p.add_argument("--rope-factor", type=float, default=8.0)
    p.add_argument("--rope-low-freq-factor", type=float, default=1.0)
    p.add_argument("--rope-high-freq-factor", type=float, default=4.0)
    p.add_argument("--rope-orig-ctx", type=int, default=8192, help="original_max_position_embeddings")
    p.add_argument("--dtype", choices=["f32", "f16", "q8_0", "q4_0"], default="f32", help="type of the matrices")
    p.add_argument("--f16-values", action="store_true",
                   help="with --dtype f32: store the f16-rounded weights (diagnostics: the same values as "
                        "--dtype f16 without f16 arithmetic)")
    p.add_argument("--scale", type=float, default=8.0, help="output.weight multiplier (logits std)")
    p.add_argument("--tied", action="store_true", help="write no output.weight (the output reuses token_embd)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--add-bos", choices=["auto", "true", "false"], default="auto",
                   help="auto: whatever gguf.SpecialVocab finds (the converter's behaviour)")
    p.add_argument("--eot", type=int, help="also write tokenizer.ggml.eot_token_id")
    a = p.parse_args(argv)
    if a.kv_heads is None:
        a.kv_heads = a.heads
    if a.embd % a.heads or a.heads % a.kv_heads or (a.embd // a.heads) % 2:
        p.error("need embd % heads == 0, heads % kv_heads == 0 and an even head dimension")
    if a.dtype in ("q8_0", "q4_0") and (a.embd % 32 or a.ff % 32):
        p.error("--dtype q8_0/q4_0 quantizes rows in blocks of 32: need embd % 32 == 0 and ff % 32 == 0")
    if a.f16_values and a.dtype != "f32":
        p.error("--f16-values goes with --dtype f32")
    return a


def import_gguf(path):
    if path:
        sys.path.insert(0, str(path))
    try:
        import gguf  # noqa: PLC0415
    except ImportError as e:
        raise SystemExit(f"make_llama_gguf: cannot import gguf-py ({e}); run scripts/peer-setup.sh and put "
                         "$PEER_DIR/gguf-py on PYTHONPATH or pass --gguf-py") from e
    return gguf


def does_token_look_special(text):
    """convert_hf_to_gguf.py's TextModel.does_token_look_special."""
    return (text in ("<pad>", "<mask>", "<2mass>", "[@BOS@]")
            or (text.startswith("<|") and text.endswith("|>"))
            or (text.startswith("<\uff5c") and text.endswith("\uff5c>"))
            or (text.startswith("<unused") and text.endswith(">")))


def vocab_from_tokenizer_json(gguf, path):
    """tokens and token types as TextModel.get_vocab_base builds them from a byte-level BPE
    tokenizer.json (without transformers: the vocabulary and added tokens are read directly;
    Llama-3's added tokens are all special and not normalized, so the converter's
    decode(encode()) round trip leaves them unchanged)."""
    tok = json.loads(Path(path).read_text(encoding="utf-8"))
    if tok["model"]["type"] != "BPE":
        raise SystemExit(f"{path}: not a BPE tokenizer")
    reverse = {i: t for t, i in tok["model"]["vocab"].items()}
    added = {a["id"]: a for a in tok.get("added_tokens", [])}
    for i, a in added.items():
        reverse[i] = a["content"]
    n_vocab = max(reverse) + 1
    tokens, types = [], []
    for i in range(n_vocab):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            text = added[i]["content"]
            if added[i].get("special") or does_token_look_special(text):
                types.append(gguf.TokenType.CONTROL)
            else:
                text = text.replace("\u2581", " ")
                types.append(gguf.TokenType.USER_DEFINED)
            tokens.append(text)
        else:
            tokens.append(reverse[i])
            types.append(gguf.TokenType.NORMAL)
    return tokens, types


def llama3_rope_factors(a):
    """LlamaModel.generate_extra_tensors: the rope_freqs divisors for rope_type llama3."""
    dim = a.embd // a.heads
    freqs = 1.0 / (a.rope_theta ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
    low_wavelen = a.rope_orig_ctx / a.rope_low_freq_factor
    high_wavelen = a.rope_orig_ctx / a.rope_high_freq_factor
    factors = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            factors.append(1.0)
        elif wavelen > low_wavelen:
            factors.append(a.rope_factor)
        else:
            smooth = (a.rope_orig_ctx / wavelen - a.rope_low_freq_factor) / (a.rope_high_freq_factor - a.rope_low_freq_factor)
            factors.append(1.0 / ((1 - smooth) / a.rope_factor + smooth))
    return np.array(factors, dtype=np.float32)


def main(argv=None):
    a = parse_args(argv)
    gguf = import_gguf(a.gguf_py)
    rng = np.random.default_rng(a.seed)
    matrix_dtype = np.float16 if a.dtype == "f16" else np.float32
    qtype = {"q8_0": gguf.GGMLQuantizationType.Q8_0, "q4_0": gguf.GGMLQuantizationType.Q4_0}.get(a.dtype)
    head_dim = a.embd // a.heads

    tokens, types = vocab_from_tokenizer_json(gguf, a.tokenizer_json)
    n_vocab = len(tokens)

    w = gguf.GGUFWriter(a.out, "llama")
    w.add_block_count(a.layers)
    w.add_context_length(a.ctx)
    w.add_embedding_length(a.embd)
    w.add_feed_forward_length(a.ff)
    w.add_head_count(a.heads)
    w.add_head_count_kv(a.kv_heads)
    w.add_rope_freq_base(a.rope_theta)
    w.add_layer_norm_rms_eps(a.rms_eps)
    w.add_file_type({"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                     "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0, "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0}[a.dtype])
    w.add_vocab_size(n_vocab)
    w.add_rope_dimension_count(head_dim)

    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe")
    w.add_token_list(tokens)
    w.add_token_types(types)
    special = gguf.SpecialVocab(Path(a.tokenizer_json).parent, load_merges=True, n_vocab=n_vocab)
    if a.add_bos != "auto":
        special.add_special_token["bos"] = a.add_bos == "true"
    special.add_to_gguf(w, quiet=True)
    if a.eot is not None:
        w.add_eot_token_id(a.eot)

    def matrix(rows, cols, std):
        m = rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(std)
        if a.f16_values:
            m = m.astype(np.float16)
        return m.astype(matrix_dtype)

    def add_matrix(name, rows, cols, std):
        m = matrix(rows, cols, std)
        if qtype is None:
            w.add_tensor(name, m)
        else:  # uint8 blocks [rows, cols / 32 * block bytes]: the writer derives the element shape
            w.add_tensor(name, gguf.quants.quantize(m, qtype), raw_dtype=qtype)

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n, dtype=np.float32)).astype(np.float32)

    # Tensor order as the converter emits it: rope_freqs (extra tensors first), embeddings,
    # the blocks, then the output norm and matrix.
    if a.rope_scaling == "llama3":
        w.add_tensor("rope_freqs.weight", llama3_rope_factors(a))
    add_matrix("token_embd.weight", n_vocab, a.embd, 1.0)
    q_dim, kv_dim = a.heads * head_dim, a.kv_heads * head_dim
    for i in range(a.layers):
        b = f"blk.{i}."
        w.add_tensor(b + "attn_norm.weight", norm(a.embd))
        add_matrix(b + "attn_q.weight", q_dim, a.embd, a.embd ** -0.5)
        add_matrix(b + "attn_k.weight", kv_dim, a.embd, a.embd ** -0.5)
        add_matrix(b + "attn_v.weight", kv_dim, a.embd, a.embd ** -0.5)
        add_matrix(b + "attn_output.weight", a.embd, q_dim, q_dim ** -0.5)
        w.add_tensor(b + "ffn_norm.weight", norm(a.embd))
        add_matrix(b + "ffn_gate.weight", a.ff, a.embd, a.embd ** -0.5)
        add_matrix(b + "ffn_up.weight", a.ff, a.embd, a.embd ** -0.5)
        add_matrix(b + "ffn_down.weight", a.embd, a.ff, a.ff ** -0.5)
    w.add_tensor("output_norm.weight", norm(a.embd))
    if not a.tied:
        add_matrix("output.weight", n_vocab, a.embd, a.scale * a.embd ** -0.5)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
