#!/usr/bin/env bash
# The ABI guard: the ABI of the built libcwm.so must equal the committed baseline
# capi/abi/libcwm.abi. Any difference fails: abidiff's bit 4 (any ABI change -- an added
# function or field, but also a changed field type or layout, which libabigail does not flag
# as incompatible), bit 8 (a change it knows to be incompatible, e.g. a removed function). An intended change
# is accepted by regenerating the baseline (scripts/update-abi-baseline.sh; README.md
# "Changing the ABI").
# Usage: abi_check.sh LIBCWM_SO SOURCE_DIR WORK_DIR
set -euo pipefail
so=$1 src=$(realpath "$2") work=$3
here=$(dirname "${BASH_SOURCE[0]}")
baseline=$src/capi/abi/libcwm.abi
command -v abidw >/dev/null && command -v abidiff >/dev/null ||
    { echo "FAIL: abidw/abidiff not found (Debian: abigail-tools; scripts/setup.sh installs it)" >&2; exit 1; }
mkdir -p "$work"
bash "$here/dump_abi.sh" "$so" "$src" "$work/libcwm.abi"
set +e
abidiff --no-unreferenced-symbols "$baseline" "$work/libcwm.abi" > "$work/abidiff.txt" 2>&1
status=$?
set -e
if [ "$status" -ne 0 ]; then
    cat "$work/abidiff.txt"
    what="abidiff failed"
    ((status & 4)) && what="the ABI changed"
    ((status & 8)) && what="the ABI changed INCOMPATIBLY"
    ((status & 3)) && what="abidiff failed"
    echo "FAIL: $what (abidiff exit status $status) against capi/abi/libcwm.abi." >&2
    echo "If intended: see README.md \"Changing the ABI\" (scripts/update-abi-baseline.sh)." >&2
    exit 1
fi
# abidiff ignores what it does not consider ABI; the dump itself should be unchanged too.
if ! cmp -s "$baseline" "$work/libcwm.abi"; then
    echo "note: the dump differs textually from the baseline, with no ABI difference:"
    diff "$baseline" "$work/libcwm.abi" | head -20
fi
echo "abi: libcwm.so matches capi/abi/libcwm.abi ($(grep -c '<elf-symbol ' "$baseline") symbols)"
