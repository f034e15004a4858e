#!/usr/bin/env bash
# Regenerates the ABI baseline capi/abi/libcwm.abi from a freshly built libcwm.so, for an
# intended ABI change (README.md "Changing the ABI"). Usage: scripts/update-abi-baseline.sh [BUILD_DIR]
# (default build/; configured as scripts/build.sh does if it is not yet). Prints what changed
# against the previous baseline; commit the new file with the change that caused it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
baseline=$root/capi/abi/libcwm.abi
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target cwm -j"$(nproc)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bash "$root/tests/abi/dump_abi.sh" "$build/libcwm.so" "$root" "$tmp/libcwm.abi"
if [ -f "$baseline" ]; then
    status=0
    abidiff --no-unreferenced-symbols "$baseline" "$tmp/libcwm.abi" || status=$?
    if [ "$status" -eq 0 ]; then
        echo "update-abi-baseline: no ABI change"
    elif ((status & 8)); then
        echo "update-abi-baseline: INCOMPATIBLE change: bump CWM_ABI_VERSION and the SONAME (project VERSION major)"
    else
        echo "update-abi-baseline: ABI change (above). Additions are compatible; a changed type or layout is"
        echo "  not, though libabigail does not say so: then bump CWM_ABI_VERSION and the SONAME"
    fi
fi
mkdir -p "$(dirname "$baseline")"
cp "$tmp/libcwm.abi" "$baseline"
echo "update-abi-baseline: wrote ${baseline#"$root"/} ($(grep -c '<elf-symbol ' "$baseline") exported functions)"
