#!/usr/bin/env bash
# Install everything hdrq's build and test suite need on Debian 12.
# Idempotent: when every package is already installed it does nothing (and
# needs no network). Quiet unless something fails; then apt's log is shown.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config flex bison clang-format
  llvm-19-dev clang-19 libclang-rt-19-dev
  libbpf-dev libelf-dev zlib1g-dev libzstd-dev libpcap-dev
  libmicrohttpd-dev libssl-dev
  bpftool iproute2 tshark python3-scapy jq
  bpftrace valgrind
  netsniff-ng tcpdump ethtool
  prometheus curl python3-jsonschema python3-yaml systemd
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi

log=$(mktemp /tmp/hdrq-deps.XXXXXX)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
# tshark's postinst asks whether non-root users may capture; say no, quietly.
if ! {
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections &&
  $SUDO apt-get update -q &&
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
} >"$log" 2>&1; then
  cat "$log" >&2
  echo "deps.sh: installing ${missing[*]} failed" >&2
  exit 1
fi
