#!/usr/bin/python3
"""Trains the tiny default CWM on execution traces and exports it to GGUF (issue 7).

The model is CWM's architecture scaled down (scripts/cwm_reference.py's graph, trained through
Reference.forward): local and global layers (layer i global when i % 4 == 0, and the last) with
a window shorter than the training sequences, grouped-query attention, RoPE with Llama-3
frequency scaling, SwiGLU, RMSNorm, untied output. Loss is on the trace tokens only: the prompt
(the program) conditions them.

    train_tiny.py --corpus corpus.jsonl --tokenizer tiny.model --out-dir DIR [--minutes M]

Every --checkpoint-every steps, and when the time budget (--minutes) or --until-step ends it,
DIR/checkpoint.pt is written (atomically); a second run with the same DIR resumes from it, so
training can be continued later. The learning-rate schedule and the batches depend only on the
step (and --steps), so a run in several sittings computes exactly what one run does.
--export OUT.gguf writes the current weights as a `cwm` GGUF with the tokenizer inside.
"""

import argparse
import functools
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))
import cwm_reference as ref  # noqa: E402
import gguf_io  # noqa: E402
import make_random_model  # noqa: E402
import trace_steering  # noqa: E402

# The architecture (what make_random_model.py's options call them).
# 192 wide: on 2 cores it trains at ~1,300 tokens/s (256 wide: ~1,000; attention over ~330-token
# examples costs as much as the weights), so the 2-hour budget sees ~9M tokens, about one epoch.
ARCH = dict(layers=6, embd=192, ff=512, heads=6, kv_heads=2, ctx=4096, window=256, rope_theta=1e6,
            rope_scaling="llama3", rope_factor=4.0, rope_low=1.0, rope_high=4.0, rope_orig_ctx=1024)


def model_args(n_vocab: int, out: str = "unused.gguf") -> argparse.Namespace:
    """The architecture as make_random_model's validated options: one definition of the GGUF keys."""
    argv = ["--out", out, "--arch", "cwm", "--vocab", str(n_vocab)]
    for key, value in ARCH.items():
        argv += ["--" + key.replace("_", "-"), str(value)]
    return make_random_model.parse_args(argv)


def reference_config(args: argparse.Namespace) -> ref.Config:
    return ref.Config(
        arch="cwm", n_layer=args.layers, n_ctx=args.ctx, n_embd=args.embd, n_ff=args.ff, n_head=args.heads,
        n_head_kv=args.kv_heads, head_dim=args.head_dim, n_vocab=args.vocab, eps=args.eps,
        rope_theta=args.rope_theta, rope_dim=args.head_dim,
        rope_scaling=ref.RopeScaling(args.rope_factor, args.rope_low, args.rope_high, args.rope_orig_ctx),
        pair_layout="interleaved", window=args.window, local_layers=ref.cwm_default_pattern(args.layers))


def init_weights(cfg: ref.Config, seed: int) -> torch.nn.ParameterDict:
    """Small normal init (std 0.02, residual outputs scaled down by depth), norms at 1."""
    gen = torch.Generator().manual_seed(seed)
    params = {}
    for name, shape in ref.expected_shapes(cfg).items():
        if len(shape) == 1:
            params[name] = torch.ones(shape)
            continue
        std = 0.02 / math.sqrt(2 * cfg.n_layer) if name.endswith(("attn_output.weight", "ffn_down.weight")) else 0.02
        params[name] = torch.randn(shape, generator=gen) * std
    return torch.nn.ParameterDict({k.replace(".", "/"): torch.nn.Parameter(v) for k, v in params.items()})


def weights_of(params: torch.nn.ParameterDict) -> dict:
    return {k.replace("/", "."): v for k, v in params.items()}


# ---- data ----------------------------------------------------------------------------------


def training_traces(item: dict, index: int, steered_share: float) -> list:
    """The example's trace, and for a `steered_share` of the examples (chosen by index, so a
    resumed run sees the same ones) the steered variants `next` and output prediction make
    the model continue (scripts/trace_steering.py)."""
    traces = [item["trace"]]
    if steered_share > 0 and random.Random(f"steer:{index}").random() < steered_share:
        for variant in (trace_steering.skip_callees(item["trace"]), trace_steering.result_only(item["trace"])):
            if variant is not None:
                traces.append(variant)
    return traces


def load_examples(corpus: str, tokenizer_path: str, max_tokens: int, steered_share: float = 0.0) -> list:
    """(tokens, n_prompt) per training text, tokenized by libcwm itself (so training sees exactly
    the ids the engine will); examples longer than max_tokens are left out."""
    import cwm
    tok = cwm.Tokenizer(tokenizer_path)
    examples, dropped = [], 0
    with open(corpus, encoding="utf-8") as f:
        for index, line in enumerate(f):
            item = json.loads(line)
            prompt = tok.encode(item["prompt"], add_bos=False, parse_special=True)
            for text in training_traces(item, index, steered_share):
                trace = tok.encode(text, add_bos=False, parse_special=True)
                if len(prompt) + len(trace) > max_tokens:
                    dropped += 1
                    continue
                examples.append((np.array(prompt + trace, dtype=np.int64), len(prompt)))
    print(f"train_tiny: {len(examples)} examples ({dropped} longer than {max_tokens} tokens left out), "
          f"{sum(len(t) for t, _ in examples)} tokens", file=sys.stderr)
    return examples


@functools.lru_cache(maxsize=2)
def epoch_order(n_examples: int, seed: int, epoch: int) -> tuple:
    """A fixed shuffle per epoch, a function of (seed, epoch) only (kept: a step of 16 examples
    would otherwise shuffle the whole corpus 16 times, 0.25 s of its ~4 s)."""
    order = list(range(n_examples))
    random.Random(f"{seed}:{epoch}").shuffle(order)
    return tuple(order)


def batch_indices(n_examples: int, step: int, batch: int, seed: int) -> list:
    """The examples of `step`, so a resumed run sees the same order."""
    return [epoch_order(n_examples, seed, k // n_examples)[k % n_examples]
            for k in range(step * batch, (step + 1) * batch)]


# ---- training ------------------------------------------------------------------------------


def learning_rate(step: int, total: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def micro_batches(examples: list, indices: list, size: int) -> list:
    """The step's examples sorted by length and cut into groups of `size`, each padded to its
    longest: padding after a sequence never reaches it (attention is causal) and is not a target."""
    chosen = sorted((examples[i] for i in indices), key=lambda e: len(e[0]))
    batches = []
    for k in range(0, len(chosen), size):
        group = chosen[k:k + size]
        n = max(len(tokens) for tokens, _ in group)
        inputs = torch.zeros((len(group), n - 1), dtype=torch.long)
        targets = torch.full((len(group), n - 1), -100, dtype=torch.long)
        for row, (tokens, n_prompt) in enumerate(group):
            t = torch.from_numpy(tokens)
            inputs[row, :len(t) - 1] = t[:-1]
            targets[row, n_prompt - 1:len(t) - 1] = t[n_prompt:]  # the program is given, not predicted
        batches.append((inputs, targets))
    return batches


def batch_loss(model: ref.Reference, inputs: torch.Tensor, targets: torch.Tensor) -> tuple:
    logits = model.forward(inputs)
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100,
                                             reduction="sum")
    return loss, int((targets != -100).sum())


def save_checkpoint(path: str, params, opt, step: int, args_dict: dict) -> None:
    tmp = path + ".tmp"
    torch.save({"params": params.state_dict(), "opt": opt.state_dict(), "step": step, "args": args_dict}, tmp)
    os.replace(tmp, path)


def train(a, examples, params, opt, cfg, start_step: int) -> int:
    model = ref.Reference(cfg, weights_of(params))
    t0, tokens_seen, step = time.time(), 0, start_step
    deadline = t0 + a.minutes * 60 if a.minutes else float("inf")
    ckpt = os.path.join(a.out_dir, "checkpoint.pt")
    last = min(a.steps, a.until_step) if a.until_step else a.steps
    while step < last and time.time() < deadline:
        lr = learning_rate(step, a.steps, a.lr, a.warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        total_loss, total_targets = 0.0, 0
        for inputs, targets in micro_batches(examples, batch_indices(len(examples), step, a.batch, a.seed), a.micro):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "bf16"):
                loss, n = batch_loss(model, inputs, targets)
            loss.backward()
            total_loss, total_targets = total_loss + loss.item(), total_targets + n
            tokens_seen += int((inputs != 0).sum())
        for p in params.values():
            p.grad /= max(1, total_targets)
        torch.nn.utils.clip_grad_norm_(params.values(), 1.0)
        opt.step()
        step += 1
        if step % a.log_every == 0 or step == a.steps:
            rate = tokens_seen / (time.time() - t0)
            eta = (last - step) * (time.time() - t0) / (step - start_step)
            print(f"step {step}/{a.steps} loss {total_loss / max(1, total_targets):.4f} lr {lr:.2e} "
                  f"{rate:.0f} tokens/s ETA {eta / 60:.1f} min", file=sys.stderr, flush=True)
        if step % a.checkpoint_every == 0:
            save_checkpoint(ckpt, params, opt, step, vars(a))
    save_checkpoint(ckpt, params, opt, step, vars(a))
    return step


# ---- export --------------------------------------------------------------------------------


def export_gguf(path: str, params, n_vocab: int, tokenizer_path: str) -> None:
    """A `cwm` GGUF (f32) with the SentencePiece model embedded, as libcwm loads it."""
    args = model_args(n_vocab, path)
    kv = make_random_model.model_kv(args)
    kv["general.name"] = gguf_io.scalar(gguf_io.ValueType.STRING, "cwm-tiny")
    kv["cwm.attention.sliding_window_pattern"] = gguf_io.array(
        gguf_io.ValueType.BOOL, ref.cwm_default_pattern(args.layers))
    with open(tokenizer_path, "rb") as f:
        serialized = f.read()
    kv["tokenizer.ggml.model"] = gguf_io.scalar(gguf_io.ValueType.STRING, "cwm-spm")
    kv["tokenizer.sentencepiece.model"] = gguf_io.array(gguf_io.ValueType.UINT8, list(serialized))
    kv["tokenizer.ggml.add_bos_token"] = gguf_io.scalar(gguf_io.ValueType.BOOL, True)
    weights = weights_of(params)
    specs = [gguf_io.TensorSpec(name, shape, gguf_io.TensorType.F32,
                                (lambda w=weights[name]: w.detach().numpy().astype(np.float32)))
             for name, shape in ref.expected_shapes(reference_config(args)).items()]
    gguf_io.write_gguf(path, kv, specs)


def native_bf16() -> bool:
    """On such CPUs bf16 products train 3.3x faster here (docs/tiny-model.md); elsewhere
    they are emulated, slower than fp32."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", required=True, help="JSON lines with prompt and trace (scripts/make_corpus.py)")
    p.add_argument("--tokenizer", required=True, help="SentencePiece .model (scripts/train-tiny.sh trains it)")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--steps", type=int, default=4400, help="total optimizer steps (sets the schedule)")
    p.add_argument("--batch", type=int, default=16, help="examples per step")
    p.add_argument("--micro", type=int, default=4, help="examples per forward pass (padded together)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--max-tokens", type=int, default=1024, help="longest example (prompt + trace)")
    p.add_argument("--steered-share", type=float, default=0.5,
                   help="share of the examples also given as steered variants (callees skipped, result only)")
    p.add_argument("--minutes", type=float, default=0, help="stop (with a checkpoint) after this long; 0: no limit")
    p.add_argument("--until-step", type=int, default=0,
                   help="stop (with a checkpoint) at this step; the schedule still spans --steps")
    p.add_argument("--checkpoint-every", type=int, default=200)
    p.add_argument("--log-every", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto",
                   help="matrix products in bf16 (weights, optimizer and loss stay fp32); auto: bf16 "
                        "when the CPU multiplies bf16 natively (AVX512-BF16 or AMX)")
    p.add_argument("--export", help="write the weights to this GGUF after training")
    p.add_argument("--export-only", action="store_true", help="export the checkpoint in --out-dir without training")
    return p.parse_args(argv)


def main(argv=None) -> None:
    a = parse_args(argv)
    if a.precision == "auto":
        a.precision = "bf16" if native_bf16() else "fp32"
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out_dir, exist_ok=True)
    examples = [] if a.export_only else load_examples(a.corpus, a.tokenizer, a.max_tokens, a.steered_share)
    import cwm
    n_vocab = cwm.Tokenizer(a.tokenizer).n_vocab
    cfg = reference_config(model_args(n_vocab))
    params = init_weights(cfg, a.seed)
    opt = torch.optim.AdamW(params.values(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.1)
    step = 0
    ckpt = os.path.join(a.out_dir, "checkpoint.pt")
    if os.path.exists(ckpt):
        state = torch.load(ckpt)
        params.load_state_dict(state["params"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
        print(f"train_tiny: resuming at step {step}", file=sys.stderr)
    n_params = sum(p.numel() for p in params.values())
    print(f"train_tiny: {n_params / 1e6:.2f} M parameters, vocabulary {n_vocab}, {a.precision} products",
          file=sys.stderr)
    if not a.export_only:
        step = train(a, examples, params, opt, cfg, step)
    print(f"train_tiny: at step {step}/{a.steps}", file=sys.stderr)
    if a.export:
        export_gguf(a.export, params, n_vocab, a.tokenizer)
        print(f"train_tiny: wrote {a.export}", file=sys.stderr)


if __name__ == "__main__":
    main()
