# netns.sh — test fixture: two network namespaces joined by a veth pair.
#
#   . tests/lib/netns.sh
#   hq_netns_up            # creates them; an EXIT/INT/TERM trap deletes them
#   hq_netns_quiet         # optional: A sends nothing of its own
#   ip netns exec "$HQ_NS_B" "$HDRQ" -i "$HQ_IF_B" ... & pid=$!
#   hq_wait_counting "$pid"   # attached and counting
#
#   namespace  $HQ_NS_A (hqt<pid>a)   $HQ_NS_B (hqt<pid>b)
#   interface  $HQ_IF_A = hqa0        $HQ_IF_B = hqb0
#   IPv4       192.0.2.1/24           192.0.2.2/24
#   IPv6       2001:db8::1/64         2001:db8::2/64
#
# Names carry the shell's PID so parallel runs never collide, and a run that
# was killed before its trap ran (SIGKILL from a test timeout) is cleaned up
# by the next one: namespaces named hqt<pid>[ab] whose PID is gone are removed.
# Only the documentation ranges above (and 198.51.100.0/24, for tests that
# want a second network) are used; traffic never leaves the two namespaces.
# tests/lib/hqnet.py is the same fixture for the Python drivers.

HQ_IP4_A=192.0.2.1
HQ_IP4_B=192.0.2.2
HQ_IP6_A=2001:db8::1
HQ_IP6_B=2001:db8::2
HQ_IF_A=hqa0
HQ_IF_B=hqb0

hq_netns_reap() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^hqt[0-9]+[ab]$'); do
    pid=${ns#hqt}; pid=${pid%[ab]}
    [ -d "/proc/$pid" ] || ip netns del "$ns" 2>/dev/null || true
  done
}

hq_netns_down() { # safe to call twice, and under set -e
  local ns
  for ns in "${HQ_NS_A:-}" "${HQ_NS_B:-}"; do
    [ -n "$ns" ] && { ip netns del "$ns" 2>/dev/null || true; }
  done
  return 0
}

hq_netns_up() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "netns.sh: needs root (network namespaces, veth, BPF)" >&2
    return 1
  fi
  hq_netns_reap
  HQ_NS_A=hqt$$a
  HQ_NS_B=hqt$$b
  trap 'hq_netns_down' EXIT
  trap 'hq_netns_down; exit 130' INT
  trap 'hq_netns_down; exit 143' TERM
  # programs are attached through links, but keep bpffs around for tools
  mountpoint -q /sys/fs/bpf 2>/dev/null || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
  ip netns add "$HQ_NS_A" && ip netns add "$HQ_NS_B" || return 1
  local ns
  for ns in "$HQ_NS_A" "$HQ_NS_B"; do
    # no DAD delay, no router solicitations: addresses usable at once, less noise
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.accept_dad=0 >/dev/null
    ip -n "$ns" link set lo up
  done
  ip -n "$HQ_NS_A" link add "$HQ_IF_A" type veth peer name "$HQ_IF_B" netns "$HQ_NS_B" || return 1
  ip -n "$HQ_NS_A" addr add "$HQ_IP4_A/24" dev "$HQ_IF_A"
  ip -n "$HQ_NS_B" addr add "$HQ_IP4_B/24" dev "$HQ_IF_B"
  ip -n "$HQ_NS_A" addr add "$HQ_IP6_A/64" dev "$HQ_IF_A" nodad
  ip -n "$HQ_NS_B" addr add "$HQ_IP6_B/64" dev "$HQ_IF_B" nodad
  ip -n "$HQ_NS_A" link set "$HQ_IF_A" up
  ip -n "$HQ_NS_B" link set "$HQ_IF_B" up
  HQ_MAC_A=$(ip netns exec "$HQ_NS_A" cat "/sys/class/net/$HQ_IF_A/address")
  HQ_MAC_B=$(ip netns exec "$HQ_NS_B" cat "/sys/class/net/$HQ_IF_B/address")
  export HQ_NS_A HQ_NS_B HQ_IF_A HQ_IF_B HQ_MAC_A HQ_MAC_B HQ_IP4_A HQ_IP4_B HQ_IP6_A HQ_IP6_B
  # wait until the link is up on both sides (veth carrier)
  local i
  for i in $(seq 50); do
    ip -n "$HQ_NS_B" link show "$HQ_IF_B" | grep -q 'state UP' && break
    sleep 0.05
  done
}

# Is any BPF program attached to IFACE in NS (XDP, tc/clsact, tcx)?
# Prints what it found; returns 0 if something is attached.
hq_attached() {
  local ns=$1 ifc=$2 out
  out=$( { ip -n "$ns" -d link show dev "$ifc" | grep -E 'xdp|prog/xdp';
           ip netns exec "$ns" bpftool net show dev "$ifc" 2>/dev/null | grep -E 'id [0-9]+';
           ip -n "$ns" link show dev "$ifc" >/dev/null 2>&1 &&
             ip netns exec "$ns" tc filter show dev "$ifc" ingress 2>/dev/null | grep -E 'bpf';
           ip netns exec "$ns" tc filter show dev "$ifc" egress 2>/dev/null | grep -E 'bpf'; } 2>/dev/null)
  [ -n "$out" ] && { printf '%s\n' "$out"; return 0; }
  return 1
}

# Does hdrq (PID) count yet? What it attaches first is an entry program
# that passes packets on until hdrq puts its own program in the entry's
# program array (runtime/entry.h): true once every such array it holds is
# filled. False while it holds none, i.e. before it has attached anything.
# hqnet.py reads the arrays through hdrq's own fds: opening them by id can
# leak them in the kernel (hqnet.bpf_id_exists says how).
hq_counting() {
  /usr/bin/python3 - "$1" "$(dirname "${BASH_SOURCE[0]}")" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
import hqnet
held = hqnet.held_bpf(int(sys.argv[1]))
sys.exit(0 if held["arrays"] and hqnet.armed(held) else 1)
EOF
}

# A quiet link: A sends nothing of its own (no IPv6; static neighbours both
# ways, so no ARP, not even for B's replies), so B receives only what a
# test sends. Give link-up chatter a second to pass before counting.
hq_netns_quiet() {
  ip netns exec "$HQ_NS_A" sysctl -qw "net.ipv6.conf.$HQ_IF_A.disable_ipv6=1"
  ip -n "$HQ_NS_A" neigh replace "$HQ_IP4_B" lladdr "$HQ_MAC_B" dev "$HQ_IF_A" nud permanent
  ip -n "$HQ_NS_B" neigh replace "$HQ_IP4_A" lladdr "$HQ_MAC_A" dev "$HQ_IF_B" nud permanent
}

# hq_netns_gro on|off: GRO requested on both veths, which puts them in
# veth's NAPI mode without a program; bench/xdpsend.c needs it (A's
# receive queue registered for XDP, B's ring ready for XDP frames).
hq_netns_gro() {
  ip netns exec "$HQ_NS_A" ethtool -K "$HQ_IF_A" gro "$1" &&
    ip netns exec "$HQ_NS_B" ethtool -K "$HQ_IF_B" gro "$1"
}

# Wait (20 s at most) until hdrq (PID) holds an attached BPF link (its own
# fdinfo says so for XDP and tcx alike) and counts (hq_counting). False if
# it exits first or the time runs out.
hq_wait_counting() {
  local _
  for _ in $(seq 200); do
    kill -0 "$1" 2>/dev/null || return 1
    grep -qs '^link_type:' /proc/"$1"/fdinfo/* && hq_counting "$1" && return 0
    sleep 0.1
  done
  return 1
}
