#!/usr/bin/env python3
"""Writes the computed vector files of this folder.

No published known answers exist for the TLS 1.2 PSK key schedule or for
whole DTLS 1.2 records, so these files are computed here, from the RFC text,
with Python's hashlib/hmac and pyca/cryptography: independently of the Rust
crate they check. Inputs are fixed; rerunning gives the same files.

    python3 vectors/crypto/compute_vectors.py
"""

import hashlib
import pathlib

from cryptography import __version__ as pyca_version

from independent_check import SUITES, dtls_seal, prf, psk_premaster

HERE = pathlib.Path(__file__).resolve().parent
HOW = (
    f"computed with Python {{py}} hashlib/hmac and pyca/cryptography {pyca_version} "
    "by compute_vectors.py, independent of this crate"
)


def sha(text):
    return hashlib.sha256(text.encode()).digest()


def key_block(master, cr, sr, suite):
    mac, key, iv = SUITES[suite]
    kb = prf(master, b"key expansion", sr + cr, 2 * (mac + key + iv))
    parts, off = [], 0
    for n in (mac, mac, key, key, iv, iv):
        parts.append(kb[off : off + n])
        off += n
    names = ("client_mac", "server_mac", "client_key", "server_key", "client_iv", "server_iv")
    return kb, dict(zip(names, parts))


def toml_value(v):
    if isinstance(v, bytes):
        return f'"{v.hex()}"'
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(v)


def write(name, header, vectors):
    lines = [header.strip() + "\n"]
    for v in vectors:
        lines.append("\n[[vector]]\n")
        for k, val in v.items():
            lines.append(f"{k} = {toml_value(val)}\n")
    (HERE / name).write_text("".join(lines))


def main():
    import platform

    how = HOW.format(py=platform.python_version())
    cr1, sr1 = sha("dicetest client random 1"), sha("dicetest server random 1")
    cr2, sr2 = sha("dicetest client random 2"), sha("dicetest server random 2")

    # ---- PSK key schedule -------------------------------------------------
    schedule = []
    keys = {}

    psk = b"secretPSK"
    pms = psk_premaster(psk)
    ms = prf(pms, b"master secret", cr1 + sr1, 48)
    kb, keys["ccm8"] = key_block(ms, cr1, sr1, "TLS_PSK_WITH_AES_128_CCM_8")
    hh = sha("dicetest handshake messages 1")
    schedule.append({
        "name": "PSK \"secretPSK\", TLS_PSK_WITH_AES_128_CCM_8 key block and Finished",
        "psk": psk, "premaster": pms, "client_random": cr1, "server_random": sr1,
        "master_secret": ms, "suite": "TLS_PSK_WITH_AES_128_CCM_8", "key_block": kb,
        "handshake_hash": hh,
        "client_verify_data": prf(ms, b"client finished", hh, 12),
        "server_verify_data": prf(ms, b"server finished", hh, 12),
    })
    client_finished_v1 = prf(ms, b"client finished", hh, 12)

    psk = bytes(range(1, 17))
    pms = psk_premaster(psk)
    ms = prf(pms, b"master secret", cr2 + sr2, 48)
    kb, keys["cbc"] = key_block(ms, cr2, sr2, "TLS_PSK_WITH_AES_128_CBC_SHA256")
    schedule.append({
        "name": "16-byte PSK, TLS_PSK_WITH_AES_128_CBC_SHA256 key block (MAC keys, no IVs)",
        "psk": psk, "premaster": pms, "client_random": cr2, "server_random": sr2,
        "master_secret": ms, "suite": "TLS_PSK_WITH_AES_128_CBC_SHA256", "key_block": kb,
    })

    psk = sha("dicetest psk 3")
    pms = psk_premaster(psk)
    session_hash = sha("dicetest session hash 3")
    ems = prf(pms, b"extended master secret", session_hash, 48)
    kb, keys["ccm"] = key_block(ems, cr1, sr2, "TLS_PSK_WITH_AES_128_CCM")
    hh = sha("dicetest handshake messages 3")
    schedule.append({
        "name": "32-byte PSK with extended master secret (RFC 7627), TLS_PSK_WITH_AES_128_CCM key block and Finished",
        "psk": psk, "premaster": pms, "client_random": cr1, "server_random": sr2,
        "session_hash": session_hash, "extended_master_secret": ems,
        "suite": "TLS_PSK_WITH_AES_128_CCM", "key_block": kb, "handshake_hash": hh,
        "client_verify_data": prf(ems, b"client finished", hh, 12),
        "server_verify_data": prf(ems, b"server finished", hh, 12),
    })

    psk = b"\x5a"
    schedule.append({
        "name": "1-byte PSK, premaster only",
        "psk": psk, "premaster": psk_premaster(psk),
    })

    psk = bytes(range(64))
    pms = psk_premaster(psk)
    schedule.append({
        "name": "64-byte PSK, master secret",
        "psk": psk, "premaster": pms, "client_random": cr2, "server_random": sr1,
        "master_secret": prf(pms, b"master secret", cr2 + sr1, 48),
    })

    write("psk-key-schedule.toml", f'''
# The TLS 1.2 plain-PSK key schedule as DTLS 1.2 uses it: premaster secret
# (RFC 4279 §2: uint16 N, N zero bytes, uint16 N, psk), master secret
# (RFC 5246 §8.1, client random first), extended master secret (RFC 7627 §4),
# key block (RFC 5246 §6.3, server random first) and Finished verify_data
# (RFC 5246 §7.4.9). No published vectors exist; these are computed. The
# random values are SHA-256 of fixed strings (see compute_vectors.py).
# key_block and verify_data use the extended master secret where one is
# given, else the master secret.
source = "Computed from RFC 4279 §2, RFC 5246 §5, §6.3, §7.4.9, §8.1 and RFC 7627 §4 ({how})"
kind = "psk-premaster"
checked_by = "independent_check.py recomputes every value in Python"
''', schedule)

    # ---- DTLS records ------------------------------------------------------
    def record(name, suite_keys, writer, epoch, seq, ctype, plaintext, explicit=None,
               suite=None, version=b"\xfe\xfd"):
        k = keys[suite_keys]
        v = {"name": name}
        if suite:
            v["suite"] = suite
        v["key"] = k[f"{writer}_key"]
        if k[f"{writer}_iv"]:
            v["iv"] = k[f"{writer}_iv"]
        if k[f"{writer}_mac"]:
            v["mac_key"] = k[f"{writer}_mac"]
        v.update({
            "epoch": epoch, "sequence_number": seq, "content_type": ctype, "version": version,
            "explicit": explicit if explicit is not None
            else epoch.to_bytes(2, "big") + seq.to_bytes(6, "big"),
            "plaintext": plaintext,
        })
        return v

    def finish(kind, vectors):
        for v in vectors:
            v["fragment"] = dtls_seal(kind, {
                key: (val.hex() if isinstance(val, bytes) else val) for key, val in v.items()
            })
        return vectors

    # A DTLS client Finished: msg_type 20, length 12, message_seq 4,
    # fragment_offset 0, fragment_length 12 (RFC 6347 §4.2.2), then verify_data.
    finished = bytes([20, 0, 0, 12, 0, 4, 0, 0, 0, 0, 0, 12]) + client_finished_v1
    ccm8 = finish("dtls-ccm8-record", [
        record("client Finished, epoch 1 seq 0, keys of psk-key-schedule vector 1", "ccm8",
               "client", 1, 0, 22, finished),
        record("server application data, epoch 1 seq 1", "ccm8", "server", 1, 1, 23,
               b"hello from dicetest"),
        record("empty application data record", "ccm8", "client", 1, 2, 23, b""),
        record("close_notify alert at the largest epoch and sequence number", "ccm8", "client",
               0xFFFF, (1 << 48) - 1, 21, bytes([1, 0])),
        record("explicit nonce chosen apart from epoch||seq (RFC 6655 §3 allows it)", "ccm8",
               "server", 2, 0x0102030405, 23, bytes(range(40)),
               explicit=bytes.fromhex("0011223344556677")),
        record("TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 protects records the same way", "ccm8",
               "client", 1, 7, 23, bytes(range(100)),
               suite="TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"),
    ])
    write("dtls-ccm8-record.toml", f'''
# Whole DTLS 1.2 record fragments sealed with AES-128-CCM_8 (8-byte tag).
# nonce = *_write_IV (4 bytes) || explicit nonce (8 bytes); the fragment is
# explicit nonce || ciphertext || tag (RFC 6655 §3); additional data is
# epoch(2) || sequence_number(6) || type || version || plaintext length
# (RFC 5246 §6.2.3.3 with RFC 6347 §4.1.2.1). Keys are cut from the key blocks
# of psk-key-schedule.toml.
source = "Computed from RFC 6347 §4.1.2.1, RFC 6655 §3 and RFC 5246 §6.2.3.3 for TLS_PSK_WITH_AES_128_CCM_8 ({how}; CCM from pyca AESCCM(tag_length=8))"
kind = "dtls-ccm8-record"
checked_by = "independent_check.py reseals every record with pyca/cryptography"
''', ccm8)

    ccm = finish("dtls-ccm-record", [
        record("client application data, epoch 1 seq 0, keys of psk-key-schedule vector 3",
               "ccm", "client", 1, 0, 23, b"GET /.well-known/core"),
        record("server handshake record, epoch 1 seq 5", "ccm", "server", 1, 5, 22,
               bytes(range(200, 256)) + bytes(range(30))),
    ])
    write("dtls-ccm-record.toml", f'''
# DTLS 1.2 record fragments sealed with AES-128-CCM (16-byte tag), laid out
# as for CCM_8 (RFC 6655 §3). Keys from psk-key-schedule.toml vector 3.
source = "Computed from RFC 6347 §4.1.2.1, RFC 6655 §3 and RFC 5246 §6.2.3.3 for TLS_PSK_WITH_AES_128_CCM ({how}; CCM from pyca AESCCM(tag_length=16))"
kind = "dtls-ccm-record"
checked_by = "independent_check.py reseals every record with pyca/cryptography"
''', ccm)

    iv = lambda label: sha(label)[:16]  # noqa: E731 - fixed explicit IVs
    cbc = finish("dtls-cbc-sha256-record", [
        record("empty plaintext: 15 bytes of padding", "cbc", "client", 1, 0, 23, b"",
               explicit=iv("dicetest iv 1")),
        record("15-byte plaintext: padding_length 0", "cbc", "client", 1, 1, 23,
               b"fifteen bytes!!", explicit=iv("dicetest iv 2")),
        record("100-byte server record: padding_length 11", "cbc", "server", 1, 3, 22,
               bytes(range(100)), explicit=iv("dicetest iv 3")),
    ])
    write("dtls-cbc-sha256-record.toml", f'''
# DTLS 1.2 record fragments of TLS_PSK_WITH_AES_128_CBC_SHA256: explicit
# 16-byte IV || AES-128-CBC(plaintext || HMAC-SHA256 || padding), where the
# MAC covers epoch(2) || sequence_number(6) || type || version || length ||
# plaintext and the padding is minimal, every byte holding padding_length
# (RFC 5246 §6.2.3.2 with RFC 6347 §4.1.2.1). Keys from psk-key-schedule.toml
# vector 2; the IVs are the first 16 bytes of SHA-256 of fixed strings.
source = "Computed from RFC 6347 §4.1.2.1 and RFC 5246 §6.2.3.1-6.2.3.2 for TLS_PSK_WITH_AES_128_CBC_SHA256 (RFC 5487) ({how}; AES-CBC from pyca, HMAC from Python hmac)"
kind = "dtls-cbc-sha256-record"
checked_by = "independent_check.py reseals every record in Python"
''', cbc)


if __name__ == "__main__":
    main()
