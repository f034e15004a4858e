#!/usr/bin/env bash
# Builds libcwm three times (optimised, with AddressSanitizer + UndefinedBehaviorSanitizer, and
# the library with ThreadSanitizer for its thread-safety test),
# fetches the external oracles the tests compare against, and runs every test.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)

export CWM_TEST_DATA=${CWM_TEST_DATA:-$HOME/.cache/cwm-test-data}
bash "$root/scripts/fetch-test-data.sh" >/dev/null
bash "$root/tests/tokenizer/make_fixtures.sh" >/dev/null
peer=$(bash "$root/scripts/peer-setup.sh")
PEER_DIR=$(sed -n 's/^PEER_DIR=//p' <<< "$peer")
CWM_GGUF_PY=$(sed -n 's/^PEER_GGUF_PY=//p' <<< "$peer")  # llama.cpp's own gguf-py
export PEER_DIR CWM_GGUF_PY

bash "$root/scripts/build.sh" "$root/build"
bash "$root/scripts/build.sh" "$root/build-asan" -DCWM_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
# ThreadSanitizer: only the library and its thread-safety test (and the models it runs on).
cmake -S "$root" -B "$root/build-tsan" -DCWM_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build-tsan" -j"$jobs" --target cwm_tsan_tests

echo "== tests (optimised build)"
ctest --test-dir "$root/build" --output-on-failure -j"$jobs"
echo "== tests under ASan + UBSan"
ctest --test-dir "$root/build-asan" --output-on-failure -L sanitize
echo "== one model from several threads, under ThreadSanitizer"
ctest --test-dir "$root/build-tsan" --output-on-failure -L tsan
