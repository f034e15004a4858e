#!/usr/bin/python3
"""Fixture generators for the tokenizer tests (run by make_fixtures.sh with /usr/bin/python3).

  tiktoken TOKENIZER_JSON OUT     tokenizer.json -> tiktoken "base64 rank" lines (ranks = ids)
  utf8-cases OUT                  byte strings with Python's verdict and 'replace' decoding
  spm-corpus TEXTS_JSON OUT       training text for the tiny SentencePiece model
  spm-texts TEXTS_JSON OUT        one test line per text line (spm_encode works line by line)

Only the standard library is used, so the outputs are independent of the C++ code under test.
"""
import base64
import json
import random
import sys
import textwrap
import json.encoder


def gpt2_bytes_to_unicode():
    """GPT-2's byte <-> printable-character table, as in openai/gpt-2 encoder.py."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def tiktoken(tokenizer_json, out):
    vocab = json.load(open(tokenizer_json, encoding="utf-8"))["model"]["vocab"]
    decoder = {c: b for b, c in gpt2_bytes_to_unicode().items()}
    with open(out, "w", encoding="ascii") as f:
        for text, rank in sorted(vocab.items(), key=lambda kv: kv[1]):
            raw = bytes(decoder[c] for c in text)
            f.write(f"{base64.b64encode(raw).decode('ascii')} {rank}\n")


def utf8_cases(out):
    canonical = ["", "41", "c380", "e282ac", "f09f9880", "c080", "c1bf", "eda080", "edbfbf", "f4908080",
                 "f5808080", "ff", "80", "bf", "e282", "f09f98", "f0808080", "e0808f", "c2", "efbfbd",
                 "61f18080e180c262806380bf64"]
    alphabet = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1,
                0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
    rng = random.Random(20250925)
    cases = [bytes.fromhex(h) for h in canonical]
    cases += [bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(2000)]
    result = []
    for raw in cases:
        try:
            raw.decode("utf-8")
            valid = True
        except UnicodeDecodeError:
            valid = False
        replaced = raw.decode("utf-8", "replace").encode("utf-8")
        result.append({"bytes": raw.hex(), "valid": valid, "replaced": replaced.hex()})
    json.dump(result, open(out, "w"), indent=0)


def spm_corpus(texts_json, out):
    texts = json.load(open(texts_json, encoding="utf-8"))["plain"]
    sources = [open(m.__file__, encoding="utf-8").read() for m in (textwrap, json.encoder)]
    with open(out, "w", encoding="utf-8") as f:
        for block in texts + sources:
            for line in block.splitlines():
                if line.strip():
                    f.write(line + "\n")


def spm_texts(texts_json, out):
    texts = json.load(open(texts_json, encoding="utf-8"))
    lines = [line for block in texts["plain"] + texts["special"] for line in block.splitlines() if line.strip()]
    # Trace tokens are user-defined pieces; characters absent from the corpus need byte fallback.
    lines += ["<|frame_sep|><|call_sep|>{\"x\": \"1\"}<|action_sep|>def f(x):<|frame_sep|>",
              "<|line_sep|>{\"y\": \"[1, 2]\"}<|arg_sep|>42<|return_sep|>",
              "Ж ☃ ♞ ⌘ ꙮ and <|trace_context_start|> then <|exception_sep|>"]
    with open(out, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")


def main():
    commands = {"tiktoken": tiktoken, "utf8-cases": utf8_cases, "spm-corpus": spm_corpus, "spm-texts": spm_texts}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
