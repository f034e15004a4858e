#!/usr/bin/env bash
# Writes the ABI of libcwm.so as libabigail XML: only the exported cwm_* functions and the
# public types of include/ (the library carries DWARF for capi/ only, see CMakeLists.txt).
# Locations and machine paths are left out so that the dump depends on the ABI alone, not on
# line numbers or on where the tree was built. Used by the abi test and
# scripts/update-abi-baseline.sh, so both always dump the same way.
# Usage: dump_abi.sh LIBCWM_SO SOURCE_DIR OUT_FILE
set -euo pipefail
so=$1 src=$(realpath "$2") out=$3
abidw --headers-dir "$src/include" --drop-private-types --exported-interfaces-only \
      --no-corpus-path --no-comp-dir-path --no-show-locs --no-elf-needed \
      --out-file "$out.tmp" "$(realpath "$so")"
# The translation units are named by absolute source paths: make them relative.
sed "s|path='$src/|path='|" "$out.tmp" > "$out"
rm -f "$out.tmp"
if grep -q "='/" "$out"; then
    echo "dump_abi.sh: an absolute path is left in $out:" >&2
    grep -n "='/" "$out" | head -5 >&2
    exit 1
fi
