#!/usr/bin/env bash
# Installs every Debian package libcwm needs to build, test and run its tooling.
# Idempotent and non-interactive: packages already present are not reinstalled, and
# `apt-get update` runs only when something is missing.
set -euo pipefail

BUILD_PACKAGES=(g++ cmake make pkg-config libeigen3-dev libopenblas-dev libdnnl-dev libsentencepiece-dev
                doctest-dev libpcre2-dev nlohmann-json3-dev libcli11-dev
                libsimde-dev   # SIMDe: the unit tests run the AVX-512 kernels on CPUs without AVX-512
                abigail-tools) # abidw / abidiff: the ABI test against capi/abi/libcwm.abi
TOOL_PACKAGES=(python3 python3-numpy python3-torch python3-pytest sentencepiece)
# node and npm (for the test oracles from the npm registry) may come with the machine image.
command -v node >/dev/null && command -v npm >/dev/null || TOOL_PACKAGES+=(nodejs npm)

missing=()
for pkg in "${BUILD_PACKAGES[@]}" "${TOOL_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
    echo "setup: all packages present" >&2
fi
