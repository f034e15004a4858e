#!/usr/bin/env bash
# cwm.h is strict C99 (and clean C++20); cwm/cwm.hpp is clean pedantic C++20.
# Usage: header_pedantic.sh INCLUDE_DIR [CC [CXX]]
set -euo pipefail
inc=$1 cc=${2:-gcc} cxx=${3:-g++}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '#include <cwm.h>\nint main(void) { return cwm_abi_version() == CWM_ABI_VERSION ? 0 : 1; }\n' > "$tmp/c.c"
cp "$tmp/c.c" "$tmp/cxx.cpp"
printf '#include <cwm/cwm.hpp>\nint main() { return 0; }\n' > "$tmp/hpp.cpp"
run() { echo "+ $*"; "$@"; }
run "$cc" -std=c99 -pedantic -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -I"$inc" -fsyntax-only "$tmp/c.c"
run "$cxx" -std=c++20 -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/cxx.cpp"
run "$cxx" -std=c++20 -pedantic -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/cxx.cpp"
# -fkeep-inline-functions: every inline function of cwm.hpp is compiled, used or not.
run "$cxx" -std=c++20 -pedantic -Wall -Wextra -Werror -fkeep-inline-functions -I"$inc" -c -o "$tmp/hpp.o" "$tmp/hpp.cpp"
echo "headers: ok"
