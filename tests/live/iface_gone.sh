#!/usr/bin/env bash
# iface_gone.sh — the interface disappears mid-run (issue 6): hdrq prints the
# results it has so far, says which interface went away, exits non-zero,
# and leaves nothing attached.
set -u
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
: "${HDRQ:?HDRQ must point at the hdrq binary}"
. "$(dirname "$0")/../lib/netns.sh"
hq_netns_up || exit 1
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"; hq_netns_down' EXIT

ip netns exec "$HQ_NS_B" "$HDRQ" -i "$HQ_IF_B" -d 20 -o json 'udp group by dst_port' >"$out" 2>"$err" &
pid=$!
sleep 1.5
ip netns exec "$HQ_NS_A" bash -c "for i in 1 2 3; do echo x >/dev/udp/$HQ_IP4_B/9999; sleep 0.1; done"
sleep 0.5
ip -n "$HQ_NS_B" link del "$HQ_IF_B"          # takes the peer hqa0 with it
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  kill -9 "$pid"; echo "FAIL: hdrq still running 5 s after its interface was deleted"; exit 1
fi
wait "$pid"; rc=$?
fail=0
[ "$rc" = 1 ] || { echo "FAIL: exit status $rc, want 1"; fail=1; }
grep -q "interface '$HQ_IF_B' disappeared" "$err" || { echo "FAIL: no message naming $HQ_IF_B:"; cat "$err"; fail=1; }
jq -s -e 'map(select(.type == "group" and ."udp.dst_port" == 9999)) | .[0]."count()" == 3' "$out" >/dev/null ||
  { echo "FAIL: the datagrams counted so far were not printed:"; cat "$out"; fail=1; }
left=$(ip netns exec "$HQ_NS_B" bpftool net show 2>/dev/null | grep -c 'id [0-9]' || true)
[ "${left:-0}" = 0 ] || { echo "FAIL: $left program(s) still attached in $HQ_NS_B"; fail=1; }
[ "$fail" = 0 ] && echo "ok: results printed, interface named, exit 1, nothing attached"
exit "$fail"
