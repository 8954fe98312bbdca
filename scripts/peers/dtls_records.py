"""Just enough DTLS 1.2 parsing to sanity-check a recorded transcript.

Reads plaintext (epoch 0) records only: the hellos and HelloVerifyRequest. Used by
scripts/record-transcript.py to confirm what the two third-party peers negotiated.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# RFC 5246 §6.2.1 ContentType
CHANGE_CIPHER_SPEC = 20
ALERT = 21
HANDSHAKE = 22
APPLICATION_DATA = 23

# RFC 5246 §7.4 / RFC 6347 §4.3.2 HandshakeType
CLIENT_HELLO = 1
SERVER_HELLO = 2
HELLO_VERIFY_REQUEST = 3

EXT_EXTENDED_MASTER_SECRET = 0x0017  # RFC 7627 §5.1

CIPHER_SUITES = {
    "TLS_PSK_WITH_AES_128_CCM_8": 0xC0A8,  # RFC 6655 §4
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8": 0xC0AE,  # RFC 7251 §2
    "TLS_PSK_WITH_AES_128_CBC_SHA256": 0x00AE,  # RFC 5487 §3.1
}

RECORD_HEADER = 13  # RFC 6347 §4.1: type, version, epoch, sequence_number(48), length
HANDSHAKE_HEADER = 12  # RFC 6347 §4.2.2: type, length(24), message_seq, frag offset/length


def records(datagram: bytes):
    """Yield (content_type, epoch, fragment) for each record in a datagram."""
    pos = 0
    while pos + RECORD_HEADER <= len(datagram):
        ctype = datagram[pos]
        epoch = struct.unpack_from(">H", datagram, pos + 3)[0]
        length = struct.unpack_from(">H", datagram, pos + 11)[0]
        body = datagram[pos + RECORD_HEADER: pos + RECORD_HEADER + length]
        if len(body) != length:
            raise ValueError("record runs past the end of the datagram")
        yield ctype, epoch, body
        pos += RECORD_HEADER + length
    if pos != len(datagram):
        raise ValueError("trailing bytes after the last record")


def record_types(datagram: bytes) -> list[int]:
    try:
        return [t for t, _, _ in records(datagram)]
    except ValueError:
        return []


def plaintext_handshakes(datagram: bytes):
    """Yield (msg_type, body) for unfragmented epoch-0 handshake messages."""
    for ctype, epoch, frag in records(datagram):
        if ctype != HANDSHAKE or epoch != 0:
            continue
        pos = 0
        while pos + HANDSHAKE_HEADER <= len(frag):
            msg_type = frag[pos]
            length = int.from_bytes(frag[pos + 1: pos + 4], "big")
            frag_off = int.from_bytes(frag[pos + 6: pos + 9], "big")
            frag_len = int.from_bytes(frag[pos + 9: pos + 12], "big")
            body = frag[pos + HANDSHAKE_HEADER: pos + HANDSHAKE_HEADER + frag_len]
            if frag_off == 0 and frag_len == length:
                yield msg_type, body
            pos += HANDSHAKE_HEADER + frag_len


def extensions(body: bytes, pos: int) -> dict[int, bytes]:
    out = {}
    if pos + 2 > len(body):
        return out  # RFC 5246 §7.4.1.2: the extension block may be absent
    end = pos + 2 + struct.unpack_from(">H", body, pos)[0]
    pos += 2
    while pos + 4 <= end:
        etype, elen = struct.unpack_from(">HH", body, pos)
        out[etype] = body[pos + 4: pos + 4 + elen]
        pos += 4 + elen
    return out


@dataclass
class Summary:
    client_random: bytes
    cipher_suite: int
    extended_master_secret: bool
    hello_verify_request: bool
    duplicates: int


def summarize(datagrams: list[tuple[str, bytes]]) -> Summary:
    client_random = None
    cipher_suite = None
    ems = False
    hvr = False
    for who, d in datagrams:
        for msg_type, body in plaintext_handshakes(d):
            if who == "client" and msg_type == CLIENT_HELLO:
                client_random = body[2:34]  # after client_version
            elif who == "server" and msg_type == HELLO_VERIFY_REQUEST:
                hvr = True
            elif who == "server" and msg_type == SERVER_HELLO:
                sid_len = body[34]
                pos = 35 + sid_len
                cipher_suite = struct.unpack_from(">H", body, pos)[0]
                exts = extensions(body, pos + 3)  # skip cipher_suite, compression_method
                ems = EXT_EXTENDED_MASTER_SECRET in exts
    if client_random is None or cipher_suite is None:
        raise ValueError("no ClientHello/ServerHello in the recording")
    seen = set()
    dups = 0
    for item in datagrams:
        dups += item in seen
        seen.add(item)
    return Summary(client_random, cipher_suite, ems, hvr, dups)


def handshake_messages(datagrams: list[tuple[str, bytes]]) -> list[tuple[str, int, bytes]]:
    """Reassembled epoch-0 handshake messages as (from, msg_type, message), where
    message is the full DTLS handshake message with fragment_offset 0 and
    fragment_length = length, the form RFC 6347 §4.2.6 hashes. Retransmissions
    (same sender and message_seq) are kept once."""
    frags: dict[tuple[str, int], dict] = {}
    order: list[tuple[str, int]] = []
    for who, d in datagrams:
        for ctype, epoch, frag in records(d):
            if ctype != HANDSHAKE or epoch != 0:
                continue
            pos = 0
            while pos + HANDSHAKE_HEADER <= len(frag):
                msg_type = frag[pos]
                length = int.from_bytes(frag[pos + 1: pos + 4], "big")
                seq = struct.unpack_from(">H", frag, pos + 4)[0]
                off = int.from_bytes(frag[pos + 6: pos + 9], "big")
                flen = int.from_bytes(frag[pos + 9: pos + 12], "big")
                key = (who, seq)
                if key not in frags:
                    frags[key] = {"type": msg_type, "body": bytearray(length), "have": set()}
                    order.append(key)
                m = frags[key]
                m["body"][off: off + flen] = frag[pos + HANDSHAKE_HEADER: pos + HANDSHAKE_HEADER + flen]
                m["have"].update(range(off, off + flen))
                pos += HANDSHAKE_HEADER + flen
    out = []
    for key in order:
        m = frags[key]
        if len(m["have"]) != len(m["body"]):
            raise ValueError(f"handshake message {key} incomplete")
        body = bytes(m["body"])
        header = (bytes([m["type"]]) + len(body).to_bytes(3, "big") + struct.pack(">H", key[1])
                  + (0).to_bytes(3, "big") + len(body).to_bytes(3, "big"))
        out.append((key[0], m["type"], header + body))
    return out


CLIENT_KEY_EXCHANGE = 16


def psk_master_secret(datagrams: list[tuple[str, bytes]], psk: bytes, ems: bool) -> bytes:
    """The master secret a plain-PSK handshake must have produced, from the recorded
    hellos: RFC 4279 §2 premaster secret, then RFC 5246 §8.1 or RFC 7627 §4."""
    import hashlib
    import hmac

    def p_sha256(secret: bytes, seed: bytes, n: int) -> bytes:  # RFC 5246 §5
        out, a = b"", seed
        while len(out) < n:
            a = hmac.new(secret, a, hashlib.sha256).digest()
            out += hmac.new(secret, a + seed, hashlib.sha256).digest()
        return out[:n]

    msgs = handshake_messages(datagrams)
    # RFC 6347 §4.2.6: the ClientHello answered by a HelloVerifyRequest and the
    # HelloVerifyRequest itself stay out of the handshake hash.
    if any(t == HELLO_VERIFY_REQUEST for _, t, _ in msgs):
        first_hvr = next(i for i, (_, t, _) in enumerate(msgs) if t == HELLO_VERIFY_REQUEST)
        msgs = [m for i, m in enumerate(msgs) if i > first_hvr]
    client_random = next(m[12 + 2: 12 + 34] for w, t, m in msgs if t == CLIENT_HELLO)
    server_random = next(m[12 + 2: 12 + 34] for w, t, m in msgs if t == SERVER_HELLO)
    n = len(psk)
    premaster = struct.pack(">H", n) + bytes(n) + struct.pack(">H", n) + psk
    if ems:
        upto = next(i for i, (_, t, _) in enumerate(msgs) if t == CLIENT_KEY_EXCHANGE)
        session_hash = hashlib.sha256(b"".join(m for _, _, m in msgs[: upto + 1])).digest()
        return p_sha256(premaster, b"extended master secret" + session_hash, 48)
    return p_sha256(premaster, b"master secret" + client_random + server_random, 48)
