#!/usr/bin/env bash
# Install every third-party DTLS peer the dicetest suites talk to.
#
# Usage:  scripts/install-peers.sh            (as root on Debian 12)
#         SKIP_APT=1 scripts/install-peers.sh (only build the source peers)
#
# Idempotent: every step first checks whether its result is already there, so a
# rerun on a machine that has everything takes about a second. Things we build
# go to peers/build/bin/ (git-ignored). At the end one line per peer gives its
# version.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/peers/build"
BIN="$BUILD/bin"

say() { printf '==> %s\n' "$*"; }

# ---------------------------------------------------------------- apt peers
# openssl: s_server/s_client; gnutls-bin: gnutls-serv/gnutls-cli;
# libcoap3-bin: coap-server-*/coap-client-*; tshark: decodes and decrypts DTLS.
# chromium: the reports tests open report.html in it (headless) to check it renders.
# autoconf..libclang-dev: to build tinydtls (and bindgen for tinydtls-sys).
# default-jdk-headless + Bouncy Castle: the Java peer another script builds.
# python3 + python3-venv + python3-dev: the venv the Python peers (aiocoap) live in, and
# the headers DTLSSocket compiles against (Debian's python3 refuses `pip install` into
# the system, PEP 668).
APT_PACKAGES=(
    openssl gnutls-bin libcoap3-bin tshark chromium
    python3 python3-venv python3-dev
    autoconf automake libtool pkg-config libclang-dev make gcc
    default-jdk-headless libbctls-java libbcprov-java libbcutil-java
)

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

install_apt() {
    local missing=()
    local p
    for p in "${APT_PACKAGES[@]}"; do
        is_installed "$p" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        say "apt: all ${#APT_PACKAGES[@]} packages already installed"
        return
    fi
    say "apt: installing ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-peers: need root for apt-get (missing: ${missing[*]})" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture; answer "no" up front.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

if [ "${SKIP_APT:-0}" = "1" ]; then
    say "apt: skipped (SKIP_APT=1)"
else
    install_apt
fi

# ---------------------------------------------------------------- tinydtls
mkdir -p "$BIN"
"$ROOT/peers/tinydtls/build.sh" "$BUILD" "$BIN"

# ---------------------------------------------------------------- aiocoap (PyPI, in a venv)
# aiocoap-client with DTLS (DTLSSocket wraps tinydtls): a third CoAP client for the board,
# and the library of peers/aiocoap/server.py. Installed into a venv of the project made by
# Debian's own python3 (never pip into the system, never whichever python3 comes first on
# PATH): peers/build/venv. Profiles and tests run peers/build/venv/bin/python and
# peers/build/bin/aiocoap-client (a link into the venv).
VENV="$BUILD/venv"
SYS_PYTHON=/usr/bin/python3
AIOCOAP_REQ="aiocoap[tinydtls]"
venv_ok() {
    [ -x "$VENV/bin/python" ] && [ -x "$VENV/bin/aiocoap-client" ] &&
        "$VENV/bin/python" -c "import aiocoap, DTLSSocket" 2>/dev/null
}
if ! venv_ok; then
    [ -x "$SYS_PYTHON" ] || { echo "install-peers: $SYS_PYTHON missing (apt-get install python3 python3-venv)" >&2; exit 1; }
    if [ ! -x "$VENV/bin/python" ]; then
        say "venv: $VENV ($("$SYS_PYTHON" --version))"
        rm -rf "$VENV"
        "$SYS_PYTHON" -m venv "$VENV"
    fi
    say "pip (venv): installing $AIOCOAP_REQ"
    # PIP_USER/PIP_TARGET from the caller's environment would send packages elsewhere.
    env -u PIP_USER -u PIP_TARGET -u PIP_PREFIX PYTHONNOUSERSITE=1 \
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$AIOCOAP_REQ"
    venv_ok || { echo "install-peers: aiocoap or DTLSSocket not importable in $VENV" >&2; exit 1; }
fi
ln -sfn ../venv/bin/aiocoap-client "$BIN/aiocoap-client"

# ---------------------------------------------------------------- Bouncy Castle
say "bouncy castle peer: $("$ROOT/peers/bc/build.sh")"

# ---------------------------------------------------------------- Mbed TLS (C, Debian libmbedtls-dev)
"$ROOT/peers/mbedtls/build.sh" "$BUILD"

# ---------------------------------------------------------------- pion/dtls (Go, Debian packages, offline)
"$ROOT/peers/pion/build.sh" "$BUILD"

# ---------------------------------------------------------------- wolfSSL (C, from crates.io wolfssl-sys; GPL: a separate process)
"$ROOT/peers/wolfssl/build.sh" "$BUILD"

# ---------------------------------------------------------------- summary
say "installed peers:"
ver_or_missing() { # name, command...
    local name="$1"; shift
    local v
    # Capture everything first: `cmd | head` could kill cmd with SIGPIPE under pipefail.
    if v="$("$@" 2>&1)" && v="${v%%$'\n'*}" && [ -n "$v" ]; then
        printf '  %-16s %s\n' "$name" "$v"
    else
        printf '  %-16s MISSING\n' "$name"
        return 1
    fi
}
pkg_version() { dpkg-query -W -f='${Version}\n' "$1"; }
tinydtls_version() { # the test programs print "dtls-server v0.8.6 -- ..." on bad usage
    local out
    out="$("$1" -Z 2>&1 || true)"
    sed -n 's/.* v\([^ ]*\) --.*/tinydtls \1/p' <<<"$out"
}
pion_version() { [ -x "$BIN/pion-peer" ] && echo "pion/dtls $(pkg_version golang-github-pion-dtls.v2-dev)"; }
tshark_version() { local out; out="$(tshark --version 2>/dev/null)"; grep -m1 '^TShark' <<<"$out"; }
status=0
ver_or_missing openssl        openssl version                 || status=1
ver_or_missing gnutls         gnutls-serv --version           || status=1
ver_or_missing libcoap        pkg_version libcoap3-bin        || status=1
ver_or_missing tshark         tshark_version                  || status=1
ver_or_missing chromium       pkg_version chromium            || status=1
ver_or_missing java           java -version                   || status=1
ver_or_missing bouncycastle   pkg_version libbctls-java       || status=1
ver_or_missing tinydtls-server tinydtls_version "$BIN/tinydtls-server" || status=1
ver_or_missing tinydtls-client tinydtls_version "$BIN/tinydtls-client" || status=1
ver_or_missing mbedtls        "$BIN/mbedtls-peer" version      || status=1
ver_or_missing pion           pion_version                    || status=1
ver_or_missing wolfssl        "$BIN/wolfssl-peer" version      || status=1
ver_or_missing aiocoap        "$VENV/bin/python" -c "import aiocoap.meta as m, sys; print('aiocoap', m.version, 'python', sys.version.split()[0])" || status=1
exit "$status"
