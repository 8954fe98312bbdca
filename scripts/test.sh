#!/usr/bin/env bash
# The project's test command (README "Run the tests"; .ci/run calls exactly this).
# On a fresh Debian 12 machine it installs every third-party peer the tests use, then checks
# formatting and lints, runs every test (unit, property, known-answer, real-peer interop)
# and the known-answer vectors through the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> installing third-party DTLS peers (scripts/install-peers.sh)"
bash scripts/install-peers.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

echo "==> cargo test"
cargo test --workspace

echo "==> dicetest vectors"
cargo run --quiet -p dicetest -- vectors
