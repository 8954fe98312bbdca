#!/usr/bin/env bash
# One command from a fresh clone: installs the peers, builds dicetest, proves the engine
# against the known-answer vectors, runs the smoke tools on loopback (dicetest's client
# against a real GnuTLS server and against dicetest's own server), and then the main job:
# the whole conformance suite against the built-in simulated board (the reference firmware
# core on a virtual clock), with every report format in out/sim/.
set -euo pipefail
cd "$(dirname "$0")/.."
PSK_HEX=73656372657450534b   # "secretPSK", the pair most DTLS demo programs use
ID=Client_identity

bash scripts/install-peers.sh
# dut-sim too: the README's interop, fuzz and farm examples start it ({bin:dut-sim}).
cargo build --release -p dicetest -p dut-sim
bin="${CARGO_TARGET_DIR:-target}/release/dicetest"   # where cargo put it
# `dicetest` on PATH for the README's examples (reuses the release build; the suite and
# profiles are built in, so it runs from any folder).
cargo install --locked --path harness

echo "==> known-answer vectors"
"$bin" vectors

pids=()
# The key file: mktemp makes it 0600 with a random name; gone when the script ends.
pskfile=$(mktemp)
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -f "$pskfile"; }
trap cleanup EXIT
printf '%s:%s\n' "$ID" "$PSK_HEX" > "$pskfile"

echo "==> dicetest connect -> gnutls-serv (a real third-party DTLS server)"
gnutls-serv --udp --echo -p 25684 --pskpasswd "$pskfile" \
    --priority NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM-8 >/dev/null 2>&1 &
pids+=($!)
sleep 1
"$bin" connect 127.0.0.1:25684 --psk-file "$pskfile" --send hello

echo "==> dicetest connect -> dicetest serve"
"$bin" serve --listen 127.0.0.1:25685 --psk-file "$pskfile" >/dev/null &
pids+=($!)
sleep 0.5
"$bin" connect 127.0.0.1:25685 --psk-file "$pskfile" --send "hello board"

echo "==> the conformance suite against the built-in simulated board"
"$bin" run --dut sim --jobs 2 --out out/sim
echo "==> all good: open out/sim/report.html (also report.json, junit.xml, summary.md, captures/)"
