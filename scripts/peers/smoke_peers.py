#!/usr/bin/env python3
"""Interop smoke test of the installed third-party DTLS 1.2 peers, pair by pair.

Runs every server against every client on loopback, with
  * TLS_PSK_WITH_AES_128_CCM_8 (Client_identity / secretPSK): OpenSSL, GnuTLS, tinydtls;
  * TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 with raw public keys (RFC 7250) on both sides:
    GnuTLS, tinydtls (OpenSSL 3.0 has no raw public keys).
A pair passes when the line the client sent shows up in the server's output. The
command lines here are the ones documented in peers/tinydtls/README.md.

    python3 scripts/peers/smoke_peers.py            # all pairs
    python3 scripts/peers/smoke_peers.py -k rpk     # pairs whose name contains "rpk"
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BIN = Path(__file__).resolve().parents[2] / "peers" / "build" / "bin"
PSK_ID, PSK_HEX = "Client_identity", "73656372657450534b"
GNUTLS_PSK = "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM-8"
GNUTLS_RPK = ("NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+ECDHE-ECDSA:-CIPHER-ALL:+AES-128-CCM-8"
              ":-GROUP-ALL:+GROUP-SECP256R1:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK")

# name -> argv template; {port} and {dir} are filled in.
SERVERS = {
    "psk": {
        "openssl": ["openssl", "s_server", "-dtls1_2", "-accept", "127.0.0.1:{port}", "-nocert",
                    "-psk_identity", PSK_ID, "-psk", PSK_HEX, "-cipher", "PSK-AES128-CCM8"],
        "gnutls": ["gnutls-serv", "--udp", "--echo", "-p", "{port}", "--priority", GNUTLS_PSK,
                   "--pskpasswd", "{dir}/psk.passwd"],
        "tinydtls": [str(BIN / "tinydtls-server"), "-A", "127.0.0.1", "-p", "{port}",
                     "-c", "TLS_PSK_WITH_AES_128_CCM_8"],
    },
    "rpk": {
        "gnutls": ["gnutls-serv", "--udp", "--echo", "-p", "{port}", "--priority", GNUTLS_RPK,
                   "--rawpkkeyfile", "{dir}/server.key", "--rawpkfile", "{dir}/server.pub",
                   "--require-client-cert"],
        "tinydtls": [str(BIN / "tinydtls-server"), "-A", "127.0.0.1", "-p", "{port}",
                     "-c", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"],
    },
}
CLIENTS = {
    "psk": {
        "openssl": ["openssl", "s_client", "-dtls1_2", "-connect", "127.0.0.1:{port}",
                    "-psk_identity", PSK_ID, "-psk", PSK_HEX, "-cipher", "PSK-AES128-CCM8"],
        "gnutls": ["gnutls-cli", "--udp", "-p", "{port}", "--priority", GNUTLS_PSK,
                   "--pskusername", PSK_ID, "--pskkey", PSK_HEX, "127.0.0.1"],
        "tinydtls": [str(BIN / "tinydtls-client"), "-c", "TLS_PSK_WITH_AES_128_CCM_8",
                     "127.0.0.1", "{port}"],
    },
    "rpk": {
        "gnutls": ["gnutls-cli", "--udp", "-p", "{port}", "--priority", GNUTLS_RPK,
                   "--rawpkkeyfile", "{dir}/client.key", "--rawpkfile", "{dir}/client.pub",
                   "--insecure", "127.0.0.1"],
        "tinydtls": [str(BIN / "tinydtls-client"), "-c", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
                     "127.0.0.1", "{port}"],
    },
}
OUTPUT_CAP = 1 << 20  # gnutls-serv can loop printing "Waiting for connection..." forever


class Proc:
    """A peer process whose merged output is collected (bounded) by a thread."""

    def __init__(self, argv: list[str]):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        self.out = bytearray()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while chunk := self.p.stdout.read1(65536):
            if len(self.out) < OUTPUT_CAP:
                self.out += chunk

    def send(self, data: bytes):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def stop(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(3)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bound(port: int) -> bool:
    want = f":{port:04X}"
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with open(table) as f:
            if any(line.split()[1].endswith(want) for line in f.readlines()[1:]):
                return True
    return False


def wait(pred, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def run_pair(mode: str, server: str, client: str, work: Path) -> tuple[bool, str]:
    port = free_port()
    fill = lambda argv: [a.format(port=port, dir=work) for a in argv]  # noqa: E731
    line = f"ping {client}->{server} {mode}\n".encode()
    srv = Proc(fill(SERVERS[mode][server]))
    cli = None
    try:
        if not wait(lambda: bound(port), 5):
            return False, "server never bound its port"
        cli = Proc(fill(CLIENTS[mode][client]))
        # None of the clients can be asked whether the handshake is done without
        # extra verbosity; tinydtls-client even drops a line typed too early.
        time.sleep(1.0)
        cli.send(line)
        ok = wait(lambda: line in srv.out, 5)
        if client == "tinydtls":
            cli.send(b"client:exit\n")  # it spins on stdin EOF instead of exiting
        else:
            cli.p.stdin.close()  # s_client / gnutls-cli send close_notify and exit
        cli.p.wait(3) if cli.p.poll() is None else None
        return ok, "" if ok else f"server output: {bytes(srv.out[-400:])!r}\n" \
                                 f"client output: {bytes(cli.out[-400:])!r}"
    except subprocess.TimeoutExpired:
        return False, "client did not exit"
    finally:
        if cli is not None:
            cli.stop()
        srv.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only pairs whose name contains this")
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "psk.passwd").write_text(f"{PSK_ID}:{PSK_HEX}\n")
        for who in ("server", "client"):
            key = work / f"{who}.key"
            subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-out", str(key)], check=True,
                           capture_output=True)
            subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out",
                            str(work / f"{who}.pub")], check=True, capture_output=True)
        for mode in ("psk", "rpk"):
            for server in SERVERS[mode]:
                for client in CLIENTS[mode]:
                    name = f"{mode}: {client}-client -> {server}-server"
                    if args.k not in name:
                        continue
                    ok, why = run_pair(mode, server, client, work)
                    print(f"{'ok  ' if ok else 'FAIL'} {name}", flush=True)
                    if not ok:
                        failed += 1
                        print("     " + why.replace("\n", "\n     "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
