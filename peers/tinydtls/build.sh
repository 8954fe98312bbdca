#!/usr/bin/env bash
# Build Eclipse tinydtls's own test programs (tests/dtls-server, tests/dtls-client)
# from the C source that the crates.io crate `tinydtls-sys` vendors. Debian has no
# tinydtls package and only package registries are reachable, so cargo is our
# download tool; nothing of tinydtls is committed to this repository.
#
# Usage: peers/tinydtls/build.sh BUILD_DIR BIN_DIR
#   installs BIN_DIR/tinydtls-server and BIN_DIR/tinydtls-client.
# Skips all work when both binaries exist and were built from the pinned version.
set -euo pipefail

# Pinned: bump here (and in README.md) to move to another tinydtls snapshot.
TINYDTLS_SYS_VERSION="0.2.0+tinydtls-9d6cf54"

BUILD="${1:?usage: build.sh BUILD_DIR BIN_DIR}"
BIN="${2:?usage: build.sh BUILD_DIR BIN_DIR}"
STAMP="$BUILD/tinydtls.stamp"

say() { printf '==> tinydtls: %s\n' "$*"; }

if [ -x "$BIN/tinydtls-server" ] && [ -x "$BIN/tinydtls-client" ] \
    && [ "$(cat "$STAMP" 2>/dev/null)" = "$TINYDTLS_SYS_VERSION" ]; then
    say "already built from tinydtls-sys $TINYDTLS_SYS_VERSION"
    exit 0
fi

mkdir -p "$BUILD" "$BIN"
for tool in cargo autoreconf libtoolize make cc; do
    command -v "$tool" >/dev/null || { echo "build.sh: '$tool' not found" >&2; exit 1; }
done

# 1. A throwaway cargo package whose only job is to make cargo download the crate.
#    The empty [workspace] keeps it out of the dicetest workspace above it.
FETCH="$BUILD/tinydtls-fetch"
mkdir -p "$FETCH/src"
cat >"$FETCH/Cargo.toml" <<EOF
[package]
name = "tinydtls-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
tinydtls-sys = { version = "=$TINYDTLS_SYS_VERSION", default-features = false }

[workspace]
EOF
: >"$FETCH/src/lib.rs"
say "cargo fetch tinydtls-sys $TINYDTLS_SYS_VERSION"
(cd "$FETCH" && cargo fetch --quiet)

# 2. Where cargo unpacked it (works for any CARGO_HOME / registry name).
MANIFEST="$(cd "$FETCH" && cargo metadata --format-version 1 --offline 2>/dev/null \
    | grep -o '"manifest_path":"[^"]*/tinydtls-sys-[^"]*/Cargo.toml"' | head -n1 \
    | sed 's/^"manifest_path":"//; s/"$//')"
CRATE="$(dirname "$MANIFEST")"
if [ ! -f "$CRATE/src/tinydtls/configure.ac" ]; then
    echo "build.sh: no tinydtls C source found in '$CRATE'" >&2
    exit 1
fi
say "C source in $CRATE/src/tinydtls"

# 3. Build out of a private copy (autogen writes into the tree; the registry copy
#    must stay pristine). ECC stays on: we want TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
#    with raw public keys as well as TLS_PSK_WITH_AES_128_CCM_8.
SRC="$BUILD/tinydtls-src"
rm -rf "$SRC"
cp -r "$CRATE/src/tinydtls" "$SRC"
chmod -R u+w "$SRC"
say "autogen + configure + make (log: $BUILD/tinydtls-build.log)"
(
    cd "$SRC"
    ./autogen.sh
    ./configure
    make -j"$(nproc)"
    make -C tests dtls-server dtls-client
) >"$BUILD/tinydtls-build.log" 2>&1 || {
    tail -n 40 "$BUILD/tinydtls-build.log" >&2
    exit 1
}

install -m 0755 "$SRC/tests/dtls-server" "$BIN/tinydtls-server"
install -m 0755 "$SRC/tests/dtls-client" "$BIN/tinydtls-client"
echo "$TINYDTLS_SYS_VERSION" >"$STAMP"
say "installed $BIN/tinydtls-server and $BIN/tinydtls-client"
