#!/usr/bin/env python3
"""Captures DTLS 1.2 PSK handshakes between OpenSSL's s_client and s_server
on loopback and writes the openssl-*.toml vector files from them.

These are third-party known answers for the parts no document publishes:
the extended/plain master secret comes from OpenSSL's -keylogfile, the
record fragments and Finished messages are OpenSSL's bytes on the wire.
Python (independent_check.py helpers and pyca/cryptography) only derives
the key block and decrypts; every decryption must authenticate, and every
master secret and verify_data must match what Python recomputes from the
PSK, or the script stops. Each run draws new randoms, so the files change.

    python3 vectors/crypto/capture_openssl.py      # needs the openssl CLI

Runs four sessions: PSK-AES128-CCM8, PSK-AES128-CCM and
PSK-AES128-CBC-SHA256 (without encrypt-then-MAC) with extended master
secret, and PSK-AES128-CCM8 with extended master secret turned off.
"""

import hashlib
import hmac
import os
import pathlib
import select
import socket
import subprocess
import tempfile
import threading
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from compute_vectors import write
from independent_check import SUITES, prf, psk_premaster

HERE = pathlib.Path(__file__).resolve().parent
PSK = bytes(range(1, 17))
NO_EMS_CONF = """openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Options = -ExtendedMasterSecret
"""


def openssl_version():
    return subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split()[1]


def capture(cipher, extra, env, workdir, port):
    """Runs one handshake plus one application record each way through a
    relay; returns (datagrams, keylog text)."""
    keylog = os.path.join(workdir, f"keylog-{port}")
    common = ["-dtls1_2", "-psk", PSK.hex(), "-cipher", cipher + "@SECLEVEL=0", "-quiet", *extra]
    srv = subprocess.Popen(
        ["openssl", "s_server", "-accept", str(port), "-nocert", "-naccept", "1", *common],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    time.sleep(0.5)
    relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    relay.bind(("127.0.0.1", port + 1))
    upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    upstream.connect(("127.0.0.1", port))
    datagrams, state = [], {"client": None, "stop": False}

    def forward():
        while not state["stop"]:
            ready, _, _ = select.select([relay, upstream], [], [], 0.1)
            for s in ready:
                if s is relay:
                    d, state["client"] = relay.recvfrom(65536)
                    datagrams.append(("client", d))
                    upstream.send(d)
                else:
                    d = upstream.recv(65536)
                    datagrams.append(("server", d))
                    relay.sendto(d, state["client"])

    t = threading.Thread(target=forward)
    t.start()
    cli = subprocess.Popen(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port + 1}", "-keylogfile", keylog,
         *common],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    time.sleep(1.0)
    cli.stdin.write(b"hello from the OpenSSL client\n")
    cli.stdin.flush()
    time.sleep(0.5)
    srv.stdin.write(b"and back from the OpenSSL server\n")
    srv.stdin.flush()
    time.sleep(0.5)
    for p in (cli, srv):
        p.terminate()
        p.wait()
    state["stop"] = True
    t.join()
    relay.close()
    upstream.close()
    with open(keylog) as f:
        return datagrams, f.read()


def records(datagrams):
    """Splits datagrams into DTLS records (RFC 6347 §4.1)."""
    out = []
    for direction, d in datagrams:
        while len(d) >= 13:
            n = int.from_bytes(d[11:13], "big")
            out.append({
                "dir": direction, "type": d[0], "version": d[1:3],
                "epoch": int.from_bytes(d[3:5], "big"), "seq": int.from_bytes(d[5:11], "big"),
                "fragment": d[13:13 + n],
            })
            d = d[13 + n:]
    return out


def session(cipher, suite, ems, workdir, port):
    env = dict(os.environ)
    if not ems:
        conf = os.path.join(workdir, "no-ems.cnf")
        pathlib.Path(conf).write_text(NO_EMS_CONF)
        env["OPENSSL_CONF"] = conf
    extra = ["-no_etm"] if "CBC" in suite else []
    datagrams, keylog = capture(cipher, extra, env, workdir, port)
    recs = records(datagrams)

    # Handshake messages of epoch 0, unfragmented on loopback.
    msgs = []
    for r in recs:
        if r["epoch"] == 0 and r["type"] == 22:
            f = r["fragment"]
            while len(f) >= 12:
                length = int.from_bytes(f[1:4], "big")
                assert f[6:9] == b"\0\0\0" and f[9:12] == f[1:4], "fragmented handshake"
                msgs.append((f[0], f[:12 + length]))
                f = f[12 + length:]
    client_random = [m[14:46] for t, m in msgs if t == 1][-1]
    server_random = [m[14:46] for t, m in msgs if t == 2][0]
    # RFC 6347 §4.2.6: the first ClientHello and HelloVerifyRequest are not hashed.
    hvr = [i for i, (t, _) in enumerate(msgs) if t == 3]
    if hvr:
        msgs = msgs[hvr[0] + 1:]
    types = [t for t, _ in msgs]
    upto_cke = b"".join(m for _, m in msgs[: types.index(16) + 1])

    line = next(l.split() for l in keylog.splitlines() if l.startswith("CLIENT_RANDOM"))
    assert bytes.fromhex(line[1]) == client_random
    master = bytes.fromhex(line[2])
    pms = psk_premaster(PSK)
    session_hash = hashlib.sha256(upto_cke).digest()
    if ems:
        assert prf(pms, b"extended master secret", session_hash, 48) == master
    else:
        assert prf(pms, b"master secret", client_random + server_random, 48) == master

    mac, key, iv = SUITES[suite]
    kb = prf(master, b"key expansion", server_random + client_random, 2 * (mac + key + iv))
    parts, off = {}, 0
    for name, n in (("client_mac", mac), ("server_mac", mac), ("client_key", key),
                    ("server_key", key), ("client_iv", iv), ("server_iv", iv)):
        parts[name], off = kb[off:off + n], off + n

    opened = []
    for r in recs:
        if r["epoch"] != 1:
            continue
        w, frag = r["dir"], r["fragment"]
        seq_num = r["epoch"].to_bytes(2, "big") + r["seq"].to_bytes(6, "big")
        if "CBC" in suite:
            explicit = frag[:16]
            dec = Cipher(algorithms.AES(parts[f"{w}_key"]), modes.CBC(explicit)).decryptor()
            content = dec.update(frag[16:]) + dec.finalize()
            pad = content[-1]
            assert content[-pad - 1:] == bytes([pad]) * (pad + 1)
            pt = content[: len(content) - pad - 1 - 32]
            header = seq_num + bytes([r["type"]]) + r["version"] + len(pt).to_bytes(2, "big")
            expected = hmac.new(parts[f"{w}_mac"], header + pt, hashlib.sha256).digest()
            assert content[len(pt):len(pt) + 32] == expected
        else:
            tag = 8 if suite.endswith("CCM_8") else 16
            explicit = frag[:8]
            n = len(frag) - 8 - tag
            header = seq_num + bytes([r["type"]]) + r["version"] + n.to_bytes(2, "big")
            pt = AESCCM(parts[f"{w}_key"], tag_length=tag).decrypt(
                parts[f"{w}_iv"] + explicit, frag[8:], header)
        opened.append(dict(r, plaintext=pt, explicit=explicit))

    client_fin = next(o["plaintext"] for o in opened if o["dir"] == "client" and o["type"] == 22)
    server_fin = next(o["plaintext"] for o in opened if o["dir"] == "server" and o["type"] == 22)
    tickets = b"".join(m for t, m in msgs if t == 4)
    h_client = hashlib.sha256(upto_cke).digest()
    h_server = hashlib.sha256(upto_cke + client_fin + tickets).digest()
    assert prf(master, b"client finished", h_client, 12) == client_fin[12:]
    assert prf(master, b"server finished", h_server, 12) == server_fin[12:]

    base = {"psk": PSK, "premaster": pms, "client_random": client_random,
            "server_random": server_random}
    if ems:
        base.update({"session_hash": session_hash, "extended_master_secret": master})
    else:
        base["master_secret"] = master
    label = f"OpenSSL {cipher}{'' if ems else ', no extended master secret'}"
    schedule = [
        dict(name=f"{label}: key block and client Finished", **base, suite=suite,
             key_block=kb, handshake_hash=h_client, client_verify_data=client_fin[12:]),
        dict(name=f"{label}: server Finished (hash includes NewSessionTicket)", **base,
             handshake_hash=h_server, server_verify_data=server_fin[12:]),
    ]
    record_vectors = []
    for o in opened:
        w = o["dir"]
        v = {"name": f"{label}: {w} {'Finished' if o['type'] == 22 else 'application data'}, "
                     f"epoch {o['epoch']} seq {o['seq']}",
             "key": parts[f"{w}_key"]}
        if parts[f"{w}_iv"]:
            v["iv"] = parts[f"{w}_iv"]
        if parts[f"{w}_mac"]:
            v["mac_key"] = parts[f"{w}_mac"]
        v.update(epoch=o["epoch"], sequence_number=o["seq"], content_type=o["type"],
                 version=o["version"], explicit=o["explicit"], plaintext=o["plaintext"],
                 fragment=o["fragment"])
        record_vectors.append(v)
    return schedule, record_vectors


def main():
    version = openssl_version()
    source = (f"Captured from OpenSSL {version} s_client <-> s_server, DTLS 1.2 with a 16-byte "
              "PSK on loopback, by capture_openssl.py: master secrets from OpenSSL's "
              "-keylogfile, fragments and Finished messages from the wire")
    runs = [
        ("PSK-AES128-CCM8", "TLS_PSK_WITH_AES_128_CCM_8", True),
        ("PSK-AES128-CCM", "TLS_PSK_WITH_AES_128_CCM", True),
        ("PSK-AES128-CBC-SHA256", "TLS_PSK_WITH_AES_128_CBC_SHA256", True),
        ("PSK-AES128-CCM8", "TLS_PSK_WITH_AES_128_CCM_8", False),
    ]
    schedules, recs = [], {}
    with tempfile.TemporaryDirectory() as workdir:
        for i, (cipher, suite, ems) in enumerate(runs):
            s, r = session(cipher, suite, ems, workdir, 24430 + 10 * i)
            schedules += s
            recs.setdefault(suite, []).extend(r)
    checked = ("every value re-derived by capture_openssl.py from the PSK in Python and "
               "matched against OpenSSL; independent_check.py recomputes them")
    write("openssl-psk-key-schedule.toml", f'''
# The PSK key schedule as OpenSSL runs it: premaster from the PSK, the
# (extended) master secret OpenSSL logged, the key block, and the
# verify_data OpenSSL put in its Finished messages. The DTLS handshake hash
# skips the first ClientHello and HelloVerifyRequest (RFC 6347 §4.2.6).
source = "{source}"
kind = "psk-premaster"
checked_by = "{checked}"
''', schedules)
    for suite, kind, fname in [
        ("TLS_PSK_WITH_AES_128_CCM_8", "dtls-ccm8-record", "openssl-dtls-ccm8-record.toml"),
        ("TLS_PSK_WITH_AES_128_CCM", "dtls-ccm-record", "openssl-dtls-ccm-record.toml"),
        ("TLS_PSK_WITH_AES_128_CBC_SHA256", "dtls-cbc-sha256-record",
         "openssl-dtls-cbc-sha256-record.toml"),
    ]:
        write(fname, f'''
# DTLS 1.2 records of {suite} as OpenSSL sent them: `fragment` is the
# record body on the wire; keys are cut from the key block derived from
# OpenSSL's logged master secret (openssl-psk-key-schedule.toml).
source = "{source}"
kind = "{kind}"
checked_by = "{checked}"
''', recs[suite])


if __name__ == "__main__":
    main()
