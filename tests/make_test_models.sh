#!/usr/bin/env bash
# Writes the small random-weight models the API tests run on: usage make_test_models.sh OUTDIR
# (always anew: it takes a fraction of a second and a stale model would test old options)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$1
mkdir -p "$out"
# GQA 6:1, Llama-3 RoPE scaling with positions past the original context, CWM's 131072-token
# context. Weights depend only on the shape and seed, so both files below hold the same tensors.
shape=(--layers 5 --embd 96 --ff 192 --heads 6 --kv-heads 1 --vocab 600 --ctx 131072
       --rope-scaling llama3 --rope-orig-ctx 32 --rope-factor 8 --dtype f16 --scale 4 --seed 3)
# CWM architecture: local layers (CWM's rule) with a window shorter than the test sequences.
/usr/bin/python3 "$root/scripts/make_random_model.py" --out "$out/tiny-cwm.gguf" --arch cwm --window 6 \
    "${shape[@]}" >/dev/null
# The same checkpoint as a community `llama` file: no local/global layout of its own.
/usr/bin/python3 "$root/scripts/make_random_model.py" --out "$out/tiny-llama.gguf" --arch llama \
    "${shape[@]}" >/dev/null
