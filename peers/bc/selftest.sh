#!/usr/bin/env bash
# Proves the Bouncy Castle peer against OpenSSL 3 on loopback, both ways, for every suite:
#   BC server  <- openssl s_client   (HelloVerifyRequest seen in s_client's trace, echo returned)
#   BC client  -> openssl s_server   (client sends "ping", s_server answers "pong" from its stdin)
# and checks that a wrong PSK makes the BC client fail with a non-zero exit.
# Prints "N passed, N failed" at the end; exits non-zero if anything failed.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/build.sh" >/dev/null || exit 1

ID=Client_identity
KEY=73656372657450534b # "secretPSK"
work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
# The peer reads its key from a file (IDENTITY:HEX) in the private work folder (0700).
keyfile() { printf '%s:%s\n' "$ID" "$1" >"$work/key.$1"; echo "$work/key.$1"; }

passed=0
failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }

free_udp_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for FILE PATTERN SECONDS
wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

declare -A OPENSSL_NAME=(
    [TLS_PSK_WITH_AES_128_CCM_8]=PSK-AES128-CCM8
    [TLS_PSK_WITH_AES_128_CCM]=PSK-AES128-CCM
    [TLS_PSK_WITH_AES_128_CBC_SHA256]=PSK-AES128-CBC-SHA256
    [TLS_PSK_WITH_AES_128_GCM_SHA256]=PSK-AES128-GCM-SHA256
)
SUITES=(TLS_PSK_WITH_AES_128_CCM_8 TLS_PSK_WITH_AES_128_CCM TLS_PSK_WITH_AES_128_CBC_SHA256 TLS_PSK_WITH_AES_128_GCM_SHA256)

# ---- BC server, openssl s_client
"$here/run.sh" server --port 0 --pskfile "$(keyfile "$KEY")" \
    --suite "$(IFS=,; echo "${SUITES[*]}")" >"$work/srv.out" 2>"$work/srv.err" &
pids+=($!)
if wait_for "$work/srv.out" '^READY ' 20; then
    port="$(awk '/^READY/{print $2; exit}' "$work/srv.out")"
    for suite in "${SUITES[@]}"; do
        msg="echo-$suite"
        (echo "$msg"; sleep 2) | timeout 20 openssl s_client -dtls1_2 -psk_identity "$ID" -psk "$KEY" \
            -cipher "${OPENSSL_NAME[$suite]}" -connect "127.0.0.1:$port" -trace >"$work/cli.$suite" 2>&1
        if ! grep -q "HelloVerifyRequest" "$work/cli.$suite"; then
            bad "bc server [$suite]: no HelloVerifyRequest seen by s_client"
        elif ! grep -qx -- "$msg" "$work/cli.$suite"; then
            bad "bc server [$suite]: s_client got no echo (see s_client output below)"
            tail -20 "$work/cli.$suite"
        elif ! grep -q "^HANDSHAKE OK $suite\$" "$work/srv.out"; then
            bad "bc server [$suite]: server did not report 'HANDSHAKE OK $suite'"
        else
            ok "bc server <- openssl s_client [$suite]: cookie exchange, handshake, echo"
        fi
    done
else
    bad "bc server did not print READY"
    cat "$work/srv.err"
fi

# ---- BC client, openssl s_server
run_against_s_server() { # SUITE CLIENT_KEY TIMEOUT_MS -> sets client_rc; output in $work/c.out
    local suite="$1" client_key="$2" timeout_ms="$3" sport spid fifo
    sport="$(free_udp_port)"
    fifo="$work/s_server.in"
    rm -f "$fifo"
    mkfifo "$fifo"
    exec 3<>"$fifo"
    openssl s_server -dtls1_2 -nocert -psk "$KEY" -cipher "${OPENSSL_NAME[$suite]}" \
        -accept "$sport" <&3 >"$work/s_server.out" 2>&1 &
    spid=$!
    pids+=("$spid")
    wait_for "$work/s_server.out" '^ACCEPT' 10
    "$here/run.sh" client --connect "127.0.0.1:$sport" --pskfile "$(keyfile "$client_key")" \
        --suite "$suite" --send ping --timeout-ms "$timeout_ms" >"$work/c.out" 2>"$work/c.err" &
    local cpid=$!
    # s_server writes what it receives to stdout; answer the ping from its stdin.
    if wait_for "$work/s_server.out" 'ping' 15; then
        echo pong >&3
    fi
    wait "$cpid"
    client_rc=$?
    exec 3>&-
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
}

for suite in "${SUITES[@]}"; do
    run_against_s_server "$suite" "$KEY" 8000
    if [ "$client_rc" -ne 0 ]; then
        bad "bc client [$suite]: exit $client_rc: $(cat "$work/c.out" "$work/c.err")"
    elif ! grep -q "^HANDSHAKE OK $suite\$" "$work/c.out"; then
        bad "bc client [$suite]: no 'HANDSHAKE OK $suite': $(cat "$work/c.out")"
    elif ! grep -q "^RECV pong" "$work/c.out"; then
        bad "bc client [$suite]: no 'RECV pong': $(cat "$work/c.out")"
    else
        ok "bc client -> openssl s_server [$suite]: handshake, ping, pong"
    fi
done

# ---- a wrong key must fail, with a non-zero exit and a FAIL line
# (OpenSSL silently drops the Finished it cannot verify, so the client sees a handshake timeout.)
run_against_s_server TLS_PSK_WITH_AES_128_CCM_8 00112233445566778899 3000
if [ "$client_rc" -ne 0 ] && grep -q '^FAIL' "$work/c.out"; then
    ok "bc client with a wrong PSK fails (exit $client_rc: $(head -1 "$work/c.out"))"
else
    bad "bc client with a wrong PSK: exit $client_rc, output: $(cat "$work/c.out")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
