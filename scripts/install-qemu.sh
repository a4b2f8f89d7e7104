#!/usr/bin/env bash
# Installs what the firmware example needs to run on a machine without a board:
#   - qemu-system-arm from bookworm-backports (10.x). Bookworm's own 7.2 would also run the
#     firmware, but installing it removes the machine's qemu-utils 10.x (version conflict).
#   - qemu-system-riscv from the same place, for qemu-system-riscv32 (the RISC-V firmware).
#   - binutils-arm-none-eabi, for `arm-none-eabi-size` (flash/RAM of the firmware).
#
# backports is not in the machine's apt sources. We do not add it for good: a temporary
# source list (same mirror as /etc/apt/sources.list.d/debian.sources, read at run time — no
# mirror host is written into this repository) with its own lists directory is handed to
# apt-get for this one install, and removed afterwards.
#
# Idempotent: does nothing when both tools are already there. Needs root (or sudo).
set -euo pipefail

need_qemu=1
need_riscv=1
need_size=1
command -v qemu-system-arm >/dev/null 2>&1 && need_qemu=0
command -v qemu-system-riscv32 >/dev/null 2>&1 && need_riscv=0
command -v arm-none-eabi-size >/dev/null 2>&1 && need_size=0
if [[ $need_qemu == 0 && $need_riscv == 0 && $need_size == 0 ]]; then
    echo "install-qemu: $(qemu-system-arm --version | head -n1); qemu-system-riscv32 and" \
        "arm-none-eabi-size present"
    exit 0
fi

SUDO=""
if [[ $(id -u) != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-qemu: need root (or sudo) to install packages" >&2
        exit 1
    fi
fi

SOURCES=/etc/apt/sources.list.d/debian.sources
if [[ ! -r $SOURCES ]]; then
    echo "install-qemu: $SOURCES not found; install qemu-system-arm (>= 7.2) and" >&2
    echo "              binutils-arm-none-eabi with your package manager" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial"
chmod 755 "$tmp"   # apt's download user (_apt) must be able to reach the lists directory

# Turn the deb822 stanzas of debian.sources into one-line entries, and add
# bookworm-backports on the mirror of the stanza that carries `bookworm`.
awk -v out="$tmp/sources.list" '
    function flush() {
        if (uris != "" && suites != "") {
            n = split(uris, u, " "); m = split(suites, s, " ")
            opt = (signed != "") ? "[signed-by=" signed "] " : ""
            for (i = 1; i <= n; i++) {
                for (j = 1; j <= m; j++) {
                    print "deb " opt u[i] " " s[j] " " comps > out
                    if (s[j] == "bookworm") print "deb " opt u[i] " bookworm-backports " comps > out
                }
            }
        }
        uris = ""; suites = ""; comps = "main"; signed = ""
    }
    BEGIN { comps = "main" }
    /^[[:space:]]*#/ { next }
    /^[[:space:]]*$/ { flush(); next }
    /^URIs:/       { sub(/^URIs:[[:space:]]*/, "");       uris = $0 }
    /^Suites:/     { sub(/^Suites:[[:space:]]*/, "");     suites = $0 }
    /^Components:/ { sub(/^Components:[[:space:]]*/, ""); comps = $0 }
    /^Signed-By:/  { sub(/^Signed-By:[[:space:]]*/, "");  signed = $0 }
    END { flush() }
' "$SOURCES"

if ! grep -q ' bookworm-backports ' "$tmp/sources.list"; then
    echo "install-qemu: no bookworm suite in $SOURCES; install qemu-system-arm yourself" >&2
    exit 1
fi

APT_OPTS=(
    -o "Dir::Etc::sourcelist=$tmp/sources.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::lists=$tmp/lists"
    -o "APT::Get::List-Cleanup=0"
)

echo "install-qemu: apt-get update (temporary source list with bookworm-backports)"
$SUDO apt-get "${APT_OPTS[@]}" -qq update

pkgs=()
if [[ $need_qemu == 1 ]]; then
    pkgs+=("qemu-system-arm")
fi
if [[ $need_riscv == 1 ]]; then
    pkgs+=("qemu-system-riscv")
fi
if [[ $need_size == 1 ]]; then
    pkgs+=("binutils-arm-none-eabi")
fi
echo "install-qemu: apt-get install ${pkgs[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" -y -qq \
    -t bookworm-backports --no-install-recommends install "${pkgs[@]}"

qemu-system-arm --version | head -n1
qemu-system-riscv32 --version | head -n1
arm-none-eabi-size --version | head -n1
