#!/usr/bin/env bash
# Compiles the Bouncy Castle DTLS 1.2 peer into peers/build/bc/ (git-ignored). Idempotent:
# recompiles only when DtlsPeer.java is newer than the class file.
# Needs Debian packages: default-jdk-headless libbctls-java libbcprov-java libbcutil-java.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../build/bc"
cp="/usr/share/java/bctls.jar:/usr/share/java/bcprov.jar:/usr/share/java/bcutil.jar"
for jar in ${cp//:/ }; do
    if [ ! -f "$jar" ]; then
        echo "missing $jar: apt-get install -y default-jdk-headless libbctls-java libbcprov-java libbcutil-java" >&2
        exit 1
    fi
done
mkdir -p "$out"
if [ ! -f "$out/DtlsPeer.class" ] || [ "$here/DtlsPeer.java" -nt "$out/DtlsPeer.class" ]; then
    javac -Xlint:all,-path -Werror -cp "$cp" -d "$out" "$here/DtlsPeer.java"
fi
echo "$(cd "$out" && pwd)"
