#!/usr/bin/env bash
# The `consumer` test: installs the build tree into a temporary prefix, checks the installed
# layout, then builds consumer.c (C ABI only) and consumer.cpp (C++ API) against the installed
# tree four ways each -- find_package(cwm) with cwm::cwm and cwm::cwm_static, pkg-config shared
# and pkg-config --static -- runs every binary on the test model and compares their output.
# Usage: run.sh BUILD_DIR SOURCE_DIR WORK_DIR MODEL VERSION SOVERSION [CMAKE [CC [CXX]]]
set -euo pipefail
build=$(realpath "$1") src=$(realpath "$2") work=$3 model=$4 version=$5 soversion=$6
cmake=${7:-cmake} cc=${8:-cc} cxx=${9:-c++}
here=$src/tests/consumer
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

rm -rf "$work"
mkdir -p "$work"
work=$(realpath "$work")
prefix=$work/prefix
libdir=$prefix/lib

step "install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" > "$work/install.log"
for f in include/cwm.h include/cwm/cwm.hpp lib/libcwm.a bin/cwm lib/pkgconfig/cwm.pc \
         lib/cmake/cwm/cwmConfig.cmake lib/cmake/cwm/cwmConfigVersion.cmake lib/cmake/cwm/cwmTargets.cmake; do
    [ -f "$prefix/$f" ] || fail "not installed: $f"
done
[ "$(readlink "$libdir/libcwm.so")" = "libcwm.so.$soversion" ] || fail "libcwm.so does not point to libcwm.so.$soversion"
[ "$(readlink "$libdir/libcwm.so.$soversion")" = "libcwm.so.$version" ] || fail "libcwm.so.$soversion does not point to libcwm.so.$version"
[ -f "$libdir/libcwm.so.$version" ] && [ ! -L "$libdir/libcwm.so.$version" ] || fail "libcwm.so.$version is not a file"
readelf -d "$libdir/libcwm.so.$version" | grep -q "(SONAME).*\[libcwm.so.$soversion\]" || fail "SONAME is not libcwm.so.$soversion"
# libcwm.a is complete: the C ABI, the runtime and the kernels, no undefined internal symbol.
# (Tools write to files before grep reads them: grep -q closing a pipe early fails it.)
nm --defined-only "$libdir/libcwm.a" 2>/dev/null | awk 'NF==3 {print $3}' | sort -u > "$work/a_defined"
nm -u "$libdir/libcwm.a" 2>/dev/null | awk '{print $2}' | sort -u > "$work/a_undefined"
grep -qx cwm_model_load "$work/a_defined" || fail "libcwm.a lacks the C ABI"
undefined_internal=$(comm -23 "$work/a_undefined" "$work/a_defined" | c++filt | grep -E '^cwm|cwm::' || true)
[ -z "$undefined_internal" ] || fail "libcwm.a needs symbols it does not contain: $undefined_internal"
echo "layout ok: $(cd "$prefix" && find . -type f -o -type l | sort | tr '\n' ' ')"

# A shared consumer must load libcwm.so.N from the prefix (never from the build tree).
check_shared() {
    local bin=$1 line path
    ldd "$bin" > "$bin.ldd"
    line=$(grep "libcwm.so.$soversion " "$bin.ldd") || fail "$bin does not link libcwm.so.$soversion"
    path=$(awk '{print $3}' <<< "$line")
    [ "$(realpath "$path")" = "$libdir/libcwm.so.$version" ] || fail "$bin loads $path, not the installed library"
    readelf -d "$bin" > "$bin.dynamic"
    # Every RPATH / RUNPATH entry is the prefix (or relative to the binary), never the build tree.
    for dir in $(sed -n 's/.*R\(UN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p' "$bin.dynamic" | tr ':' ' '); do
        case "$dir" in "$prefix"/* | '$ORIGIN'*) ;; *) fail "$bin has $dir in its RPATH" ;; esac
    done
    echo "  $(basename "$bin"): libcwm.so.$soversion => $path ($(sed -n 's/.*(\(R[UN]*PATH\)).*\[\(.*\)\]/\1 \2/p' "$bin.dynamic"))"
}
check_static() {
    local bin=$1
    ldd "$bin" > "$bin.ldd"
    nm "$bin" > "$bin.nm"
    if grep -q libcwm "$bin.ldd"; then fail "$bin is linked to libcwm.so"; fi
    grep -q " T cwm_version$" "$bin.nm" || fail "$bin does not contain libcwm"
    echo "  $(basename "$bin"): libcwm linked in (needs $(awk '{print $1}' "$bin.ldd" | grep -E 'openblas|pcre2|sentencepiece' | tr '\n' ' '))"
}

step "the installed cwm program"
check_shared "$prefix/bin/cwm"
[ "$("$prefix/bin/cwm" --version)" = "cwm $version" ] || fail "installed cwm --version"

step "find_package(cwm) with CMAKE_PREFIX_PATH"
"$cmake" -S "$here" -B "$work/cmake" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" > "$work/cmake-configure.log"
found=$(sed -n 's/^cwm_DIR:PATH=//p' "$work/cmake/CMakeCache.txt")
[ "$(realpath "$found")" = "$libdir/cmake/cwm" ] || fail "find_package found cwm in $found"
"$cmake" --build "$work/cmake" -j2 > "$work/cmake-build.log" || { cat "$work/cmake-build.log"; fail "consumer build"; }
check_shared "$work/cmake/consumer_c_shared"
check_shared "$work/cmake/consumer_cpp_shared"
check_static "$work/cmake/consumer_c_static"
check_static "$work/cmake/consumer_cpp_static"

step "pkg-config, shared"
export PKG_CONFIG_PATH=$libdir/pkgconfig
[ "$(pkg-config --modversion cwm)" = "$version" ] || fail "pkg-config --modversion cwm"
mkdir -p "$work/pc"
# shellcheck disable=SC2046  # the flags are meant to split
"$cc" -std=c99 -pedantic -Wall -Wextra -Werror "$here/consumer.c" $(pkg-config --cflags --libs cwm) \
    -Wl,-rpath,"$libdir" -o "$work/pc/c_shared"
# shellcheck disable=SC2046
"$cxx" -std=c++20 -Wall -Wextra -Werror "$here/consumer.cpp" $(pkg-config --cflags --libs cwm) \
    -Wl,-rpath,"$libdir" -o "$work/pc/cpp_shared"
check_shared "$work/pc/c_shared"
check_shared "$work/pc/cpp_shared"

step "pkg-config --static (a copy of the prefix holding only libcwm.a: the link line alone decides)"
cp -a "$prefix" "$work/prefix-static"
rm -f "$work/prefix-static"/lib/libcwm.so*
export PKG_CONFIG_PATH=$work/prefix-static/lib/pkgconfig
echo "  pkg-config --static --libs cwm: $(pkg-config --static --libs cwm)"
# shellcheck disable=SC2046
"$cc" -std=c99 -pedantic -Wall -Wextra -Werror "$here/consumer.c" $(pkg-config --cflags cwm) \
    $(pkg-config --static --libs cwm) -o "$work/pc/c_static"
# shellcheck disable=SC2046
"$cxx" -std=c++20 -Wall -Wextra -Werror "$here/consumer.cpp" $(pkg-config --cflags cwm) \
    $(pkg-config --static --libs cwm) -o "$work/pc/cpp_static"
check_static "$work/pc/c_static"
check_static "$work/pc/cpp_static"

step "run every consumer on $model"
for bin in cmake/consumer_c_shared cmake/consumer_c_static pc/c_shared pc/c_static \
           cmake/consumer_cpp_shared cmake/consumer_cpp_static pc/cpp_shared pc/cpp_static; do
    "$work/$bin" "$model" > "$work/$bin.out" || { cat "$work/$bin.out"; fail "$bin exited with $?"; }
done
cat "$work/cmake/consumer_cpp_shared.out"
out=$work/cmake/consumer_c_shared.out
[ "$(head -1 "$out")" = "cwm $version abi 1 (header abi 1)" ] || fail "version line: $(head -1 "$out")"
grep -qx "model cwm n_vocab [0-9]* n_layer [0-9]*" "$out" || fail "model line"
grep -qx "tokens [1-9][0-9]*:\( [0-9]*\)*" "$out" || fail "tokens line"
grep -qx "round trip ok" "$out" || fail "round trip"
for bin in cmake/consumer_c_static pc/c_shared pc/c_static; do
    cmp -s "$out" "$work/$bin.out" || fail "$bin printed something else than cmake/consumer_c_shared"
done
cpp=$work/cmake/consumer_cpp_shared.out
[ "$(head -4 "$cpp")" = "$(cat "$out")" ] || fail "the C++ consumer disagrees with the C one"
grep -qx "greedy:\( [0-9]*\)*" "$cpp" || fail "greedy line"
grep -qx "error CWM_ERR_IO" "$cpp" || fail "error line"
for bin in cmake/consumer_cpp_static pc/cpp_shared pc/cpp_static; do
    cmp -s "$cpp" "$work/$bin.out" || fail "$bin printed something else than cmake/consumer_cpp_shared"
done
echo "consumer: ok"
