#!/usr/bin/env python3
"""aiocoap's command-line client (aiocoap.cli.client, what `aiocoap-client` runs) with its
PSK read from a key file, for dicetest's shipped profile `aiocoap`.

    client.py --pskfile FILE [aiocoap-client options...] URI

FILE holds one line "identity:hexkey" (dicetest's {pskfile}). aiocoap-client itself takes
its credentials from a JSON file named on its command line; the key would then have to sit
in a second file (or, as before, in a shell command line that any process listing shows).
Here the credentials go straight into the client's context, in memory: the key appears in
no command line and in no file but the caller's private key file. Everything after
--pskfile FILE is aiocoap-client's own arguments; the credentials apply to the URI's
scheme, host and port.
"""

import sys
from pathlib import Path

import aiocoap.cli.client as cli


def main(argv):
    if len(argv) < 3 or argv[0] != "--pskfile":
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    keyfile, rest = argv[1], argv[2:]
    try:
        line = Path(keyfile).read_text().strip().splitlines()[0]
        identity, key = line.rsplit(":", 1)
        bytes.fromhex(key)
    except (OSError, IndexError, ValueError):
        # Never echo the line: it holds the key.
        print(f"client.py: {keyfile}: not one line 'identity:hexkey'", file=sys.stderr)
        return 2
    uri = rest[-1]
    pattern = "/".join(uri.split("/")[:3]) + "/*"
    creds = {pattern: {"dtls": {"psk": {"hex": key}, "client-identity": {"ascii": identity}}}}

    def apply_credentials(context, _path, _errfn):
        context.client_credentials.load_from_dict(creds)

    # aiocoap-client applies credentials only when --credentials names a file; the name is
    # a placeholder that is never opened.
    cli.apply_credentials = apply_credentials
    cli.sync_main(["--credentials", "from-pskfile.json", *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
