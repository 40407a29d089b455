#!/bin/bash
# cli.sh — the runtime end to end through the hdrq binary, without live
# traffic: exit codes and messages of usage/runtime errors, --emit without
# privileges, capability messages, and offline runs (-r) over corpus
# captures: -c, limit, every by capture time, -w round trip, pcapng, link
# types. BPF needs root: without it only the unprivileged part runs.
#
# Environment (from ctest's HQ_TEST_ENV): HDRQ, HDRQ_STDLIB, HQ_CORPUS.
set -u
: "${HDRQ:?}" "${HQ_CORPUS:?}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0
FAIL=0
FLAGS="$HQ_CORPUS/tcpdump-print-flags.pcap" # 10 IPv4/TCP frames on 127.0.0.1
ARP="$HQ_CORPUS/zeek-arp-who-has.pcap"      # ARP request + reply

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }

# expect STATUS 'stderr fragment or -' 'stdout fragment or -' -- hdrq args...
expect() {
	local want=$1 err=$2 out=$3
	shift 4
	"$HDRQ" "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [ "$rc" != "$want" ]; then
		bad "hdrq $* -> exit $rc, want $want; stderr: $(head -c 300 "$TMP/err")"
	elif [ "$err" != - ] && ! grep -qF -- "$err" "$TMP/err"; then
		bad "hdrq $* -> stderr lacks '$err': $(head -c 300 "$TMP/err")"
	elif [ "$out" != - ] && ! grep -qF -- "$out" "$TMP/out"; then
		bad "hdrq $* -> stdout lacks '$out': $(head -c 300 "$TMP/out")"
	else
		ok
	fi
}

lines() { wc -l <"$TMP/out" | tr -d ' '; }

# --- usage (exit 2), no privileges needed ---------------------------------------
expect 2 "no query given" - -- -i lo
expect 2 "invalid argument 'x' for -c" - -- -c x ip
expect 2 "invalid argument '9100' for --metrics" - -- --metrics 9100 ip
expect 2 "unknown option --nope" - -- --nope ip
expect 2 "no interface to watch" - -- ip
expect 2 "unknown field ip.srcc; did you mean ip.src?" - -- -r "$FLAGS" 'ip group by ip.srcc'
expect 2 "did you mean tcp?" - -- -l tpc
expect 0 - "usage: hdrq" -- -h
expect 0 - "libbpf" -- --version
expect 0 - "tcp.flags.rst" -- -l tcp
expect 0 - "(query" -- --emit ast 'tcp where flags.rst group by dst_port'
# libpcap, libcrypto and libmicrohttpd load when a run needs them
# (runtime/lazylib.h), not with the program: none is a dependency of the
# binary, and a run that reads no capture maps none of them
if objdump -p "$HDRQ" | grep -E 'NEEDED +lib(pcap|crypto|microhttpd)\.' >"$TMP/needed"; then
	bad "linked at start-up: $(tr '\n' ' ' <"$TMP/needed")"
else
	ok
fi
LD_DEBUG=files "$HDRQ" --emit ir ip 2>"$TMP/ld" >/dev/null
if grep -E 'file=lib(pcap|crypto|microhttpd|gnutls)\.' "$TMP/ld" >"$TMP/loaded"; then
	bad "--emit ir loaded $(head -3 "$TMP/loaded" | tr '\n' ' ')"
elif ! grep -q 'file=libbpf' "$TMP/ld"; then
	bad "LD_DEBUG=files shows no libbpf either: $(head -c 200 "$TMP/ld")"
else
	ok
fi

if [ "$(id -u)" != 0 ]; then
	echo "not root: offline and privilege checks skipped"
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" = 0 ] || exit 1
	exit 77
fi

# --- privileges ----------------------------------------------------------------------
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
"${NOBODY[@]}" "$HDRQ" --emit ir 'ip group by ip.src' >"$TMP/ir" 2>"$TMP/err" &&
	grep -q "target triple" "$TMP/ir" && ok || bad "--emit ir as nobody: $(cat "$TMP/err")"
"${NOBODY[@]}" "$HDRQ" -r "$FLAGS" ip >/dev/null 2>"$TMP/err"
[ $? = 1 ] && grep -q "missing capability CAP_BPF" "$TMP/err" && ok ||
	bad "-r as nobody: $(cat "$TMP/err")"
setpriv --inh-caps=-net_admin --bounding-set=-net_admin "$HDRQ" -i lo ip >/dev/null 2>"$TMP/err"
[ $? = 1 ] && grep -q "missing capability CAP_NET_ADMIN (needed to attach to lo)" "$TMP/err" &&
	ok || bad "no CAP_NET_ADMIN: $(cat "$TMP/err")"

# --- runtime errors (exit 1) -------------------------------------------------------
expect 1 "no such interface 'hqnope0'" - -- -i hqnope0 ip
expect 1 "cannot read capture $TMP/none.pcap: No such file" - -- -r "$TMP/none.pcap" ip
editcap -T rawip "$FLAGS" "$TMP/raw.pcap" 2>/dev/null &&
	expect 1 "link type RAW (Raw IP) is not supported" - -- -r "$TMP/raw.pcap" ip

# --- offline -----------------------------------------------------------------------------
expect 0 - "10 packets" -- -r "$FLAGS" ip
expect 0 - '"count":10' -- -r "$FLAGS" -o json ip
expect 0 - "127.0.0.1" -- -r "$FLAGS" 'ip group by ip.src'
expect 0 - '"arp.op":2' -- -r "$ARP" -o json 'arp log arp.op, arp.spa'
# frame numbers are the capture's
expect 0 - '"pkt.num":7' -- -r "$FLAGS" -o json 'ip log pkt.num, ip.len'
[ "$(grep -c '"type":"log"' "$TMP/out")" = 10 ] && ok || bad "10 log records: $(lines)"
# -c counts matching packets, limit counts records
expect 0 - - -- -r "$FLAGS" -o json -c 3 'ip log pkt.num'
[ "$(grep -c '"type":"log"' "$TMP/out")" = 3 ] && ok || bad "-c 3 gave $(lines) lines"
expect 0 - - -- -r "$FLAGS" -o json 'ip log pkt.num limit 4'
[ "$(grep -c '"type":"log"' "$TMP/out")" = 4 ] && ok || bad "limit 4 gave $(lines) lines"
expect 0 - '"count":2' -- -r "$FLAGS" -o json -c 2 'ip'
# every: intervals follow capture time (frames 1-7 in the first second)
expect 0 - - -- -r "$FLAGS" -o json 'ip group by ip.src every 1s'
grep '"type":"group"' "$TMP/out" | head -1 | grep -q '"count()":7' && ok ||
	bad "every 1s, first interval: $(head -c 300 "$TMP/out")"
grep '"type":"group"' "$TMP/out" | sed -n 2p | grep -q '"count()":3' && ok ||
	bad "every 1s, second interval: $(head -c 400 "$TMP/out")"
# pcapng input
editcap -F pcapng "$FLAGS" "$TMP/flags.pcapng" 2>/dev/null &&
	expect 0 - "10 packets" -- -r "$TMP/flags.pcapng" ip
# -w writes exactly the matching frames, whole; hdrq reads them back
expect 0 - "6 packets" -- -r "$FLAGS" -w "$TMP/w.pcap" 'ip where ip.len == 52'
expect 0 - "6 packets" -- -r "$TMP/w.pcap" 'ip where ip.len == 52'
expect 0 - "0 packets" -- -r "$TMP/w.pcap" 'ip where ip.len != 52'
# -w with a group query, and -w - (capture on stdout, results on stderr)
expect 0 - - -- -r "$FLAGS" -w "$TMP/g.pcap" 'ip where ip.len > 100 group by ip.len'
expect 0 - "2 packets" -- -r "$TMP/g.pcap" ip
"$HDRQ" -r "$FLAGS" -w - 'ip where ip.len == 60' 2>/dev/null >"$TMP/s.pcap"
expect 0 - "2 packets" -- -r "$TMP/s.pcap" ip
# a reader that goes away is not an error
"$HDRQ" -r "$FLAGS" 'ip log pkt.num' 2>"$TMP/err" | head -1 >/dev/null
[ "${PIPESTATUS[0]}" = 0 ] && ! grep -q error "$TMP/err" && ok || bad "EPIPE: $(cat "$TMP/err")"
# --check loads all three programs and reports their size
expect 0 - "hq_tc_out" -- --check 'ip group by ip.src'
# ... and a run that reads one loads libpcap then
LD_DEBUG=files "$HDRQ" -r "$FLAGS" ip 2>"$TMP/ld" >/dev/null
grep -q 'file=libpcap\.' "$TMP/ld" && ok || bad "-r loaded no libpcap: $(grep -c file= "$TMP/ld") files"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
