#!/usr/bin/env bash
# libcwm.so exports exactly the functions cwm.h declares (CWM_API), nothing else, under the
# SONAME libcwm.so.N; libcwm.a gives default visibility to those functions only, and none of
# its internal C++ symbols can be confused with the inline code of cwm/cwm.hpp in a program
# that links libcwm.a statically (both live in namespace cwm).
# Usage: exported_symbols.sh LIBCWM_SO LIBCWM_A INCLUDE_DIR EXPECTED_SONAME [CXX]
set -euo pipefail
so=$1 archive=$2 inc=$3 soname=$4 cxx=${5:-c++}
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# 1. The dynamic symbol table: only cwm_* (and the version script has no version nodes).
nm -D --defined-only "$so" | awk '{print $3}' | sort -u > "$tmp/exported"
[ -s "$tmp/exported" ] || fail "no exported symbols in $so"
if grep -v '^cwm_' "$tmp/exported" > "$tmp/stray"; then
    echo "exported symbols that are not cwm_*:"; c++filt < "$tmp/stray" | head -50
    fail "$(wc -l < "$tmp/stray") stray exported symbols in $so"
fi
echo "$(wc -l < "$tmp/exported") exported symbols, all cwm_*"

# 2. ... and exactly the CWM_API declarations of cwm.h.
grep -o '^CWM_API [^(]*(' "$inc/cwm.h" | sed 's/($//; s/.*[ *]//' | sort -u > "$tmp/declared"
if ! diff "$tmp/declared" "$tmp/exported" > "$tmp/diff"; then
    sed -n 's/^< /declared in cwm.h, not exported: /p; s/^> /exported, not declared in cwm.h: /p' "$tmp/diff"
    fail "the exported symbols differ from cwm.h's CWM_API declarations"
fi
echo "they are exactly the $(wc -l < "$tmp/declared") CWM_API functions of cwm.h"

# 3. SONAME.
got=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$got" = "$soname" ] || fail "SONAME is '$got', expected '$soname'"
echo "SONAME $got"

# 4. libcwm.a: defined global symbols with default visibility are the C ABI, std:: template
#    instantiations (weak, identical in every program) and nothing of our own otherwise.
readelf -sW "$archive" 2>/dev/null |
    awk '$5 ~ /GLOBAL|WEAK|UNIQUE/ && $6 == "DEFAULT" && $7 != "UND" {print $8}' | sort -u > "$tmp/a_default"
grep -v '^cwm_' "$tmp/a_default" | c++filt | grep -E '(^|[^_[:alnum:]:])cwm::' > "$tmp/a_stray" || true
[ ! -s "$tmp/a_stray" ] || { head -50 "$tmp/a_stray"; fail "libcwm.a gives default visibility to internal symbols"; }
grep -q '^cwm_model_load$' "$tmp/a_default" || fail "libcwm.a lacks cwm_model_load"
echo "libcwm.a: default visibility only for cwm_* (and std:: instantiations)"

# 5. No symbol of the inline C++ API (every inline function emitted: -fkeep-inline-functions)
#    is also defined in libcwm.a: the linker would silently keep one of the two.
printf '#include <cwm/cwm.hpp>\n' > "$tmp/hpp.cpp"
"$cxx" -std=c++20 -O0 -fkeep-inline-functions -I"$inc" -c "$tmp/hpp.cpp" -o "$tmp/hpp.o"
nm --defined-only "$tmp/hpp.o" | awk 'NF==3 && $2 ~ /[TWVRDBu]/ {print $3}' | sort -u > "$tmp/hpp_syms"
nm --defined-only "$archive" 2>/dev/null | awk 'NF==3 && $2 ~ /[TWVRDBu]/ {print $3}' | sort -u > "$tmp/a_syms"
comm -12 "$tmp/hpp_syms" "$tmp/a_syms" | c++filt | grep -E '(^|[^_[:alnum:]:])cwm::' > "$tmp/clash" || true
[ ! -s "$tmp/clash" ] || { cat "$tmp/clash"; fail "cwm/cwm.hpp and libcwm.a define the same C++ symbols"; }
n_cwm=$(c++filt < "$tmp/hpp_syms" | grep -cE '(^|[^_[:alnum:]:])cwm::' || true)
[ "$n_cwm" -gt 20 ] || fail "only $n_cwm cwm:: symbols from cwm.hpp: the clash check checks nothing"
echo "no clash between the $n_cwm cwm:: symbols of cwm/cwm.hpp and libcwm.a"
echo "symbols: ok"
