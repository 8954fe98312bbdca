#!/usr/bin/env bash
# Installs what the firmware boards (dut-firmware/boards/) need, on a clean Debian 12
# machine, from package registries only; then proves it by building dut-core for the
# Cortex-M4F target.
#
# Usage:  scripts/install-firmware-toolchain.sh              install (idempotent) + check
#         scripts/install-firmware-toolchain.sh --cargo ARGS  run cargo for the thumb target
#                                                            with whichever toolchain is set up
#         SKIP_APT=1 scripts/install-firmware-toolchain.sh   no apt-get (toolchain only)
#         FIRMWARE_TOOLCHAIN=debian ...                      use way 2 even where rustup works
#         DEBIAN_RUST_ROOT=DIR ...                           Debian's packages unpacked under DIR
#                                                            (default /usr; for trying way 2
#                                                            without installing it)
#
# Two ways to a thumbv7em-none-eabihf compiler, tried in this order:
#   1. rustup: the pinned toolchain (rust-toolchain.toml) plus its prebuilt `rust-std` for
#      the target (`rustup target add thumbv7em-none-eabihf`).
#   2. Where rustup cannot fetch that component: Debian's rustc-web, cargo-web and
#      rust-web-src (Rust 1.96) compile `core` from source (`-Zbuild-std=core`, allowed on
#      a stable compiler by RUSTC_BOOTSTRAP=1) and lld-22 links.
# `--cargo` picks the first that works, so ci/footprint, the qemu-mps2-an386 profile and a
# developer all build the same way.
#
# Also installed: qemu-system-arm (the mps2-an386 machine that runs the QEMU board) and
# binutils-arm-none-eabi (arm-none-eabi-size, for ci/footprint). probe-rs, which flashes
# real nRF52840 boards, is not needed here; README "nRF52840" says how to get it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET=thumbv7em-none-eabihf
DEBIAN_RUST=(rustc-web cargo-web rust-web-src lld-22)
APT_PACKAGES=(qemu-system-arm binutils-arm-none-eabi)
APT_UPDATED=0
TOOLCHAIN="${FIRMWARE_TOOLCHAIN:-auto}"
DEB="${DEBIAN_RUST_ROOT:-/usr}"

say() { printf '==> %s\n' "$*" >&2; }

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

apt_install() {
    local missing=() p
    for p in "$@"; do
        is_installed "$p" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        say "apt: $* already installed"
        return 0
    fi
    if [ "${SKIP_APT:-0}" = "1" ]; then
        say "apt: SKIP_APT=1, not installing ${missing[*]}"
        return 1
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-firmware-toolchain: need root for apt-get (missing: ${missing[*]})" >&2
        return 1
    fi
    say "apt: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if [ "$APT_UPDATED" = 0 ]; then
        apt-get update -qq
        APT_UPDATED=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The rustup toolchain has the target's prebuilt standard library.
rustup_has_target() {
    [ "$TOOLCHAIN" != debian ] && command -v rustup >/dev/null 2>&1 &&
        (cd "$ROOT" && rustup target list --installed 2>/dev/null) | grep -qx "$TARGET"
}

debian_rust_ready() {
    [ -x "$DEB/bin/cargo" ] && [ -x "$DEB/bin/rustc" ] && [ -x "$DEB/bin/ld.lld-22" ] &&
        [ -f "$DEB/lib/rustlib/src/rust/library/core/Cargo.toml" ]
}

# Runs cargo for the thumb target with the toolchain that is there. Called from inside a
# board's folder (its .cargo/config.toml names the target and the linker script).
run_cargo() {
    if rustup_has_target; then
        exec cargo "$@"
    elif debian_rust_ready; then
        # Debian's compiler has no prebuilt `core` for the target: build it from
        # rust-web-src. rust-lld is not shipped, so lld-22 links (same flags: -Tlink.x).
        export RUSTC="$DEB/bin/rustc" RUSTC_BOOTSTRAP=1
        export CARGO_TARGET_THUMBV7EM_NONE_EABIHF_LINKER="$DEB/bin/ld.lld-22"
        local sub="$1"
        shift
        exec "$DEB/bin/cargo" "$sub" -Zbuild-std=core "$@"
    else
        echo "install-firmware-toolchain: no $TARGET toolchain; run scripts/install-firmware-toolchain.sh" >&2
        exit 1
    fi
}

if [ "${1:-}" = "--cargo" ]; then
    shift
    run_cargo "$@"
fi

apt_install "${APT_PACKAGES[@]}" || say "apt: continuing without ${APT_PACKAGES[*]}"

if rustup_has_target; then
    say "rustup: $TARGET already installed for $(cd "$ROOT" && rustc --version)"
elif command -v rustup >/dev/null 2>&1 && (cd "$ROOT" && rustup target add "$TARGET"); then
    say "rustup: added $TARGET"
else
    say "rustup cannot provide $TARGET: falling back to Debian's ${DEBIAN_RUST[*]}"
    apt_install "${DEBIAN_RUST[@]}"
    debian_rust_ready || {
        echo "install-firmware-toolchain: Debian's Rust toolchain is incomplete" >&2
        exit 1
    }
fi

# The proof: the DTLS + CoAP core builds for the target.
say "check: dut-core for $TARGET (release)"
if rustup_has_target; then
    (cd "$ROOT" && cargo build -q --release --target "$TARGET" -p dut-core)
else
    (cd "$ROOT" && "$0" --cargo build -q --release --target "$TARGET" -p dut-core)
fi
say "ok: $TARGET toolchain ready ($(if rustup_has_target; then echo rustup; else echo Debian rustc-web + build-std; fi))"
