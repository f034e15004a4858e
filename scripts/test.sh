#!/usr/bin/env bash
# Builds libcwm twice (optimised, and with AddressSanitizer + UndefinedBehaviorSanitizer),
# fetches the external oracles the tests compare against, and runs every test.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)

export CWM_TEST_DATA=${CWM_TEST_DATA:-$HOME/.cache/cwm-test-data}
bash "$root/scripts/fetch-test-data.sh" >/dev/null
bash "$root/tests/tokenizer/make_fixtures.sh" >/dev/null
eval "$(bash "$root/scripts/peer-setup.sh" | grep '^PEER_DIR=')"
export PEER_DIR

bash "$root/scripts/build.sh" "$root/build"
bash "$root/scripts/build.sh" "$root/build-asan" -DCWM_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== tests (optimised build)"
ctest --test-dir "$root/build" --output-on-failure -j"$jobs"
echo "== tests under ASan + UBSan"
ctest --test-dir "$root/build-asan" --output-on-failure -L sanitize
