#!/usr/bin/env bash
# Build the Mbed TLS DTLS 1.2 PSK peer (peers/mbedtls/peer.c) against Debian's Mbed TLS
# 2.28 (libmbedtls-dev: libraries only, Debian ships no example programs).
#
# Usage: peers/mbedtls/build.sh BUILD_DIR
#   installs BUILD_DIR/bin/mbedtls-peer.
# Idempotent: installs libmbedtls-dev when missing (as root, unless SKIP_APT=1) and
# recompiles only when peer.c is newer than the binary.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${1:?usage: build.sh BUILD_DIR}"
BIN="$BUILD/bin"

say() { printf '==> mbedtls: %s\n' "$*"; }

missing=()
for p in libmbedtls-dev gcc; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "${SKIP_APT:-0}" = "1" ] || [ "$(id -u)" -ne 0 ]; then
        echo "mbedtls/build.sh: missing Debian packages: ${missing[*]}" >&2
        exit 1
    fi
    say "apt: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

mkdir -p "$BIN"
if [ ! -x "$BIN/mbedtls-peer" ] || [ "$HERE/peer.c" -nt "$BIN/mbedtls-peer" ]; then
    say "compiling peer.c"
    gcc -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L \
        -o "$BIN/mbedtls-peer.tmp" "$HERE/peer.c" -lmbedtls -lmbedx509 -lmbedcrypto
    mv "$BIN/mbedtls-peer.tmp" "$BIN/mbedtls-peer"
fi
say "installed $BIN/mbedtls-peer"
