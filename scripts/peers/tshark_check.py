"""Independent check of a recorded transcript: tshark (Wireshark's dissector, a third
implementation) must decrypt the recorded datagrams, using only the recorded key log
line(s), to exactly the recorded application-data plaintexts.
"""

from __future__ import annotations

import struct
import subprocess
import tempfile
import tomllib
from pathlib import Path

CLIENT = ("127.0.0.1", 40001)
SERVER = ("127.0.0.2", 40002)


def _ipv4_checksum(header: bytes) -> int:
    total = sum(struct.unpack(">10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ip(addr: str) -> bytes:
    return bytes(int(x) for x in addr.split("."))


def write_pcap(path: Path, datagrams: list[tuple[str, bytes]]) -> None:
    """A classic pcap, LINKTYPE_RAW (IPv4), one UDP packet per recorded datagram."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
    for i, (who, payload) in enumerate(datagrams):
        src, dst = (CLIENT, SERVER) if who == "client" else (SERVER, CLIENT)
        udp = struct.pack(">HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
        hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                          _ip(src[0]), _ip(dst[0]))
        hdr = hdr[:10] + struct.pack(">H", _ipv4_checksum(hdr)) + hdr[12:]
        pkt = hdr + udp
        out += struct.pack("<IIII", 1_700_000_000 + i, 0, len(pkt), len(pkt)) + pkt
    path.write_bytes(bytes(out))


def decrypted_app_data(pcap: Path, server_port: int, keylog: str) -> list[tuple[str, str]]:
    """[(from, plaintext)] of every application-data record tshark decrypts."""
    with tempfile.NamedTemporaryFile("w", suffix=".keys") as kl:
        kl.write(keylog + "\n")
        kl.flush()
        res = subprocess.run(
            ["tshark", "-n", "-r", str(pcap), "-o", f"tls.keylog_file:{kl.name}",
             "-d", f"udp.port=={server_port},dtls",
             "-Y", "dtls.record.content_type == 23",
             "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|",
             "-e", "udp.srcport", "-e", "data.data"],
            capture_output=True, text=True, check=True)
    out = []
    for line in res.stdout.splitlines():
        src, _, data = line.partition("\t")
        for chunk in filter(None, data.split("|")):
            who = "server" if int(src) == server_port else "client"
            out.append((who, bytes.fromhex(chunk.replace(":", "")).decode()))
    return out


def verify_pcap(pcap: Path, server_port: int, keylog: list[str] | str,
                expected: list[tuple[str, str]]) -> None:
    if isinstance(keylog, list):
        keylog = "\n".join(keylog)
    got = decrypted_app_data(pcap, server_port, keylog)
    if got != [tuple(x) for x in expected]:
        raise RuntimeError(f"tshark decrypted {got!r}, recorded {expected!r}")


def verify_toml(path: Path) -> None:
    v = tomllib.loads(Path(path).read_text())
    datagrams = [(d["from"], bytes.fromhex(d["hex"])) for d in v["datagram"]]
    expected = [(a["from"], a["text"]) for a in v["application_data"]]
    with tempfile.TemporaryDirectory() as tmp:
        pcap = Path(tmp) / "transcript.pcap"
        write_pcap(pcap, datagrams)
        verify_pcap(pcap, SERVER[1], v["keylog"], expected)
