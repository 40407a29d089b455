#!/usr/bin/env bash
# xdp_frames.sh — hdrq's XDP program on frames that arrive as XDP frames, the
# way a NIC's driver hands them to native XDP (no socket buffer yet): the
# XDP-frame sender (bench/xdpsend.c, XDPSEND) transmits a bounded burst from
# A's veth with XDP_TX, and B's veth runs hdrq on each frame in its NAPI
# poll. hdrq must count every frame B received, with its fields decoded, and
# the veth must not have dropped one (issue 6, flood fidelity).
set -u
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
: "${HDRQ:?HDRQ must point at the hdrq binary}"
: "${XDPSEND:?XDPSEND must point at the xdpsend binary}"
N=${XDP_FRAMES_N:-50000}
. "$(dirname "$0")/../lib/netns.sh"
hq_netns_up || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"; hq_netns_down' EXIT

hq_netns_quiet # B receives the burst and nothing else
hq_netns_gro on # before hdrq attaches
# 192.0.2.1:40000 -> 192.0.2.2:9, UDP, 18 bytes of payload
/usr/bin/python3 - "$HQ_MAC_A" "$HQ_MAC_B" >"$work/frame.bin" <<'EOF'
import sys
from scapy.all import Ether, IP, UDP, Raw
f = Ether(src=sys.argv[1], dst=sys.argv[2]) / IP(src="192.0.2.1", dst="192.0.2.2", ttl=61) \
    / UDP(sport=40000, dport=9) / Raw(b"a" * 18)
sys.stdout.buffer.write(bytes(f))
EOF
sleep 1 # link-up chatter

rx() { ip netns exec "$HQ_NS_B" cat "/sys/class/net/$HQ_IF_B/statistics/rx_packets"; }
ip netns exec "$HQ_NS_B" "$HDRQ" -i "$HQ_IF_B" -d 60 -o json \
  'udp where dst_port == 9 group by ip.src, src_port, ip.ttl' >"$work/out" 2>"$work/err" &
pid=$!
hq_wait_counting "$pid" || { echo "FAIL: hdrq exited or did not attach: $(cat "$work/err")"; exit 1; }
mode=$(ip -n "$HQ_NS_B" -j link show dev "$HQ_IF_B" | jq -r '.[0].xdp.mode // "none"')
rx0=$(rx)
timeout 30 ip netns exec "$HQ_NS_A" "$XDPSEND" "$HQ_IF_A" "$N" "$work/frame.bin" >"$work/send" 2>&1 ||
  { echo "FAIL: xdpsend: $(cat "$work/send")"; kill -INT "$pid"; exit 1; }
sleep 0.5
got=$(($(rx) - rx0))
kill -INT "$pid"
wait "$pid" || { echo "FAIL: hdrq exited $?: $(cat "$work/err")"; exit 1; }

fail=0
[ "$mode" = 1 ] || { echo "FAIL: XDP attach mode $mode, want 1 (native)"; fail=1; }
[ "$got" = "$N" ] || { echo "FAIL: B received $got of $N frames"; fail=1; }
count=$(jq -s '[.[] | select(.type == "group" and ."ip.src" == "192.0.2.1"
                 and ."udp.src_port" == 40000 and ."ip.ttl" == 61) | ."count()"] | add // 0' "$work/out")
groups=$(jq -s '[.[] | select(.type == "group")] | length' "$work/out")
if [ "$count" != "$N" ] || [ "$groups" != 1 ]; then
  echo "FAIL: hdrq counted $count in $groups group(s), want $N in 1:"; head -5 "$work/out"; fail=1
fi
[ "$fail" = 0 ] && echo "ok: $N XDP frames, all received (native XDP) and counted with their fields"
exit "$fail"
