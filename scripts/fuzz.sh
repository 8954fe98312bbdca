#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for a bounded time (CI: scripts/test.sh).
#
# Usage:  scripts/fuzz.sh                 every target, FUZZ_SECONDS (default 20) each
#         scripts/fuzz.sh engine monitor  only these
#         FUZZ_SECONDS=600 scripts/fuzz.sh monitor   a longer hunt
#
# Seeds come from the project's own vectors and a clean engine handshake (written fresh by
# `cargo run --example fuzz_seeds`); what libFuzzer finds is kept in target/fuzz-corpus/,
# and a crashing input lands in fuzz/artifacts/TARGET/ (the run then fails and prints how to
# replay it: `cargo fuzz run --sanitizer none TARGET fuzz/artifacts/TARGET/crash-...`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECONDS_EACH="${FUZZ_SECONDS:-20}"
bash scripts/install-fuzz.sh

TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    mapfile -t TARGETS < <(cd fuzz && cargo fuzz list)
fi

SEEDS="$ROOT/target/fuzz-seeds"
rm -rf "$SEEDS"
# Without -p, and with the features of the caller's other cargo commands (scripts/test.sh sets
# CARGO_FEATURES), cargo resolves features as for the whole workspace and reuses what
# `cargo test --workspace` built instead of rebuilding every dependency.
read -r -a FEATURE_ARGS <<<"${CARGO_FEATURES:-}"
cargo run --quiet "${FEATURE_ARGS[@]}" --example fuzz_seeds -- "$SEEDS"

(cd fuzz && cargo fuzz build --sanitizer none)
for t in "${TARGETS[@]}"; do
    corpus="$ROOT/target/fuzz-corpus/$t"
    mkdir -p "$corpus" "$SEEDS/$t"
    echo "==> fuzz $t for ${SECONDS_EACH}s"
    # -rss_limit_mb: a parser that lets a device make it allocate without bound is a finding;
    # -timeout: so is one input that takes seconds.
    log="$ROOT/target/fuzz-corpus/$t.log"
    status=0
    (cd fuzz && cargo fuzz run --sanitizer none "$t" "$corpus" "$SEEDS/$t" -- \
        -max_total_time="$SECONDS_EACH" -rss_limit_mb=512 -timeout=5 -print_final_stats=1) \
        >"$log" 2>&1 || status=$?
    grep -E "DONE|stat::number_of_executed_units" "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log" >&2
        echo "fuzz target $t failed (exit $status); its input is in fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
