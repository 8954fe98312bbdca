#!/usr/bin/env python3
"""Checks every vector file in this folder without the Rust crate.

Each kind is recomputed from its inputs with Python's hashlib/hmac and
pyca/cryptography, so a published value that was mistyped, or a computed
value that only the Rust crate agrees with, is caught here. Run:

    pip install cryptography   # 44 or newer for the RFC 6979 signing check
    python3 vectors/crypto/independent_check.py

Exits non-zero if any vector disagrees.
"""

import hashlib
import hmac
import pathlib
import sys
import tomllib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM


def h(value):
    return bytes.fromhex("".join(value.split()))


def p_sha256(secret, seed, n):
    """RFC 5246 §5 P_hash, written from the text."""
    out, a = b"", seed
    while len(out) < n:
        a = hmac.new(secret, a, hashlib.sha256).digest()
        out += hmac.new(secret, a + seed, hashlib.sha256).digest()
    return out[:n]


def prf(secret, label, seed, n):
    return p_sha256(secret, label + seed, n)


def psk_premaster(psk):
    """RFC 4279 §2."""
    n = len(psk).to_bytes(2, "big")
    return n + bytes(len(psk)) + n + psk


SUITES = {
    # name: (mac_key_len, enc_key_len, fixed_iv_len)
    "TLS_PSK_WITH_AES_128_CCM_8": (0, 16, 4),
    "TLS_PSK_WITH_AES_128_CCM": (0, 16, 4),
    "TLS_PSK_WITH_AES_128_CBC_SHA256": (32, 16, 0),
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8": (0, 16, 4),
}


def dtls_seal(kind, v):
    """RFC 6347 §4.1.2.1 + RFC 6655 §3 (CCM) / RFC 5246 §6.2.3.2 (CBC)."""
    seq_num = v["epoch"].to_bytes(2, "big") + v["sequence_number"].to_bytes(6, "big")
    pt = h(v["plaintext"])
    header = seq_num + bytes([v["content_type"]]) + h(v["version"]) + len(pt).to_bytes(2, "big")
    explicit = h(v["explicit"])
    if kind in ("dtls-ccm8-record", "dtls-ccm-record"):
        tag = 8 if kind == "dtls-ccm8-record" else 16
        nonce = h(v["iv"]) + explicit
        assert len(nonce) == 12
        return explicit + AESCCM(h(v["key"]), tag_length=tag).encrypt(nonce, pt, header)
    mac = hmac.new(h(v["mac_key"]), header + pt, hashlib.sha256).digest()
    pad = (16 - (len(pt) + 32 + 1) % 16) % 16
    content = pt + mac + bytes([pad]) * (pad + 1)
    enc = Cipher(algorithms.AES(h(v["key"])), modes.CBC(explicit)).encryptor()
    return explicit + enc.update(content) + enc.finalize()


def check(kind, v):
    if kind == "aes128":
        enc = Cipher(algorithms.AES(h(v["key"])), modes.ECB()).encryptor()
        return enc.update(h(v["plaintext"])) + enc.finalize() == h(v["ciphertext"])
    if kind == "aes-ccm":
        ccm = AESCCM(h(v["key"]), tag_length=v["tag_len"])
        return ccm.encrypt(h(v["nonce"]), h(v["plaintext"]), h(v["aad"])) == h(v["ciphertext"])
    if kind == "hmac-sha256":
        mac = hmac.new(h(v["key"]), h(v["data"]), hashlib.sha256).digest()
        n = v.get("truncated_bits", 256) // 8
        return mac[:n] == h(v["mac"])
    if kind == "tls12-prf-sha256":
        out = h(v["output"])
        return prf(h(v["secret"]), v["label"].encode(), h(v["seed"]), len(out)) == out
    if kind == "psk-premaster":
        ok = True
        pms = psk_premaster(h(v["psk"]))
        ok &= pms == h(v["premaster"])
        master = None
        if "master_secret" in v:
            cr, sr = h(v["client_random"]), h(v["server_random"])
            master = prf(pms, b"master secret", cr + sr, 48)
            ok &= master == h(v["master_secret"])
        if "extended_master_secret" in v:
            master = prf(pms, b"extended master secret", h(v["session_hash"]), 48)
            ok &= master == h(v["extended_master_secret"])
        if "key_block" in v:
            kb = h(v["key_block"])
            mac, key, iv = SUITES[v["suite"]]
            ok &= len(kb) == 2 * (mac + key + iv)
            seed = h(v["server_random"]) + h(v["client_random"])
            ok &= prf(master, b"key expansion", seed, len(kb)) == kb
        for side in ("client", "server"):
            if f"{side}_verify_data" in v:
                label = f"{side} finished".encode()
                vd = prf(master, label, h(v["handshake_hash"]), 12)
                ok &= vd == h(v[f"{side}_verify_data"])
        return ok
    if kind in ("dtls-ccm8-record", "dtls-ccm-record", "dtls-cbc-sha256-record"):
        return dtls_seal(kind, v) == h(v["fragment"])
    if kind == "ecdh-p256":
        key = ec.derive_private_key(int(v["private"], 16), ec.SECP256R1())
        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), h(v["peer_public"]))
        return public == h(v["public"]) and key.exchange(ec.ECDH(), peer) == h(v["shared"])
    if kind == "ecdsa-p256-sha256":
        key = ec.derive_private_key(int(v["private"], 16), ec.SECP256R1())
        pub = key.public_key()
        public = pub.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        r, s = int(v["r"], 16), int(v["s"], 16)
        sig = encode_dss_signature(r, s)
        pub.verify(sig, h(v["message"]), ec.ECDSA(hashes.SHA256()))  # raises if bad
        ok = public == h(v["public"])
        if v.get("rfc6979", True):
            try:
                algo = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
            except TypeError:
                print("  (cryptography too old for RFC 6979 signing; verify only)")
            else:
                ok &= decode_dss_signature(key.sign(h(v["message"]), algo)) == (r, s)
        return ok
    raise ValueError(f"unknown kind {kind}")


def main():
    here = pathlib.Path(__file__).resolve().parent
    total = failed = 0
    for path in sorted(here.glob("*.toml")):
        data = tomllib.loads(path.read_text())
        assert data["source"].strip(), f"{path.name}: empty source"
        for v in data["vector"]:
            total += 1
            try:
                ok = check(data["kind"], v)
            except Exception as e:  # noqa: BLE001 - report and go on
                ok = False
                print(f"  {path.name}: {v['name']}: {type(e).__name__}: {e}")
            if not ok:
                failed += 1
                print(f"FAIL {path.name}: {v['name']}")
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
