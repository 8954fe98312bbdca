#!/usr/bin/env bash
# Runs the Bouncy Castle DTLS 1.2 peer: peers/bc/run.sh server|client ARGS...
# Builds it first when needed; build.sh prints only the class directory on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$("$here/build.sh")"
exec java -cp "$out:/usr/share/java/bctls.jar:/usr/share/java/bcprov.jar:/usr/share/java/bcutil.jar" DtlsPeer "$@"
