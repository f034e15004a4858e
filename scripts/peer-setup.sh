#!/usr/bin/env bash
# Makes the llama.cpp oracle ("peer") usable and prints where it is.
#
#   * the shared peer directory is ${CWM_SHARED_DIR:-<repo>/../shared}/peer (README.md there);
#   * its setup.sh builds $PEER_DIR/bin/llama-ppl and llama-speed against llama.cpp's prebuilt
#     CPU libraries; it is run only when llama-ppl is missing or does not start;
#   * llama.cpp's own Python GGUF library (gguf-py, same snapshot as the libraries) is extracted
#     from the git bundle into $PEER_DIR/gguf-py/gguf, once: put $PEER_DIR/gguf-py on PYTHONPATH
#     to `import gguf`.
#
# Idempotent. stdout: `PEER_DIR=...`, `PEER_GGUF_PY=...` and `PEER_COMMIT=...`; logs go to stderr.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${CWM_SHARED_DIR:-$root/../shared}
peer_src=$shared/peer
if [ ! -f "$peer_src/setup.sh" ] || [ ! -f "$peer_src/bundle-extract.mjs" ]; then
    echo "peer-setup: the llama.cpp oracle sources are missing: expected $peer_src/setup.sh and" \
         "$peer_src/bundle-extract.mjs (set CWM_SHARED_DIR to the directory holding peer/)" >&2
    exit 1
fi
peer_src=$(cd "$peer_src" && pwd)

export PEER_DIR=${PEER_DIR:-$HOME/.cache/cwm-peer}
mkdir -p "$PEER_DIR"
PEER_DIR=$(cd "$PEER_DIR" && pwd)

# 1. the harnesses: `llama-ppl` with no arguments prints its usage and exits 1; a broken rpath or
#    a missing library makes the loader fail with 127 instead.
peer_works() {
    [ -x "$PEER_DIR/bin/llama-ppl" ] || return 1
    local rc=0
    "$PEER_DIR/bin/llama-ppl" >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 1 ]
}
if ! peer_works; then
    echo "peer-setup: building the llama.cpp oracle in $PEER_DIR (bash $peer_src/setup.sh)" >&2
    bash "$peer_src/setup.sh" >&2
    peer_works || { echo "peer-setup: $PEER_DIR/bin/llama-ppl still does not run after setup.sh" >&2; exit 1; }
fi

# 2. gguf-py. bundle-extract.mjs writes the direct children of gguf-py/gguf flat into its output
#    directory, so extract into gguf-py/gguf. Written to a temporary directory, then renamed, so an
#    interrupted extraction is never mistaken for a complete one.
bundle=$PEER_DIR/node_modules/node-llama-cpp/llama/gitRelease.bundle
gguf_py=$PEER_DIR/gguf-py
if [ ! -f "$gguf_py/gguf/gguf_writer.py" ] || [ ! -f "$gguf_py/COMMIT" ]; then
    [ -f "$bundle" ] || { echo "peer-setup: no git bundle at $bundle" >&2; exit 1; }
    echo "peer-setup: extracting gguf-py into $gguf_py" >&2
    tmp=$(mktemp -d "$PEER_DIR/gguf-py.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/gguf"
    ok=0
    for try in 1 2 3; do  # the pack reader has failed once under memory pressure (see setup.sh)
        if node "$peer_src/bundle-extract.mjs" "$bundle" "$tmp/gguf" gguf-py/gguf > "$tmp/COMMIT"; then ok=1; break; fi
    done
    [ "$ok" = 1 ] && [ -f "$tmp/gguf/gguf_writer.py" ] || { echo "peer-setup: could not extract gguf-py" >&2; exit 1; }
    rm -rf "$gguf_py"
    mv "$tmp" "$gguf_py"
    trap - EXIT
fi

echo "PEER_DIR=$PEER_DIR"
echo "PEER_GGUF_PY=$gguf_py"
echo "PEER_COMMIT=$(cat "$gguf_py/COMMIT")"
