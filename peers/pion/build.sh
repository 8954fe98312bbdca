#!/usr/bin/env bash
# Build the pion/dtls DTLS 1.2 PSK peer (peers/pion/main.go) offline from Debian's Go
# packages: golang-go and golang-github-pion-dtls.v2-dev (pion/dtls 2.2.6 and what it
# imports, as source under /usr/share/gocode/src). No module proxy: every dependency is a
# `replace` into that tree, so the build needs no network.
#
# Usage: peers/pion/build.sh BUILD_DIR
#   installs BUILD_DIR/bin/pion-peer.
# Idempotent: installs the Debian packages when missing (as root, unless SKIP_APT=1) and
# rebuilds only when main.go or this script is newer than the binary.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${1:?usage: build.sh BUILD_DIR}"
mkdir -p "$BUILD"
BUILD="$(cd "$BUILD" && pwd)"
BIN="$BUILD/bin"
WORK="$BUILD/pion-src"
GOSRC=/usr/share/gocode/src

say() { printf '==> pion: %s\n' "$*"; }

missing=()
for p in golang-go golang-github-pion-dtls.v2-dev; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "${SKIP_APT:-0}" = "1" ] || [ "$(id -u)" -ne 0 ]; then
        echo "pion/build.sh: missing Debian packages: ${missing[*]}" >&2
        exit 1
    fi
    say "apt: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

mkdir -p "$BIN"
if [ -x "$BIN/pion-peer" ] && [ "$BIN/pion-peer" -nt "$HERE/main.go" ] \
    && [ "$BIN/pion-peer" -nt "$HERE/build.sh" ]; then
    say "installed $BIN/pion-peer (up to date)"
    exit 0
fi

# A module of our own in the build folder: go.mod names every module pion/dtls needs
# and points each at Debian's source tree (module path => directory).
rm -rf "$WORK"
mkdir -p "$WORK"
cp "$HERE/main.go" "$WORK/main.go"
MODULES=(
    "github.com/pion/dtls/v2 v2.2.6 github.com/pion/dtls/v2"
    "github.com/pion/udp/v2 v2.0.1 github.com/pion/udp"
    "github.com/pion/transport/v2 v2.0.2 github.com/pion/transport"
    "github.com/pion/logging v0.2.2 github.com/pion/logging"
    "golang.org/x/crypto v0.5.0 golang.org/x/crypto"
    "golang.org/x/net v0.7.0 golang.org/x/net"
    "golang.org/x/sys v0.5.0 golang.org/x/sys"
    "golang.org/x/term v0.5.0 golang.org/x/term"
    "golang.org/x/text v0.7.0 golang.org/x/text"
)
{
    echo "module dicetest.invalid/pion-peer"
    echo
    echo "go 1.19"
    echo
    echo "require ("
    for m in "${MODULES[@]}"; do
        set -- $m
        echo "	$1 $2"
    done
    echo ")"
    echo
    for m in "${MODULES[@]}"; do
        set -- $m
        [ -f "$GOSRC/$3/go.mod" ] || { echo "pion/build.sh: no $GOSRC/$3/go.mod" >&2; exit 1; }
        echo "replace $1 => $GOSRC/$3"
    done
} >"$WORK/go.mod"

say "go build (offline)"
(
    cd "$WORK"
    export GOPROXY=off GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
    export GOCACHE="$BUILD/go-cache" GOPATH="$BUILD/gopath"
    go build -trimpath -o "$BIN/pion-peer.tmp" .
)
mv "$BIN/pion-peer.tmp" "$BIN/pion-peer"
say "installed $BIN/pion-peer"
