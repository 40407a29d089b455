#!/usr/bin/env bash
# The main job, end to end, on a fresh Debian 12 machine (as root):
# install dependencies, build hdrq, make two network namespaces joined by a
# veth pair, and run the flagship query on one end for 6 seconds while the
# other end sends TCP resets — crafted ones (scapy) to ports 80/443/8080 and
# real ones (the kernel answering connects to a closed port) — plus noise
# that must not count. Prints the table hdrq prints. Then the same query over
# a capture file (-r), the very same program run with BPF_PROG_TEST_RUN.
#
#   ./scripts/demo.sh ['QUERY']     default: tcp where flags.rst group by dst_port
set -euo pipefail
cd "$(dirname "$0")/.."
QUERY=${1:-tcp where flags.rst group by dst_port}
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (BPF + network namespaces)" >&2; exit 1; }

./scripts/deps.sh
if [ ! -x build/hdrq ]; then
  echo "building hdrq (build/) ..."
  mkdir -p build
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >build/configure.log 2>&1 ||
    { cat build/configure.log; exit 1; }
  cmake --build build -j"$(nproc)" >build/build.log 2>&1 || { tail -50 build/build.log; exit 1; }
fi
HDRQ=$PWD/build/hdrq
export HDRQ_STDLIB=$PWD/stdlib

. tests/lib/netns.sh
hq_netns_up
echo "namespaces $HQ_NS_A ($HQ_IP4_A, $HQ_IF_A) <-> $HQ_NS_B ($HQ_IP4_B, $HQ_IF_B)"
echo
echo "\$ hdrq -i $HQ_IF_B -d 6 '$QUERY'"
ip netns exec "$HQ_NS_B" "$HDRQ" -i "$HQ_IF_B" -d 6 "$QUERY" &
hq_pid=$!
# wait until hdrq counts (its program attached and armed), then send
for _ in $(seq 100); do hq_counting "$hq_pid" && break; sleep 0.1; done
ip netns exec "$HQ_NS_A" /usr/bin/python3 - "$HQ_MAC_B" "$HQ_IF_A" <<'PY'
import logging, socket, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, IPv6, TCP, UDP, sendp
mac, iface = sys.argv[1], sys.argv[2]
a, b, a6, b6 = "192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"
rst = [(80, 5), (443, 3), (8080, 1)]
pk = [Ether(dst=mac)/IP(src=a, dst=b)/TCP(sport=40000 + i, dport=p, flags="R")
      for p, n in rst for i in range(n)]
pk += [Ether(dst=mac)/IPv6(src=a6, dst=b6)/TCP(sport=40100, dport=443, flags="RA")]
# noise: SYNs, ACKs and UDP to the same ports do not count
pk += [Ether(dst=mac)/IP(src=a, dst=b)/TCP(dport=80, flags=f) for f in ("S", "A", "PA")]
pk += [Ether(dst=mac)/IP(src=a, dst=b)/UDP(dport=443)]
sendp(pk, iface=iface, verbose=0)
# real RSTs: the kernel in the other namespace refuses these connects; the
# RSTs travel B -> A, so hdrq on B's ingress does not see them (try
# `on hqa0 ...` in namespace A to count them)
for _ in range(3):
    s = socket.socket(); s.settimeout(2)
    try: s.connect((b, 9))
    except OSError: pass
    s.close()
print(f"sent {len(pk)} crafted frames (10 RSTs) and 3 connects to a closed port", file=sys.stderr)
PY
wait "$hq_pid"

echo
CAP=../shared/corpus/pcap/tcpdump-mptcp-fclose.pcap
if [ -r "$CAP" ]; then
  echo "\$ hdrq -r $CAP '$QUERY'"
  "$HDRQ" -r "$CAP" "$QUERY"
fi
