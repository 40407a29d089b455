#!/usr/bin/env bash
# bench/flood.sh — step 3 of bench/run.sh: hdrq under a bounded flood. Two
# network namespaces joined by a veth pair (tests/lib/netns.sh); trafgen
# (netsniff-ng, one process pinned to CPU 0) sends 60-byte UDP frames
# 192.0.2.1 -> 192.0.2.2:9 from A, and for the second overhead table
# xdpsend.c sends the same frame as XDP frames (also on CPU 0);
# everything is measured on B's veth. Owns:
#   fidelity  hdrq's aggregate count (XDP, native on veth) against the
#             packets the receiving interface counted (rx_packets), exactly;
#   tcpdump   the same question answered by `tcpdump | awk`, with the
#             drops tcpdump reports, on the same flood as hdrq;
#   overhead  receiver packet rate with no program, an empty XDP_PASS
#             program, hdrq on XDP and hdrq on TC ingress (median of
#             FLOOD_REPS floods each), twice: with trafgen's frames, which
#             reach B as socket buffers, and with XDP frames (xdpsend.c),
#             which reach B's program before any socket buffer exists, as
#             a NIC's frames reach native XDP;
#   log       records per second a log query delivers to a JSON file with
#             zero loss, and exact loss accounting beyond that rate.
# Prints its Markdown section of RESULTS.md, heading included, between the
# markers MARK_BEGIN/MARK_END on stdout (run.sh writes it into RESULTS.md and
# keeps the last one when SKIP_FLOOD=1), progress on stderr. Every flood is
# bounded in packets (trafgen -n) and in seconds (timeout); the namespaces
# are deleted on any exit.
#
# Usage (root): bench/flood.sh HDRQ [EMPTY_XDP_OBJ]
#   EMPTY_XDP_OBJ: bench/reference/empty.c compiled (run.sh passes its own);
#   compiled here when not given. xdpsend.c is compiled here.
#   FLOOD_RESULTS=bench/RESULTS.md bench/flood.sh HDRQ: also replace the
#   section in that file (appended when it has none), the rest untouched.
# Environment:
#   FLOOD_N          packets per flood (default 2000000)
#   FLOOD_REPS       floods per overhead configuration (default 5)
#   FLOOD_LOG_RATES  offered packets/s for the log query; "max": as fast as
#                    trafgen can; "stalled": the same with hdrq stopped, to
#                    overflow its ring buffer
#   FLOOD_LOG_SECS   seconds per log flood at an offered rate (default 4)
#   FLOOD_CAP_SECS   hard bound in seconds on any one flood (default 60)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
HDRQ=${1:?usage: bench/flood.sh HDRQ [EMPTY_XDP_OBJ]}
EMPTY_OBJ=${2:-}
N=${FLOOD_N:-2000000}
REPS=${FLOOD_REPS:-5}
LOG_RATES=${FLOOD_LOG_RATES:-50000 100000 150000 200000 max stalled}
LOG_SECS=${FLOOD_LOG_SECS:-4}
CAP_SECS=${FLOOD_CAP_SECS:-60}
HQ_MAX_SECS=$((CAP_SECS + 30)) # hdrq stops by itself even if never signalled
MARK_BEGIN='<!-- bench/flood.sh: begin -->'
MARK_END='<!-- bench/flood.sh: end -->'
AGG_QUERY='udp where dst_port == 9 group by ip.src'
LOG_QUERY='udp where dst_port == 9 log ip.src, udp.src_port'
export HDRQ_STDLIB=${HDRQ_STDLIB:-$ROOT/stdlib}

# shellcheck disable=SC1091 # the project's netns fixture (hq_netns_up/down, hq_attached)
. "$ROOT/tests/lib/netns.sh"

WORK=$(mktemp -d /tmp/hdrq-flood.XXXXXX)
HQ_PID=
TD_PID=
AWK_PID=
trap cleanup EXIT

say() { echo "flood: $*" >&2; }
die() {
	say "FAILED: $*"
	exit 1
}

stop_pid() { # PID: SIGINT, then SIGKILL after 10 s
	local pid=$1 _
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -CONT "$pid" 2>/dev/null || true # (a stalled hdrq, see log_run)
	kill -INT "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
	stop_pid "$HQ_PID"
	stop_pid "$TD_PID"
	stop_pid "$AWK_PID"
	stats_restore
	hq_netns_down || true # (its `[ -n … ] && ip netns del` fails under set -e once deleted)
	rm -rf "$WORK"
}

# ---------------------------------------------------------------- set-up

require_tools() {
	[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, XDP)"
	[ -x "$HDRQ" ] || die "not an executable: $HDRQ"
	local t
	for t in trafgen tcpdump jq bpftool ethtool timeout taskset gcc python3; do
		command -v "$t" >/dev/null || die "$t is missing (scripts/deps.sh installs it)"
	done
}

empty_program() { # prints the path of the empty XDP_PASS object
	if [ -n "$EMPTY_OBJ" ]; then
		echo "$EMPTY_OBJ"
		return
	fi
	clang-19 -O2 -target bpf -I"/usr/include/$(gcc -dumpmachine)" \
		-c "$HERE/reference/empty.c" -o "$WORK/empty.o"
	echo "$WORK/empty.o"
}

build_xdpsend() { # prints the path of the XDP-frame sender
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$WORK/xdpsend" "$HERE/xdpsend.c" -lbpf
	echo "$WORK/xdpsend"
}

# The veth pair, made quiet: B receives nothing but the flood (A has no
# IPv6, neighbours are static both ways), so every counter is the flood's.
net_up() {
	hq_netns_up
	trap cleanup EXIT # (hq_netns_up sets its own traps)
	trap 'exit 130' INT
	trap 'exit 143' TERM
	hq_netns_quiet
	# trafgen packet: Ethernet / IPv4 (checksum filled in) / UDP to port 9
	# (discard) from a counting source port / 18 bytes: 60 bytes on the wire
	cat >"$WORK/flood.cfg" <<-EOF
		{
		  eth(da=$HQ_MAC_B, sa=$HQ_MAC_A, type=0x0800),
		  ipv4(saddr=$HQ_IP4_A, daddr=$HQ_IP4_B, ttl=64, id=dinc()),
		  udp(sp=dinc(1024, 65000), dp=9),
		  fill(0x61, 18)
		}
	EOF
	# the same frame, fixed source port, as raw bytes for xdpsend
	python3 - "$HQ_MAC_A" "$HQ_MAC_B" "$HQ_IP4_A" "$HQ_IP4_B" >"$WORK/frame.bin" <<-'EOF'
		import socket, struct, sys
		mac = lambda m: bytes.fromhex(m.replace(":", ""))
		src, dst = socket.inet_aton(sys.argv[3]), socket.inet_aton(sys.argv[4])
		udp = struct.pack("!HHHH", 1024, 9, 8 + 18, 0) + b"a" * 18
		ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst)
		s = sum(struct.unpack("!10H", ip))
		s = (s & 0xFFFF) + (s >> 16)
		ip = ip[:10] + struct.pack("!H", ~((s & 0xFFFF) + (s >> 16)) & 0xFFFF) + ip[12:]
		sys.stdout.buffer.write(mac(sys.argv[2]) + mac(sys.argv[1]) + b"\x08\x00" + ip + udp)
	EOF
	sleep 1 # link-up chatter (B's own IPv6 joins go out, not in)
}


net_down_checked() { # tear down, then prove nothing is left behind
	local ns_a=$HQ_NS_A ns_b=$HQ_NS_B
	hq_netns_down
	HQ_NS_A='' HQ_NS_B=''
	if ip netns list | grep -qE "^($ns_a|$ns_b)( |\$)"; then
		die "namespace $ns_a/$ns_b still exists"
	fi
	local left
	left=$(bpftool -j prog show | jq -r --argjson mine "[$HQ_PROG_IDS]" \
		'.[] | select(.id as $i | $mine | any(. == $i)) | "\(.id) \(.name)"' | tr '\n' ' ')
	[ -z "$left" ] || die "programs of hdrq's runs still loaded: $left"
}

# The programs each hdrq run held (its entry programs and its own, from
# /proc/PID/fdinfo): program ids are never reused, so they tell this
# script's programs from those of anything else running hdrq meanwhile.
HQ_PROG_IDS=
note_hdrq_progs() { # PID
	local id
	for id in $(grep -hs '^prog_id:' /proc/"$1"/fdinfo/* | awk '{print $2}' | sort -u); do
		HQ_PROG_IDS+="${HQ_PROG_IDS:+,}$id"
	done
	return 0
}

# ---------------------------------------------------------------- counters

ctr() { # A|B NAME: /sys/class/net/IF/statistics/NAME in that namespace
	local ns=$HQ_NS_A ifc=$HQ_IF_A
	[ "$1" = B ] && ns=$HQ_NS_B ifc=$HQ_IF_B
	ip netns exec "$ns" cat "/sys/class/net/$ifc/statistics/$2"
}

backlog_drops() { # sum over CPUs of /proc/net/softnet_stat's "dropped"
	local s=0 d
	while read -r _ d _; do s=$((s + 16#$d)); done </proc/net/softnet_stat
	echo "$s"
}

veth_stat() { # A|B NAME: one of the veth's own counters (ethtool -S), 0 if absent
	local ns=$HQ_NS_A ifc=$HQ_IF_A
	[ "$1" = B ] && ns=$HQ_NS_B ifc=$HQ_IF_B
	ip netns exec "$ns" ethtool -S "$ifc" | awk -v k="$2:" '$1 == k {print $2; f=1} END{if(!f) print 0}'
}

# "rx_packets rx_dropped tx_dropped(A) backlog_drops ring_drops(B)
# xdp_xmit_errors(A)": the last two are veth's drops of frames that reached
# B's ring, and of XDP frames the ring had no room for
snap() {
	echo "$(ctr B rx_packets) $(ctr B rx_dropped) $(ctr A tx_dropped) $(backlog_drops)" \
		"$(veth_stat B rx_queue_0_drops) $(veth_stat A tx_queue_0_xdp_xmit_errors)"
}

# sets RX DROPS (every drop counter's delta, summed) from two snaps
counters_delta() {
	local a b
	read -r -a a <<<"$1"
	read -r -a b <<<"$2"
	RX=$((b[0] - a[0]))
	DROPS=$((b[1] - a[1] + b[2] - a[2] + b[3] - a[3] + b[4] - a[4] + b[5] - a[5]))
}

settle() { # wait until B's rx_packets stops moving
	local prev=-1 cur
	cur=$(ctr B rx_packets)
	while [ "$cur" != "$prev" ]; do
		sleep 0.2
		prev=$cur
		cur=$(ctr B rx_packets)
	done
}

# ---------------------------------------------------------------- traffic

# flood COUNT [PPS]: from A with the current SENDER, bounded in packets and
# seconds. Sets SENT and SECS, the sender's own timing of its send loop, on
# CPU 0, where the receive path of the veth runs too.
SENDER=trafgen
flood() {
	case $SENDER in
	trafgen) flood_trafgen "$@" ;;
	frames) flood_frames "$1" ;;
	esac
	settle
}

flood_trafgen() { # COUNT [PPS]
	local args=(-i "$WORK/flood.cfg" -o "$HQ_IF_A" -n "$1" -P 1 -H --no-sock-mem -Q)
	[ -n "${2:-}" ] && args+=(-b "${2}pps")
	timeout "$CAP_SECS" ip netns exec "$HQ_NS_A" trafgen "${args[@]}" 2>&1 |
		tr -d '\r' >"$WORK/trafgen.txt" ||
		die "trafgen failed or ran into the ${CAP_SECS}-second bound: $(tail -3 "$WORK/trafgen.txt")"
	SENT=$(awk '/packets outgoing/{print $1}' "$WORK/trafgen.txt")
	SECS=$(awk '/usec on CPU/{printf "%.6f", $1 + $3 / 1e6}' "$WORK/trafgen.txt")
	if [ -z "$SENT" ] || [ -z "$SECS" ]; then
		die "trafgen printed no statistics: $(cat "$WORK/trafgen.txt")"
	fi
}

flood_frames() { # COUNT: xdpsend on CPU 0 (it runs the receiver's poll too)
	timeout "$CAP_SECS" ip netns exec "$HQ_NS_A" taskset -c 0 \
		"$XDPSEND" "$HQ_IF_A" "$1" "$WORK/frame.bin" >"$WORK/xdpsend.txt" 2>&1 ||
		die "xdpsend failed or ran into the ${CAP_SECS}-second bound: $(cat "$WORK/xdpsend.txt")"
	SENT=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' "$WORK/xdpsend.txt")
	SECS=$(sed -n 's/.* secs=\([0-9.]*\)$/\1/p' "$WORK/xdpsend.txt")
	if [ -z "$SENT" ] || [ -z "$SECS" ]; then
		die "xdpsend printed no statistics: $(cat "$WORK/xdpsend.txt")"
	fi
}

counted_flood() { # COUNT [PPS]: flood, and RX DROPS for it (counters_delta)
	local s0
	s0=$(snap)
	flood "$@"
	counters_delta "$s0" "$(snap)"
}

# ---------------------------------------------------------------- hdrq

hdrq_start() { # OUT ARGS...: hdrq -o json on B's veth, returns once attached
	local out=$1
	shift
	# `ip netns exec` execs hdrq: $! is hdrq's pid
	ip netns exec "$HQ_NS_B" "$HDRQ" -i "$HQ_IF_B" -d "$HQ_MAX_SECS" -o json "$@" \
		>"$out" 2>"$WORK/hdrq.err" &
	HQ_PID=$!
	hq_wait_counting "$HQ_PID" ||
		die "hdrq exited or did not attach within 20 s: $(cat "$WORK/hdrq.err")"
	note_hdrq_progs "$HQ_PID"
}

hdrq_stop() { # SIGINT: hdrq detaches, drains the ring buffer, prints totals
	kill -INT "$HQ_PID"
	wait "$HQ_PID" || die "hdrq exited $?: $(cat "$WORK/hdrq.err")"
	HQ_PID=
}

# jq FILTER over hdrq's non-log JSON lines (log files may be millions long)
hq_json() { grep -v '^{"type":"log"' "$2" | jq -s "$1"; }
hq_group_total() { hq_json '[.[] | select(.type == "group") | .["count()"]] | add // 0' "$1"; }
hq_count() { hq_json "[.[] | select(.type == \"count\" and .query == \"$2\") | .count] | add // 0" "$1"; }
hq_loss() { hq_json ".[] | select(.type == \"loss\" and .total == true) | .$2" "$1"; }

# ---------------------------------------------------------------- tcpdump

# tcpdump | awk on B: the flood's packets per source address, from lines
# "HH:MM:SS.us IP 192.0.2.1.1024 > 192.0.2.2.9: UDP, length 18" (tcpdump
# also prints an empty line when interrupted)
tcpdump_start() {
	rm -f "$WORK/td.pid"
	(
		echo "$BASHPID" >"$WORK/td.pid"
		exec timeout -s INT "$HQ_MAX_SECS" ip netns exec "$HQ_NS_B" \
			tcpdump -i "$HQ_IF_B" -n -l 'udp dst port 9' 2>"$WORK/td.err"
	) | awk '$2 == "IP" { s = $3; sub(/\.[0-9]+$/, "", s); c[s]++ } END { for (s in c) print s, c[s] }' \
		>"$WORK/awk.txt" &
	AWK_PID=$!
	local _
	for _ in $(seq 100); do
		TD_PID=$(cat "$WORK/td.pid" 2>/dev/null || true)
		grep -q 'listening on' "$WORK/td.err" 2>/dev/null && return 0
		sleep 0.1
	done
	die "tcpdump did not start: $(cat "$WORK/td.err" 2>/dev/null)"
}

tcpdump_stop() { # sets TD_LINES TD_CAPTURED TD_FILTER TD_DROPPED
	kill -INT "$TD_PID"
	wait "$AWK_PID" || true
	TD_PID=''
	AWK_PID=''
	TD_LINES=$(awk '{n += $2} END {print n + 0}' "$WORK/awk.txt")
	TD_CAPTURED=$(awk '/packets captured/{print $1}' "$WORK/td.err")
	TD_FILTER=$(awk '/received by filter/{print $1}' "$WORK/td.err")
	TD_DROPPED=$(awk '/dropped by kernel/{print $1}' "$WORK/td.err")
}

# ---------------------------------------------------------------- measurements

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
mpps() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.3f", n / s / 1e6}'; }
yes_no() { [ "$1" = "$2" ] && echo "**yes**" || echo "**no** ($(($2 - $1)))"; }

FIDELITY=$WORK/fidelity.md
: >"$FIDELITY"

# appends a fidelity row for the last flood (hdrq ran on $WORK/agg.json);
# sets HQ_TOTAL, hdrq's count()
fidelity_row() { # LABEL
	local label=$1 packets
	HQ_TOTAL=$(hq_group_total "$WORK/agg.json")
	packets=$(hq_loss "$WORK/agg.json" packets)
	echo "| $label | $SENT | $RX | $DROPS | $HQ_TOTAL | $packets | $(yes_no "$RX" "$HQ_TOTAL") |" >>"$FIDELITY"
}

# overhead_run CONFIG REP: one flood under CONFIG (none|empty|hdrq|hdrq_tc);
# sets MPPS, the receiver rate
overhead_run() {
	config_on "$1"
	counted_flood "$N"
	config_off "$1"
	case $1 in hdrq*) fidelity_row "$1 flood $2$(sender_note)" ;; esac
	[ "$DROPS" -eq 0 ] || say "$1: $DROPS packets dropped before the receiver counted them"
	MPPS=$(mpps "$RX" "$SECS")
}

sender_note() { [ "$SENDER" = trafgen ] || echo ", XDP frames"; }

config_on() { # none|empty|hdrq|hdrq_tc: attach that to B's veth
	case $1 in
	empty) ip -n "$HQ_NS_B" link set dev "$HQ_IF_B" xdpdrv obj "$EMPTY" sec xdp ;;
	hdrq) hdrq_start "$WORK/agg.json" "$AGG_QUERY" ;;
	hdrq_tc) hdrq_start "$WORK/agg.json" --hook tc "$AGG_QUERY" ;;
	esac
}

config_off() { # none|empty|hdrq|hdrq_tc: detach it
	case $1 in
	empty) ip -n "$HQ_NS_B" link set dev "$HQ_IF_B" xdpdrv off ;;
	hdrq | hdrq_tc) hdrq_stop ;;
	esac
}

# prog_ns empty|hdrq: sets PROG_NS, the XDP program's own mean run time per
# packet over one flood of STATS_N, from the kernel's BPF statistics (the
# global sysctl kernel.bpf_stats_enabled, on for that flood only: it costs
# every program on the machine a clock read per run meanwhile)
STATS_N=$((N < 500000 ? N : 500000))
STATS_WAS=
prog_ns() {
	local id
	config_on "$1"
	id=$(ip -n "$HQ_NS_B" -j -d link show dev "$HQ_IF_B" | jq '.[0].xdp.prog.id')
	STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	counted_flood "$STATS_N"
	stats_restore
	PROG_NS=$(bpftool -j prog show id "$id" | jq '.run_time_ns / .run_cnt | . * 10 | round / 10')
	config_off "$1"
}

stats_restore() {
	[ -z "$STATS_WAS" ] || sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	STATS_WAS=
}

# measure_overhead SENDER OUT: FLOOD_REPS rounds of the four configurations
# with that sender; the table and its verdicts go to OUT
OVERHEAD=$WORK/overhead.md
OVERHEAD_FRAMES=$WORK/overhead_frames.md
measure_overhead() {
	SENDER=$1
	local out=$2 rep c
	declare -A rates=([none]='' [empty]='' [hdrq]='' [hdrq_tc]='')
	for rep in $(seq "$REPS"); do
		for c in none empty hdrq hdrq_tc; do # interleaved: drift hits all alike
			overhead_run "$c" "$rep"
			say "overhead ($SENDER) $c run $rep: $MPPS Mpps"
			rates[$c]+=" $MPPS"
		done
	done
	local none empty hdrq hdrq_tc
	none=$(echo "${rates[none]}" | median)
	empty=$(echo "${rates[empty]}" | median)
	hdrq=$(echo "${rates[hdrq]}" | median)
	hdrq_tc=$(echo "${rates[hdrq_tc]}" | median)
	EMPTY_MPPS=$empty
	{
		echo "| configuration on $HQ_IF_B | runs (Mpps) | median Mpps | ns/packet | vs no program | vs empty XDP |"
		echo "|---|---|---|---|---|---|"
		overhead_line "no program" "${rates[none]}" "$none" "$none" "$empty"
		overhead_line "empty XDP_PASS (xdpdrv)" "${rates[empty]}" "$empty" "$none" "$empty"
		overhead_line "hdrq \`$AGG_QUERY\`" "${rates[hdrq]}" "$hdrq" "$none" "$empty"
		overhead_line "hdrq --hook tc, same query" "${rates[hdrq_tc]}" "$hdrq_tc" "$none" "$empty"
		echo
		"verdict_$SENDER" "$none" "$empty" "$hdrq" "$hdrq_tc" "${rates[empty]}"
		echo
		paired_overhead "${rates[none]}" "${rates[empty]}" "${rates[hdrq]}" "${rates[hdrq_tc]}"
	} >"$out"
}

# verdict_SENDER none empty hdrq hdrq_tc runs-of-empty: the medians in words
verdict_trafgen() {
	awk -v n="$1" -v e="$2" -v h="$3" -v t="$4" -v runs="$5" 'BEGIN {
		ce = (h / e - 1) * 100; cn = (h / n - 1) * 100; ct = (t / n - 1) * 100
		k = split(runs, r, " "); lo = hi = r[1]
		for (i = 2; i <= k; i++) { lo = r[i] < lo ? r[i] : lo; hi = r[i] > hi ? r[i] : hi }
		printf "With hdrq attached the receiver rate changes by **%+.1f%%** against the empty XDP program and **%+.1f%%** against no program (%+.1f ns per packet against the empty program): the target of at most 5%% overhead is **%s** against the empty program and **%s** against no program, by the medians. The runs of the empty program spread over %.0f%% of its median: differences of that size are noise of this machine, not hdrq. Between no program and the empty one, the difference is the veth itself: with any XDP program attached it hands frames over through its ring and NAPI instead of the backlog, and copies each frame with less than 256 bytes of headroom (as here) into a page_pool page first (skb_pp_cow_data, in perf record -a). The next table takes that copy away.\n\n",
			ce, cn, 1e3 / h - 1e3 / e, met(ce), met(cn), (hi - lo) / e * 100
		printf "On TC ingress (`--hook tc`) no XDP program is attached, so the veth keeps its backlog path: there hdrq changes the rate by **%+.1f%%** against no program (%+.1f ns per packet), and the 5%% target is **%s**.\n",
			ct, 1e3 / t - 1e3 / n, met(ct) }
		function met(c) { return c >= -5 ? "met" : "not met" }'
}

verdict_frames() {
	awk -v n="$1" -v e="$2" -v h="$3" -v t="$4" 'BEGIN {
		cn = (h / n - 1) * 100; ce = (h / e - 1) * 100; ct = (t / n - 1) * 100
		printf "Here no configuration copies a frame, and the veth is in its NAPI mode in all four, so \"no program\" is the same receive path without the program run: the overhead of an XDP program as on a NIC with native XDP. With hdrq attached the receiver rate changes by **%+.1f%%** against no program (%+.1f ns per packet) and %+.1f%% against the empty program: the target of at most 5%% overhead is **%s** against no program, by the medians. On TC ingress hdrq changes it by %+.1f%% against no program (the TC hook runs on the socket buffer built after the veth%s poll).\n",
			cn, 1e3 / h - 1e3 / n, ce, (cn >= -5 ? "met" : "not met"), ct, "\047s" }'
}

# The same comparisons round by round: each round floods the four
# configurations back to back, so a round's ratios share its conditions
# (the machine's load drifts between rounds); their median is the figure
# least moved by that drift.
round_changes() { # runs A, runs B: each round's change of A against B, in %
	paste -d' ' <(echo "$1" | tr ' ' '\n' | grep .) <(echo "$2" | tr ' ' '\n' | grep .) |
		awk '{printf "%.4f ", ($1 / $2 - 1) * 100}'
}
paired_overhead() { # runs of none, empty, hdrq, hdrq_tc (same order of rounds)
	local e h t
	e=$(round_changes "$3" "$2")
	h=$(round_changes "$3" "$1")
	t=$(round_changes "$4" "$1")
	awk -v e="$(echo "$e" | median)" -v h="$(echo "$h" | median)" -v t="$(echo "$t" | median)" \
		-v es="$e" -v hs="$h" -v ts="$t" 'BEGIN {
		printf "Round by round (each round floods the four configurations back to back, so its ratios share its conditions): hdrq XDP against the empty program %s, median **%+.1f%%**; hdrq XDP against no program %s, median **%+.1f%%**; hdrq TC against no program %s, median **%+.1f%%**. By these medians the 5%% target is **%s** on XDP against the empty program, **%s** on XDP against no program and **%s** on TC.\n",
			list(es), e, list(hs), h, list(ts), t, met(e), met(h), met(t) }
		function met(c) { return c >= -5 ? "met" : "not met" }
		function list(s,   a, n, i, o) { n = split(s, a, " "); o = ""; for (i = 1; i <= n; i++) o = o sprintf("%s%+.1f%%", i > 1 ? ", " : "", a[i]); return o }'
}

# measure_prog_ns: the programs' own run time, appended to the trafgen
# table's text (EMPTY_MPPS: that table's median for the empty program)
measure_prog_ns() {
	local empty_ns empty=$EMPTY_MPPS
	prog_ns empty
	empty_ns=$PROG_NS
	prog_ns hdrq
	{
		echo
		echo "The programs' own run time per packet, from the kernel's BPF statistics (\`kernel.bpf_stats_enabled\`, one more flood of $STATS_N each): empty XDP_PASS **$empty_ns ns**, hdrq **$PROG_NS ns**."
		echo
		awk -v h="$PROG_NS" -v e="$empty_ns" -v r="$empty" 'BEGIN {
			d = h - e; p = 1e3 / r
			printf "The hdrq program thus adds %.0f ns to the %.0f ns a packet costs the CPU that sends and receives it with the empty program (median above): **%.1f%%** of its rate, an estimate free of the scheduling noise in the rates. The receive path here (veth, IP/UDP stack, ICMP, on the sending CPU) is slow; a path cheaper than %.0f ns a packet would put the same program above 5%%.\n", d, p, d / (p + d) * 100, d * 19 }'
	} >>"$OVERHEAD"
	say "program run time: empty $empty_ns ns, hdrq $PROG_NS ns"
}

overhead_line() { # label runs median none empty
	awk -v l="$1" -v runs="$2" -v m="$3" -v n="$4" -v e="$5" 'BEGIN {
		printf "| %s |%s | %.3f | %.1f | %+.1f%% | %+.1f%% |\n", l, runs, m, 1e3 / m, (m / n - 1) * 100, (m / e - 1) * 100 }'
}

TCPDUMP=$WORK/tcpdump.md
measure_tcpdump() { # tcpdump | awk beside hdrq on one flood, then alone
	{
		echo "| run | sent | rx_packets | dropped before B | awk's count | tcpdump: captured / received by filter / **dropped by kernel** | hdrq count() on the same flood |"
		echo "|---|---|---|---|---|---|---|"
	} >"$TCPDUMP"
	hdrq_start "$WORK/agg.json" "$AGG_QUERY"
	tcpdump_flood
	hdrq_stop
	fidelity_row "beside tcpdump"
	tcpdump_row "beside hdrq" "$HQ_TOTAL"
	tcpdump_flood
	tcpdump_row alone –
}

tcpdump_flood() {
	tcpdump_start
	counted_flood "$N"
	tcpdump_stop
}

tcpdump_row() { # LABEL HDRQ-COUNT
	echo "| $1 | $SENT | $RX | $DROPS | $TD_LINES | $TD_CAPTURED / $TD_FILTER / **$TD_DROPPED** | $2 |" >>"$TCPDUMP"
	say "tcpdump $1: awk $TD_LINES, tcpdump's kernel drops $TD_DROPPED, rx_packets $RX, hdrq $2"
}

LOGT=$WORK/log.md
ZERO_LOSS=none    # highest achieved packets/s without loss (stalled aside)
FIRST_LOSS=       # lowest achieved packets/s with loss (stalled aside)
ACCOUNT_MISSES=   # rows where records + losses != packets counted
STALLED=          # what the stalled run lost, in words
STALLED_RECS=     # records written by the stalled run: what the ring buffer holds
MAX_RECS=0 MAX_SECS=1 MAX_LOST=0 # the max run: records, seconds, records lost
measure_log() {
	printf '%s as rec\nudp where dst_port == 9 as seen\n' "$LOG_QUERY" >"$WORK/log.hq"
	{
		echo "| offered pps | achieved pps | rx_packets | seen | records in file | ringbuf_drops | rate_limited | records + losses = seen? | zero loss? |"
		echo "|---|---|---|---|---|---|---|---|---|"
	} >"$LOGT"
	local rate
	for rate in $LOG_RATES; do
		log_run "$rate"
	done
}

# log_run RATE|max|stalled: one bounded flood with the log script attached,
# at RATE packets/s, as fast as trafgen can (max), or as fast as it can while
# hdrq is stopped (SIGSTOP) so the ring buffer must overflow (stalled)
log_run() {
	local rate=$1 pps recs seen drops limited lost ok zero
	hdrq_start "$WORK/log.json" -f "$WORK/log.hq"
	case $rate in
	max) counted_flood "$N" ;;
	stalled)
		kill -STOP "$HQ_PID"
		counted_flood "$N"
		kill -CONT "$HQ_PID"
		;;
	*) counted_flood $((rate * LOG_SECS)) "$rate" ;;
	esac
	hdrq_stop
	pps=$(awk -v n="$SENT" -v s="$SECS" 'BEGIN {printf "%d", n / s}')
	recs=$(grep -c '^{"type":"log"' "$WORK/log.json" || true)
	seen=$(hq_count "$WORK/log.json" seen)
	drops=$(hq_loss "$WORK/log.json" ringbuf_drops)
	limited=$(hq_loss "$WORK/log.json" rate_limited)
	lost=$((drops + limited))
	ok=$(yes_no "$seen" $((recs + lost)))
	zero=no
	if [ "$lost" -eq 0 ] && [ "$recs" -eq "$seen" ] && [ "$seen" -eq "$RX" ]; then
		zero=yes
	fi
	if [ "$rate" != stalled ] && [ "$zero" = yes ]; then
		[ "$ZERO_LOSS" != none ] && [ "$ZERO_LOSS" -ge "$pps" ] || ZERO_LOSS=$pps
	elif [ "$rate" != stalled ]; then
		[ -n "$FIRST_LOSS" ] && [ "$FIRST_LOSS" -le "$pps" ] || FIRST_LOSS=$pps
	fi
	[ $((recs + lost)) -eq "$seen" ] || ACCOUNT_MISSES+=" $rate"
	case $rate in
	max) MAX_RECS=$recs MAX_SECS=$SECS MAX_LOST=$lost ;;
	stalled) STALLED_RECS=$recs STALLED="$drops of $seen records lost to the full ring buffer, $recs written" ;;
	esac
	echo "| $rate | $pps | $RX | $seen | $recs | $drops | $limited | $ok | $zero |" >>"$LOGT"
	say "log at $rate pps (achieved $pps): seen $seen, records $recs, ringbuf_drops $drops, rate_limited $limited"
}

# ---------------------------------------------------------------- report

report() {
	local cpu
	cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
	echo "$MARK_BEGIN"
	echo "## Flood: fidelity, overhead and log throughput"
	echo
	echo "Recorded by \`bench/flood.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) CPUs ($cpu), $(uname -r); $(trafgen -v 2>&1 | head -1 | cut -d, -f1), tcpdump $(tcpdump --version 2>&1 | awk '{print $3; exit}'). Load average (1, 5, 15 min) at the start: $LOAD_START, at the end: $(load); whatever else runs on the machine competes with the flood for its CPUs."
	echo
	echo "Set-up: namespaces A and B joined by a veth pair; \`trafgen -P 1\` in A (pinned to CPU 0) sends $N 60-byte UDP frames 192.0.2.1 → 192.0.2.2:9 per flood, as fast as it can; hdrq runs on B's veth (XDP, native: veth's NAPI mode) with \`-o json\` and is stopped by SIGINT after the flood. The veth delivers a frame on the sending CPU, so the receive path (XDP program, IP/UDP stack, ICMP port-unreachable replies, rate-limited) runs on CPU 0 inside trafgen's send loop: the receiver rate is rx_packets on B over trafgen's own timing of that loop. \"Dropped before B\" sums A's tx_dropped (veth ring full), B's rx_dropped, the veth ring drops (ethtool -S) and the backlog drops of /proc/net/softnet_stat."
	echo
	echo "### Fidelity: hdrq's count against the interface's"
	echo
	echo "hdrq \`$AGG_QUERY\`: count() summed over the groups; \"packets\" is the loss record's count of packets the program ran on."
	echo
	echo "| flood | sent | rx_packets on B | dropped before B | hdrq count() | hdrq packets | count() = rx_packets? |"
	echo "|---|---|---|---|---|---|---|"
	cat "$FIDELITY"
	echo
	echo "### \`tcpdump -i $HQ_IF_B -n -l 'udp dst port 9' | awk\` side by side"
	echo
	cat "$TCPDUMP"
	echo
	echo "### Overhead: receiver packet rate ($REPS floods of $N per configuration, interleaved)"
	echo
	cat "$OVERHEAD"
	echo
	echo "### Overhead with XDP frames, the path of a NIC's native XDP"
	echo
	echo "A NIC's driver runs native XDP on the frame it received, before any socket buffer exists; trafgen's frames reach B's veth as socket buffers, which the veth copies for XDP (above). Here \`bench/xdpsend.c\` in A (pinned to CPU 0) runs a two-instruction XDP_TX program through BPF_PROG_TEST_RUN in live-frames mode, $N runs per flood: each run transmits the same 60-byte frame out of A's veth, which hands it to B's ring as an XDP frame (ndo_xdp_xmit), and B's NAPI poll runs B's XDP program on it, then builds the socket buffer. GRO is requested on both veths for this table, which puts them in NAPI mode without a program (xdpsend needs that). The poll runs on CPU 0 at the end of each batch of 64, so the receiver rate is rx_packets on B over xdpsend's wall time. \"Dropped before B\" also counts A's XDP frames that found B's ring full (xdp_xmit_errors). The fidelity rows marked \"XDP frames\" come from these floods."
	echo
	cat "$OVERHEAD_FRAMES"
	echo
	echo "### Log throughput: records to a JSON file"
	echo
	echo "Script (\`-f\`): \`$LOG_QUERY as rec\` and a counting query \`udp where dst_port == 9 as seen\` (the packets the program matched); \`-o json >file\`. Each flood offers a rate (trafgen \`-b\`) for $LOG_SECS s; \"max\": $N packets as fast as trafgen can; \"stalled\": the same while hdrq is stopped (SIGSTOP, SIGCONT after the flood), so that the ring buffer must overflow. \"Zero loss\": records in the file = seen = rx_packets and no loss counter moved. hdrq's ring buffer (8 MiB) absorbs a burst, so the zero-loss rate holds for floods of this length."
	echo
	cat "$LOGT"
	echo
	log_summary
	echo
	echo "After the run: the namespaces are gone and no program of its hdrq runs is left loaded (checked by BTF id)."
	echo "$MARK_END"
}

log_summary() { # the verdict under the log table
	if [ -n "$FIRST_LOSS" ]; then
		echo "Highest achieved rate with zero loss: **$ZERO_LOSS records/s**; the lowest with loss: $FIRST_LOSS packets/s. hdrq's reader competes for the CPUs with the flood and anything else running, so the boundary moves with the load."
	else
		echo "No loss at any rate tried, up to **$ZERO_LOSS records/s**: no flood overran the ring buffer."
	fi
	[ -z "$STALLED" ] || echo "With hdrq stopped (SIGSTOP) for a whole flood, SIGCONT after: $STALLED."
	if [ -n "$STALLED_RECS" ] && [ "$MAX_LOST" -gt 0 ]; then
		echo
		awk -v r="$MAX_RECS" -v c="$STALLED_RECS" -v s="$MAX_SECS" 'BEGIN {
			printf "Sustained rate of records to the file while the ring buffer overflowed (max row: its records less the ones the ring buffer still held at the end, which the stalled run measures, over the flood time): **about %.0f records/s**.\n", (r - c) / s }'
	fi
	echo
	if [ -z "$ACCOUNT_MISSES" ]; then
		echo "Loss accounting: records + ringbuf_drops + rate_limited = packets counted, **exactly, in every row**."
	else
		echo "Loss accounting: records + ringbuf_drops + rate_limited ≠ packets counted in the rows **$ACCOUNT_MISSES** (see the table)."
	fi
}

# FILE SECTION: replace FILE's marked section by SECTION; without one, put
# SECTION where run.sh would, before the appended ANALYSIS.md (or at the end)
update_results() {
	local file=$1 section=$2 at=$MARK_BEGIN
	grep -qxF "$MARK_BEGIN" "$file" || at=$(head -1 "$HERE/ANALYSIS.md" 2>/dev/null || true)
	awk -v at="$at" -v b="$MARK_BEGIN" -v e="$MARK_END" -v sec="$section" '
		function put(l) { while ((getline l < sec) > 0) print l; done = 1 }
		$0 == at && !done { put(); if (at == b) { skip = 1; next } print "" }
		$0 == e && skip { skip = 0; next }
		!skip
		END { if (!done) { print ""; put() } }' "$file" >"$WORK/results.md"
	cat "$WORK/results.md" >"$file"
	say "updated the flood section of $file"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

main() {
	require_tools
	LOAD_START=$(load)
	EMPTY=$(empty_program)
	say "flood of $N packets, $REPS runs per configuration; log rates: $LOG_RATES"
	XDPSEND=$(build_xdpsend)
	net_up
	measure_overhead trafgen "$OVERHEAD"
	measure_prog_ns
	hq_netns_gro on
	measure_overhead frames "$OVERHEAD_FRAMES"
	hq_netns_gro off
	SENDER=trafgen
	measure_tcpdump
	measure_log
	net_down_checked
	report >"$WORK/section.md"
	cat "$WORK/section.md"
	[ -z "${FLOOD_RESULTS:-}" ] || update_results "$FLOOD_RESULTS" "$WORK/section.md"
}

main
