#!/usr/bin/env python3
"""Streams a generation from a GGUF model with the cwm Python package, and shows chat rendering.

    CWM_LIBRARY=build/libcwm.so.0 python3 examples/python/generate.py MODEL.gguf
    CWM_LIBRARY=build/libcwm.so.0 python3 examples/python/generate.py MODEL.gguf --chat "Write fizzbuzz in Python."

Without an installed `cwm` package it uses the one in this repository (bindings/python).
"""

import argparse
import importlib.util
import os
import sys
import time

if importlib.util.find_spec("cwm") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))

import cwm  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", help="a GGUF model file")
    p.add_argument("-p", "--prompt", default="def fibonacci(n):", help="raw text to continue")
    p.add_argument("--chat", metavar="MESSAGE", help="a user message, rendered in CWM's chat format instead")
    p.add_argument("--reasoning", action="store_true", help="CWM's reasoning mode (with --chat)")
    p.add_argument("-n", "--max-tokens", type=int, default=64)
    p.add_argument("-c", "--ctx", type=int, default=4096, help="context size in tokens")
    p.add_argument("-t", "--threads", type=int, default=0, help="0: one per physical core")
    p.add_argument("--temp", type=float, default=0.0, help="0: greedy")
    p.add_argument("--top-p", type=float, default=0.95)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    print(f"libcwm {cwm.version()} (ABI {cwm.abi_version()}) from {cwm.library_path()}", file=sys.stderr)

    # The chat format, shown whether or not it is used for the generation below.
    messages = [{"role": "user", "content": args.chat or "Print 2+2 in Python."}]
    rendered = cwm.render_chat(messages, reasoning=args.reasoning)
    print("--- chat rendering ---", file=sys.stderr)
    print(rendered, file=sys.stderr)
    print("--- generation ---", file=sys.stderr)

    def progress(fraction: float) -> None:
        print(f"\rloading {fraction:4.0%}", end="", file=sys.stderr, flush=True)

    with cwm.Model(args.model, progress=progress) as model:
        print(file=sys.stderr)
        info = model.info
        print(f"{info.arch}: {info.n_layer} layers, vocabulary {info.n_vocab}", file=sys.stderr)
        with cwm.Context(model, n_ctx=args.ctx, n_threads=args.threads) as ctx, \
                cwm.Sampler(temperature=args.temp, top_p=args.top_p, seed=args.seed) as sampler:
            prompt = rendered if args.chat else args.prompt
            if not args.chat:
                print(prompt, end="", flush=True)
            start = time.perf_counter()
            gen = ctx.generate(prompt, args.max_tokens, sampler, parse_special=bool(args.chat))
            try:
                for piece in gen:  # Ctrl-C leaves the loop and stops the generation cleanly
                    print(piece, end="", flush=True)
            except KeyboardInterrupt:
                gen.close()
            elapsed = time.perf_counter() - start
            print()
            print(f"{len(gen.tokens)} tokens in {elapsed:.2f} s; context holds {ctx.n_past}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
