#!/usr/bin/env python3
"""Record a complete DTLS 1.2 handshake between two third-party implementations.

A UDP relay on loopback sits between a real client and a real server (neither is
ours), forwards every datagram unchanged and writes them, with their direction,
the third-party key log line(s) and the application-data plaintexts, to a TOML
vector under vectors/transcripts/. Afterwards tshark must decrypt the recorded
datagrams (from a pcap synthesised from the TOML file itself) to exactly the
recorded plaintexts, or the script fails.

    python3 scripts/record-transcript.py psk-ccm8 --out vectors/transcripts/
    python3 scripts/record-transcript.py all --out vectors/transcripts/ --live-capture
    python3 scripts/record-transcript.py --verify vectors/transcripts/*.toml

The committed TOML files are fixed vectors: tests read them, they never re-record.
Peers: OpenSSL (`openssl s_client` / `s_server`) and GnuTLS (`gnutls-cli` /
`gnutls-serv`), as installed by scripts/install-peers.sh.
"""

from __future__ import annotations

import argparse
import datetime
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True  # keep scripts/peers/ free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

import dtls_records  # noqa: E402  (scripts/peers/dtls_records.py)
import tshark_check  # noqa: E402  (scripts/peers/tshark_check.py)

PSK_IDENTITY = "Client_identity"
PSK_HEX = "73656372657450534b"  # "secretPSK", the key tinydtls's test programs hard-code
CLIENT_LINE = "hello dicetest\n"
SERVER_LINE = "hello from the server\n"

GNUTLS_PSK_CCM8 = "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM-8"
GNUTLS_ECDHE_ECDSA_CCM8 = (
    "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+ECDHE-ECDSA:-CIPHER-ALL:+AES-128-CCM-8"
    ":-GROUP-ALL:+GROUP-SECP256R1"
)


@dataclass
class Peer:
    """How to start one third-party endpoint."""

    impl: str  # "openssl" or "gnutls"
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    keylog: Path | None = None
    echoes: bool = False  # server only: sends back what it received


@dataclass
class Scenario:
    name: str
    cipher_suite: str
    psk: bool
    client: callable  # (port, workdir, certdir) -> Peer
    server: callable  # (port, workdir, certdir) -> Peer
    note: str = ""  # appended to `source`: what is special about this recording


# ----------------------------------------------------------------------------- peers


def openssl_client(suite: str):
    def make(port: int, work: Path, certs: Path) -> Peer:
        kl = work / "client.keys"
        argv = ["openssl", "s_client", "-dtls1_2", "-connect", f"127.0.0.1:{port}",
                "-keylogfile", str(kl), "-cipher", suite]
        if "PSK" in suite:
            argv += ["-psk_identity", PSK_IDENTITY, "-psk", PSK_HEX]
        return Peer("openssl", argv, keylog=kl)
    return make


def openssl_server(suite: str, extra: tuple[str, ...] = ()):
    def make(port: int, work: Path, certs: Path) -> Peer:
        kl = work / "server.keys"
        argv = ["openssl", "s_server", "-dtls1_2", "-accept", f"127.0.0.1:{port}",
                "-keylogfile", str(kl), "-cipher", suite, "-naccept", "1", *extra]
        if "PSK" in suite:
            argv += ["-nocert", "-psk_identity", PSK_IDENTITY, "-psk", PSK_HEX]
        else:
            # Mutual authentication, as RFC 7925 §4.4 profiles certificate mode.
            argv += ["-cert", str(certs / "server.pem"), "-key", str(certs / "server.key"),
                     "-Verify", "1", "-verifyCAfile", str(certs / "client.pem"),
                     "-groups", "P-256"]
        return Peer("openssl", argv, keylog=kl)
    return make


def gnutls_client(priority: str):
    def make(port: int, work: Path, certs: Path) -> Peer:
        kl = work / "client.keys"
        argv = ["gnutls-cli", "--udp", "-p", str(port), "--priority", priority]
        if "+PSK" in priority:
            argv += ["--pskusername", PSK_IDENTITY, "--pskkey", PSK_HEX]
        else:
            argv += ["--x509cafile", str(certs / "server.pem"),
                     "--verify-hostname", "localhost",
                     "--x509certfile", str(certs / "client.pem"),
                     "--x509keyfile", str(certs / "client.key")]
        argv.append("127.0.0.1")
        return Peer("gnutls", argv, env={"SSLKEYLOGFILE": str(kl)}, keylog=kl)
    return make


def gnutls_server(priority: str):
    def make(port: int, work: Path, certs: Path) -> Peer:
        kl = work / "server.keys"
        pw = work / "psk.passwd"
        pw.write_text(f"{PSK_IDENTITY}:{PSK_HEX}\n")
        argv = ["gnutls-serv", "--udp", "--echo", "-p", str(port), "--priority", priority,
                "--pskpasswd", str(pw)]
        return Peer("gnutls", argv, env={"SSLKEYLOGFILE": str(kl)}, keylog=kl, echoes=True)
    return make


SCENARIOS = {
    "psk-ccm8": Scenario(
        "psk-ccm8_openssl-client_gnutls-server", "TLS_PSK_WITH_AES_128_CCM_8", True,
        openssl_client("PSK-AES128-CCM8"), gnutls_server(GNUTLS_PSK_CCM8)),
    "ecdhe-ecdsa-ccm8": Scenario(
        "ecdhe-ecdsa-ccm8_gnutls-client_openssl-server",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", False,
        gnutls_client(GNUTLS_ECDHE_ECDSA_CCM8), openssl_server("ECDHE-ECDSA-AES128-CCM8"),
        note="mutual authentication with the self-signed X.509 P-256 certificates in "
             "vectors/transcripts/certs/ (server.pem, client.pem); s_server fragments its "
             "flights into 228-byte datagrams"),
    # Without a NewSessionTicket (RFC 5077), so the vectors cover both final flights.
    "psk-ccm8-reverse": Scenario(
        "psk-ccm8_gnutls-client_openssl-server", "TLS_PSK_WITH_AES_128_CCM_8", True,
        gnutls_client(GNUTLS_PSK_CCM8), openssl_server("PSK-AES128-CCM8", ("-no_ticket",)),
        note="s_server -no_ticket, so no NewSessionTicket"),
    # The client leaves out extended_master_secret: the RFC 5246 §8.1 master secret.
    "psk-ccm8-no-ems": Scenario(
        "psk-ccm8-no-ems_gnutls-client_openssl-server", "TLS_PSK_WITH_AES_128_CCM_8", True,
        gnutls_client(GNUTLS_PSK_CCM8 + ":%NO_SESSION_HASH"), openssl_server("PSK-AES128-CCM8"),
        note="GnuTLS priority %NO_SESSION_HASH, so no RFC 7627 extended master secret"),
}


def peer_version(impl: str) -> str:
    if impl == "openssl":
        out = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout
        return "OpenSSL " + out.split()[1]
    out = subprocess.run(["gnutls-cli", "--version"], capture_output=True, text=True).stdout
    return "GnuTLS " + out.split()[1]


# ----------------------------------------------------------------------------- plumbing


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_port_bound(port: int) -> bool:
    """Whether some socket is bound to UDP `port` (IPv4 or IPv6), per /proc/net."""
    want = f":{port:04X} "
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                for line in f.readlines()[1:]:
                    if want in line.split(None, 2)[1] + " ":
                        return True
        except OSError:
            pass
    return False


def wait_until(pred, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start(peer: Peer, log: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    env.update(peer.env)
    print("    $", " ".join(peer.argv), f"(env {peer.env})" if peer.env else "")
    return subprocess.Popen(peer.argv, stdin=subprocess.PIPE, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def keylog_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [ln.strip() for ln in path.read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]


# ----------------------------------------------------------------------------- recording


def record(sc: Scenario, out_dir: Path, certs: Path, live_capture: bool) -> Path:
    work = Path(tempfile.mkdtemp(prefix="dicetest-rec-"))
    server_port, relay_port = free_udp_port(), free_udp_port()
    server_peer = sc.server(server_port, work, certs)
    client_peer = sc.client(relay_port, work, certs)
    print(f"==> {sc.name}: server on udp/{server_port}, relay on udp/{relay_port}, work {work}")

    capture = None
    if live_capture:
        capture = subprocess.Popen(
            ["tshark", "-q", "-i", "lo", "-f", f"udp port {server_port}",
             "-w", str(work / "live.pcapng")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        # tshark says "Capturing on 'Loopback: lo'" once the capture runs.
        buf = b""
        while b"Capturing on" not in buf:
            r, _, _ = select.select([capture.stderr], [], [], 10)
            if not r:
                raise RuntimeError("tshark did not start capturing")
            buf += os.read(capture.stderr.fileno(), 4096)

    relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    relay.bind(("127.0.0.1", relay_port))
    upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    upstream.connect(("127.0.0.1", server_port))

    server = start(server_peer, work / "server.log")
    client = None
    datagrams: list[tuple[str, bytes]] = []
    app_data: list[tuple[str, str]] = []
    try:
        wait_until(lambda: udp_port_bound(server_port), 10, "the server to bind its port")
        client = start(client_peer, work / "client.log")
        client_addr = None
        client_line_sent = server_line_sent = closing = False
        quiet_since = None
        deadline = time.monotonic() + 30
        while True:
            if time.monotonic() > deadline:
                raise RuntimeError("recording did not finish within 30 s")
            r, _, _ = select.select([relay, upstream], [], [], 0.1)
            for sock in r:
                data, addr = sock.recvfrom(65535)
                if sock is relay:
                    client_addr = addr
                    upstream.send(data)
                    datagrams.append(("client", data))
                elif client_addr is not None:
                    relay.sendto(data, client_addr)
                    datagrams.append(("server", data))
                quiet_since = time.monotonic()
            types = {(who, t) for who, d in datagrams for t in dtls_records.record_types(d)}
            # The server's ChangeCipherSpec ends both full handshakes recorded here
            # (RFC 5246 §7.3, Figure 1): from then on the client may send data.
            if not client_line_sent and ("server", dtls_records.CHANGE_CIPHER_SPEC) in types:
                time.sleep(0.2)
                client.stdin.write(CLIENT_LINE.encode())
                client.stdin.flush()
                app_data.append(("client", CLIENT_LINE))
                client_line_sent = True
            got_client_data = ("client", dtls_records.APPLICATION_DATA) in types
            if got_client_data and not server_line_sent:
                if server_peer.echoes:
                    app_data.append(("server", CLIENT_LINE))
                else:
                    server.stdin.write(SERVER_LINE.encode())
                    server.stdin.flush()
                    app_data.append(("server", SERVER_LINE))
                server_line_sent = True
            got_server_data = ("server", dtls_records.APPLICATION_DATA) in types
            if got_server_data and not closing and time.monotonic() - quiet_since > 0.3:
                # Closing stdin makes either client send close_notify and exit.
                client.stdin.close()
                closing = True
            if closing and client.poll() is not None and time.monotonic() - quiet_since > 0.5:
                break
            if client.poll() is not None and not closing:
                raise RuntimeError(f"client exited early with {client.returncode}")
    except BaseException:
        for name in ("client.log", "server.log"):
            p = work / name
            if p.exists():
                sys.stderr.write(f"---- {name}\n{p.read_text(errors='replace')}")
        raise
    finally:
        if client is not None:
            stop(client)
        stop(server)
        relay.close()
        upstream.close()
        if capture is not None:
            time.sleep(0.3)
            os.killpg(capture.pid, signal.SIGINT)
            capture.wait(10)

    # ---- cross-checks on what was recorded
    client_keys = keylog_lines(client_peer.keylog)
    server_keys = keylog_lines(server_peer.keylog)
    if not client_keys:
        raise RuntimeError("the client wrote no key log")
    if server_keys and server_keys != client_keys:
        raise RuntimeError(f"key logs differ:\n client {client_keys}\n server {server_keys}")
    summary = dtls_records.summarize(datagrams)
    if summary.cipher_suite != dtls_records.CIPHER_SUITES[sc.cipher_suite]:
        raise RuntimeError(f"ServerHello chose 0x{summary.cipher_suite:04x}, not {sc.cipher_suite}")
    if not any(line.split()[1] == summary.client_random.hex() for line in client_keys):
        raise RuntimeError("key log does not name the ClientHello's random")
    if summary.duplicates:
        print(f"    warning: {summary.duplicates} retransmitted datagram(s) recorded")

    client_impl, server_impl = client_peer.impl, server_peer.impl
    keylog_writer = (f"{peer_version(client_impl)} ({'-keylogfile' if client_impl == 'openssl' else 'SSLKEYLOGFILE'})")
    source = (
        f"Recorded on loopback {datetime.date.today().isoformat()} between "
        f"{peer_version(client_impl)} {'s_client' if client_impl == 'openssl' else 'gnutls-cli'} "
        f"and {peer_version(server_impl)} {'s_server' if server_impl == 'openssl' else 'gnutls-serv'} "
        f"by scripts/record-transcript.py; key log written by the client, {keylog_writer}"
        + (", identical to the server's" if server_keys else "")
        + (f"; {sc.note}" if sc.note else "")
    )
    out = out_dir / f"{sc.name}.toml"
    out.write_text(to_toml(sc, source, summary.extended_master_secret, client_keys,
                           datagrams, app_data))
    print(f"    wrote {out}: {len(datagrams)} datagrams, EMS={summary.extended_master_secret}, "
          f"cookie exchange={summary.hello_verify_request}")

    check_vector(out)
    if capture is not None:
        tshark_check.verify_pcap(work / "live.pcapng", server_port, client_keys, app_data)
        print("    tshark decrypts the live loopback capture to the recorded plaintexts")
    shutil.rmtree(work)
    return out


def check_vector(path: Path) -> None:
    """Checks a written vector from the file alone: tshark (a third implementation)
    must decrypt it; for PSK suites the master secret is also recomputed here."""
    tshark_check.verify_toml(path)
    print("    tshark decrypts the recorded datagrams to the recorded plaintexts")
    v = tomllib.loads(Path(path).read_text())
    if "psk_hex" in v:
        # Plain PSK: the master secret follows from the PSK and the recorded handshake
        # alone, so recomputing it checks the EMS flag and that no message is missing.
        datagrams = [(d["from"], bytes.fromhex(d["hex"])) for d in v["datagram"]]
        ms = dtls_records.psk_master_secret(datagrams, bytes.fromhex(v["psk_hex"]),
                                            v["extended_master_secret"])
        if ms.hex() not in v["keylog"].split():
            raise RuntimeError(f"{path}: master secret from the PSK does not match the key log")
        print("    master secret recomputed from the PSK and the hellos matches the key log")


def toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_toml(sc, source, ems, keys, datagrams, app_data) -> str:
    lines = [
        'kind = "dtls12-transcript"',
        f"name = {toml_str(sc.name)}",
        f"source = {toml_str(source)}",
        f"cipher_suite = {toml_str(sc.cipher_suite)}",
    ]
    if sc.psk:
        lines += [f"psk_identity = {toml_str(PSK_IDENTITY)}", f"psk_hex = {toml_str(PSK_HEX)}"]
    lines.append(f"extended_master_secret = {'true' if ems else 'false'}")
    lines.append(f"keylog = {toml_str(chr(10).join(keys))}")
    for who, data in datagrams:
        lines += ["", "[[datagram]]", f"from = {toml_str(who)}", f"hex = {toml_str(data.hex())}"]
    for who, text in app_data:
        lines += ["", "[[application_data]]", f"from = {toml_str(who)}", f"text = {toml_str(text)}"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- certificates


def ensure_certs(certs: Path) -> None:
    """Self-signed P-256 certificates for both sides; generated once, then kept fixed."""
    certs.mkdir(parents=True, exist_ok=True)
    for who, cn in (("server", "localhost"), ("client", "dicetest-client")):
        pem, key = certs / f"{who}.pem", certs / f"{who}.key"
        if pem.exists() and key.exists():
            continue
        print(f"==> generating P-256 certificate {pem}")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", str(key), "-out", str(pem), "-days", "36500", "-sha256",
             "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}"],
            check=True, capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", choices=[*SCENARIOS, "all"])
    ap.add_argument("--out", type=Path, default=Path("vectors/transcripts"))
    ap.add_argument("--live-capture", action="store_true",
                    help="also capture loopback with tshark while recording and check it decrypts")
    ap.add_argument("--verify", nargs="+", type=Path, metavar="TOML",
                    help="only check that tshark decrypts these recorded vectors")
    args = ap.parse_args()
    if args.verify:
        for path in args.verify:
            print(f"==> {path}")
            check_vector(path)
        return 0
    if not args.scenario:
        ap.error("name a scenario or use --verify")
    args.out.mkdir(parents=True, exist_ok=True)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    for name in names:
        sc = SCENARIOS[name]
        if not sc.psk:
            ensure_certs(args.out / "certs")
        record(sc, args.out, args.out / "certs", args.live_capture)
    return 0


if __name__ == "__main__":
    sys.exit(main())
