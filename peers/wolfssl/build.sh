#!/usr/bin/env bash
# Build the wolfSSL DTLS 1.2 PSK peer (peers/wolfssl/peer.c) against a static wolfSSL.
#
# wolfSSL has no usable Debian package (libwolfssl-dev has no plain-PSK suites) and only
# package registries are reachable, so cargo is our download tool: the crates.io crate
# `wolfssl-sys` vendors the whole wolfSSL C tree (autotools build included) in its
# `wolfssl-src/` folder. We copy that tree, build it with autotools (pristine: none of the
# crate's own patches), and link our program against the static library. wolfSSL is GPL:
# it runs as a separate process and is never linked into dicetest.
#
# Usage: peers/wolfssl/build.sh BUILD_DIR
#   installs BUILD_DIR/bin/wolfssl-peer.
# Idempotent: the library is rebuilt only when the pinned version changes, the program
# only when peer.c is newer than the binary.
set -euo pipefail

# Pinned: wolfssl-sys 5.3.0 vendors wolfSSL 5.9.4.
WOLFSSL_SYS_VERSION="5.3.0"
# Flags from ../shared/research/peers.md, trimmed of what the peer does not need (examples,
# tests). WOLFSSL_STATIC_PSK: the plain-PSK suites (no (EC)DHE), RFC 7925's
# TLS_PSK_WITH_AES_128_CCM_8 among them.
CONFIGURE_FLAGS=(
    --disable-shared --enable-static
    --enable-dtls --enable-dtls13 --enable-dtls-frag-ch --enable-dtlscid
    --enable-psk --enable-aesccm --enable-tls13 --enable-curve25519
    --enable-supportedcurves --enable-secure-renegotiation
    --disable-examples --disable-crypttests --disable-benchmark
)
CONFIGURE_CFLAGS="-O2 -fPIC -DWOLFSSL_STATIC_PSK"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${1:?usage: build.sh BUILD_DIR}"
mkdir -p "$BUILD"
BUILD="$(cd "$BUILD" && pwd)"
BIN="$BUILD/bin"
SRC="$BUILD/wolfssl-src"
PREFIX="$BUILD/wolfssl"
STAMP="$BUILD/wolfssl.stamp"
WANT_STAMP="wolfssl-sys $WOLFSSL_SYS_VERSION ${CONFIGURE_FLAGS[*]} $CONFIGURE_CFLAGS"

say() { printf '==> wolfssl: %s\n' "$*"; }

# Debian packages the autotools build needs.
APT=(autoconf automake libtool pkg-config make gcc)
missing=()
for p in "${APT[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "${SKIP_APT:-0}" = "1" ] || [ "$(id -u)" -ne 0 ]; then
        echo "wolfssl/build.sh: missing Debian packages: ${missing[*]}" >&2
        exit 1
    fi
    say "apt: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 1. The static library, unless already built with these flags.
if [ ! -f "$PREFIX/lib/libwolfssl.a" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT_STAMP" ]; then
    command -v cargo >/dev/null || { echo "wolfssl/build.sh: cargo not found" >&2; exit 1; }
    # A throwaway package whose only job is to make cargo download the crate (the empty
    # [workspace] keeps it out of the dicetest workspace above it). Nothing is compiled.
    FETCH="$BUILD/wolfssl-fetch"
    mkdir -p "$FETCH/src"
    cat >"$FETCH/Cargo.toml" <<EOF
[package]
name = "wolfssl-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
wolfssl-sys = { version = "=$WOLFSSL_SYS_VERSION", default-features = false }

[workspace]
EOF
    : >"$FETCH/src/lib.rs"
    say "cargo fetch wolfssl-sys $WOLFSSL_SYS_VERSION"
    (cd "$FETCH" && cargo fetch --quiet)
    MANIFEST="$(cd "$FETCH" && cargo metadata --format-version 1 --offline 2>/dev/null \
        | grep -o '"manifest_path":"[^"]*/wolfssl-sys-[^"]*/Cargo.toml"' | head -n1 \
        | sed 's/^"manifest_path":"//; s/"$//')"
    CRATE="$(dirname "$MANIFEST")"
    if [ ! -f "$CRATE/wolfssl-src/configure.ac" ]; then
        echo "wolfssl/build.sh: no wolfSSL C source found in '$CRATE/wolfssl-src'" >&2
        exit 1
    fi
    say "C source in $CRATE/wolfssl-src"
    # A private copy: autogen writes into the tree, the registry copy must stay pristine.
    rm -rf "$SRC" "$PREFIX"
    cp -r "$CRATE/wolfssl-src" "$SRC"
    chmod -R u+w "$SRC"
    say "autogen + configure + make (a few minutes; log: $BUILD/wolfssl-build.log)"
    (
        cd "$SRC"
        ./autogen.sh
        ./configure --prefix="$PREFIX" "${CONFIGURE_FLAGS[@]}" CFLAGS="$CONFIGURE_CFLAGS"
        make -j"$(nproc)"
        make install
    ) >"$BUILD/wolfssl-build.log" 2>&1 || {
        tail -n 40 "$BUILD/wolfssl-build.log" >&2
        exit 1
    }
    echo "$WANT_STAMP" >"$STAMP"
    rm -f "$BIN/wolfssl-peer"
fi

# 2. Our program.
mkdir -p "$BIN"
if [ ! -x "$BIN/wolfssl-peer" ] || [ "$HERE/peer.c" -nt "$BIN/wolfssl-peer" ]; then
    say "compiling peer.c"
    # WOLFSSL_STATIC_PSK must match the library's build (it changes the suite list).
    gcc -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -DWOLFSSL_STATIC_PSK \
        -I"$PREFIX/include" -o "$BIN/wolfssl-peer.tmp" "$HERE/peer.c" \
        "$PREFIX/lib/libwolfssl.a" -lm -lpthread
    mv "$BIN/wolfssl-peer.tmp" "$BIN/wolfssl-peer"
fi
say "installed $BIN/wolfssl-peer"
