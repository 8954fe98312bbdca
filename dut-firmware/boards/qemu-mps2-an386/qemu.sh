#!/bin/sh
# Starts the QEMU board image with its coaps port forwarded to 127.0.0.1:PORT on the host.
# Used by profiles/qemu-mps2-an386.yaml; build the image first (README "QEMU board").
#
#   dut-firmware/boards/qemu-mps2-an386/qemu.sh PORT [ELF]
#
# -nic user: QEMU's user-mode network (10.0.2.0/24; the host appears as 10.0.2.2), with
# one UDP forward. Not `restrict=on`: in QEMU 7.2 that also drops the guest's replies on
# a UDP host forward, so no handshake completes. The firmware sends only to peers that
# wrote to it.
set -eu
port="${1:?usage: qemu.sh PORT [ELF]}"
here="$(cd "$(dirname "$0")" && pwd)"
elf="${2:-$here/target/thumbv7em-none-eabihf/release/dut-qemu}"
if [ ! -f "$elf" ]; then
    echo "qemu.sh: no firmware image at $elf; build it: (cd $here && ../../../scripts/install-firmware-toolchain.sh --cargo build --release)" >&2
    exit 2
fi
exec qemu-system-arm -M mps2-an386 -nographic -monitor none \
    -nic "user,hostfwd=udp:127.0.0.1:$port-:5684" -kernel "$elf"
