#!/usr/bin/env bash
# The project's test command (README "Run the tests"; .ci/run calls exactly this).
# On a fresh Debian 12 machine it installs every third-party peer the tests use, then checks
# formatting and lints, runs every test (unit, property, known-answer, real-peer interop,
# every case against the simulated board and the able-to-fail self-test), the known-answer
# vectors through the CLI, a bounded run of every fuzz target (scripts/fuzz.sh), builds
# both firmware images (printing their footprint) and runs the whole suite against the QEMU
# firmware image.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> [$(date +%T)] installing third-party DTLS peers (scripts/install-peers.sh)"
bash scripts/install-peers.sh

echo "==> [$(date +%T)] cargo fmt --check"
cargo fmt --all -- --check

# One feature set for every cargo command below, so that dicetest is built once: with the
# board farm's probe-rs boards (feature probe-rs), whose code is then linted and whose unit
# tests (no board needed) run with the rest.
FEATURES=(--features dicetest/probe-rs)

echo "==> [$(date +%T)] cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets "${FEATURES[@]}" -- -D warnings

echo "==> [$(date +%T)] cargo test (the farm's probe-rs boards included)"
cargo test --workspace "${FEATURES[@]}"

# The dicetest binary `cargo test --workspace` just built. `cargo run -p dicetest` would resolve
# features for dicetest alone, differently from the workspace, and rebuild every dependency
# (four minutes on two cores).
DICETEST="${CARGO_TARGET_DIR:-target}/debug/dicetest"

echo "==> [$(date +%T)] dicetest vectors"
"$DICETEST" vectors

echo "==> [$(date +%T)] fuzz targets (fuzz/, cargo-fuzz on stable): every parser of DUT bytes, ${FUZZ_SECONDS:-10} s each"
(cd fuzz && cargo fmt -- --check)
CARGO_FEATURES="${FEATURES[*]}" FUZZ_SECONDS="${FUZZ_SECONDS:-10}" bash scripts/fuzz.sh

echo "==> [$(date +%T)] firmware: toolchain, both board images and their footprint (ci/footprint)"
bash scripts/install-firmware-toolchain.sh
bash ci/footprint

echo "==> [$(date +%T)] the whole suite against the real firmware binary on QEMU mps2-an386"
"$DICETEST" run --dut qemu-mps2-an386 --jobs 3 --out target/ci/qemu-mps2-an386
