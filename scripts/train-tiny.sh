#!/usr/bin/env bash
# Reproduces the tiny default model end to end (issue 7; docs/tiny-model.md): corpus of traced
# generated programs, SentencePiece tokenizer, training (resumable), GGUF export, Q8_0, and the
# held-out evaluation with `cwm verify`.
#   scripts/train-tiny.sh [WORKDIR]   (default build/tiny; rerun to resume an interrupted run)
# Environment: TINY_MINUTES (training time budget of this run, default 120), TINY_STEPS (the
# schedule's total steps, default 4400), TINY_SEEDS (training seeds, default 1-24), TINY_PER_SEED (1000),
# TINY_STEERED_SHARE (share of examples also given as steered variants, default 0.5),
# TINY_PRECISION (auto, bf16 or fp32: the training's matrix products; default auto),
# TINY_RENAME_SHARE (share of generated programs given fresh names and words, default 0.8),
# TINY_EXTENDED (1: the generator's extended statements and scan family; default 1) and
# TINY_BANK_SHARE (share of programs taken from the bank of hand-written ones, default 0.3), all
# three for the training corpus and the held-out programs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${1:-$root/build/tiny}
mkdir -p "$work"
variety=(--rename-share "${TINY_RENAME_SHARE:-0.8}" --bank-share "${TINY_BANK_SHARE:-0.3}")
[ "${TINY_EXTENDED:-1}" = 1 ] && variety+=(--extended)
py=/usr/bin/python3
export PYTHONPATH="$root/bindings/python" CWM_LIBRARY="$root/build/libcwm.so.0"
[ -e "$CWM_LIBRARY" ] || bash "$root/scripts/build.sh" "$root/build"

corpus=$work/corpus.jsonl
if [ ! -s "$corpus" ]; then
  echo "== corpus: traced programs of seeds ${TINY_SEEDS:-1-24}"
  "$py" "$root/scripts/make_corpus.py" --seeds "${TINY_SEEDS:-1-24}" --per-seed "${TINY_PER_SEED:-1000}" \
    --out "$corpus" --jobs "$(nproc)" "${variety[@]}"
fi

if [ ! -s "$work/tiny.model" ]; then
  echo "== tokenizer: SentencePiece BPE with CWM's trace tokens"
  "$py" - "$corpus" "$work/spm-input.txt" <<'PY'
import json, sys
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as out:
    for line in src:
        item = json.loads(line)
        out.write(item["prompt"] + item["trace"] + "\n")
PY
  # Code needs its whitespace, newlines and digits as written: no normalization, no dummy
  # prefix, one piece per digit; bytes for anything unseen. BOS / EOS are CWM's own tokens.
  spm_train --input="$work/spm-input.txt" --model_prefix="$work/tiny" --vocab_size=1024 --model_type=bpe \
    --character_coverage=1.0 --byte_fallback=true --split_digits=true --add_dummy_prefix=false \
    --remove_extra_whitespaces=false --normalization_rule_name=identity --allow_whitespace_only_pieces=true \
    --bos_piece='<|begin_of_text|>' --eos_piece='<|end_of_text|>' --pad_id=-1 \
    --user_defined_symbols='<|trace_context_start|>,<|frame_sep|>,<|action_sep|>,<|call_sep|>,<|line_sep|>,<|return_sep|>,<|exception_sep|>,<|arg_sep|>' \
    --max_sentence_length=65536 --input_sentence_size=2000000 --shuffle_input_sentence=true --random_seed=1 --minloglevel=1
fi

echo "== training (resumes from $work/run/checkpoint.pt when present)"
"$py" "$root/scripts/train_tiny.py" --corpus "$corpus" --tokenizer "$work/tiny.model" --out-dir "$work/run" \
  --minutes "${TINY_MINUTES:-120}" --steps "${TINY_STEPS:-4400}" \
  --steered-share "${TINY_STEERED_SHARE:-0.5}" --precision "${TINY_PRECISION:-auto}" --export "$work/cwm-tiny-f32.gguf"
"$root/build/cwm" quantize "$work/cwm-tiny-f32.gguf" "$work/cwm-tiny-q8_0.gguf" --type q8_0

echo "== held-out evaluation"
rm -rf "$work/heldout"
"$py" "$root/scripts/make_corpus.py" --dir "$work/heldout" --seeds 100000 --per-seed 200 "${variety[@]}"
"$root/build/cwm" verify "$work/heldout" -m "$work/cwm-tiny-q8_0.gguf" --json "$work/heldout.json" || true
