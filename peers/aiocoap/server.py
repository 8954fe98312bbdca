#!/usr/bin/env python3
"""A CoAP-over-DTLS server of ours on aiocoap (PyPI aiocoap[tinydtls]: DTLS 1.2 through
DTLSSocket, which wraps tinydtls), for dicetest's shipped profile `aiocoap-server`.

Resources: /light (text/plain "on" or "off"; GET reads it, PUT of "on"/"off" sets it and
answers 2.04, any other payload 4.00) and aiocoap's own /.well-known/core (RFC 6690).

    server.py --port PORT --pskfile FILE      FILE holds one line "identity:hexkey";
                                              coaps is served on PORT + 1 (aiocoap's rule)

The key is read from a file so that it never shows in a process listing. Prints
"READY <port>" once bound.
"""

import argparse
import asyncio
import os
import sys

# aiocoap serves coaps only when asked to: its DTLS server transport is experimental and
# bound to one address.
os.environ.setdefault("AIOCOAP_SERVER_TRANSPORT", "tinydtls_server")

import aiocoap  # noqa: E402
import aiocoap.resource as resource  # noqa: E402
from aiocoap.credentials import CredentialsMap  # noqa: E402


class Light(resource.Resource):
    def __init__(self):
        super().__init__()
        self.state = b"off"

    async def render_get(self, request):
        return aiocoap.Message(payload=self.state, content_format=0)

    async def render_put(self, request):
        # The resource takes text/plain only (RFC 7252 §5.10.3: 4.15 for another format).
        if request.opt.content_format not in (None, 0):
            return aiocoap.Message(code=aiocoap.UNSUPPORTED_CONTENT_FORMAT)
        if request.payload not in (b"on", b"off"):
            return aiocoap.Message(code=aiocoap.BAD_REQUEST)
        self.state = request.payload
        return aiocoap.Message(code=aiocoap.CHANGED)


def credentials(path):
    with open(path) as f:
        identity, key = f.read().strip().split(":", 1)
    creds = CredentialsMap()
    creds.load_from_dict(
        {
            ":client": {
                "dtls": {
                    "psk": {"hex": key},
                    "client-identity": {"ascii": identity},
                }
            }
        }
    )
    return creds


async def main(args):
    root = resource.Site()
    root.add_resource([".well-known", "core"], resource.WKCResource(root.get_resources_as_linkheader))
    root.add_resource(["light"], Light())
    await aiocoap.Context.create_server_context(
        root,
        bind=("127.0.0.1", args.port),
        server_credentials=credentials(args.pskfile),
    )
    print(f"READY {args.port + 1}", flush=True)
    await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pskfile", required=True)
    try:
        asyncio.run(main(p.parse_args()))
    except KeyboardInterrupt:
        sys.exit(0)
