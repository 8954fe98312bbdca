#!/usr/bin/env bash
# Installs cargo-fuzz (crates.io) for the fuzz targets in fuzz/. Idempotent.
#
# No nightly toolchain is needed: scripts/fuzz.sh builds with `--sanitizer none`, which
# uses only stable compiler flags (SanitizerCoverage through -Cpasses/-Cllvm-args). The
# targets hunt panics, overflows (debug assertions on), hangs and memory growth in safe
# Rust, which AddressSanitizer would not add to. For an ASan build on this stable
# toolchain: RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET (unsupported; for a local hunt only).
# libFuzzer itself is C++ and compiled by libfuzzer-sys: g++ (build-essential) must exist.
set -euo pipefail

VERSION=0.13.2
if cargo fuzz --version 2>/dev/null | grep -q "cargo-fuzz $VERSION"; then
    exit 0
fi
if ! command -v c++ >/dev/null; then
    apt-get update -qq && apt-get install -y -qq build-essential
fi
cargo install cargo-fuzz --version "$VERSION" --locked
