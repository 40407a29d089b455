#!/bin/bash
# check_json.sh — the JSON stream of test_output must parse with jq, line by
# line, and carry the values the formatter was given.
# usage: check_json.sh TEST_OUTPUT_BINARY
set -euo pipefail
bin=$1
out=$("$bin" --emit json)

fail() {
	echo "check_json: $*" >&2
	exit 1
}

# every line is one complete JSON object
n=0
while IFS= read -r line; do
	printf '%s\n' "$line" | jq -e 'type == "object" and has("type") and has("ts")' >/dev/null ||
		fail "line $((n + 1)) is not a JSON object: $line"
	n=$((n + 1))
done <<<"$out"
[ "$n" -eq 13 ] || fail "expected 13 lines, got $n"

check() {
	printf '%s\n' "$out" | jq -e -s "$1" >/dev/null || fail "failed: $1"
}
check '[.[] | select(.type == "log")] | length == 8'
check '[.[] | select(.type == "log")][-1]."http.path" == "/a b\"c,d\neÿé"'
check '[.[] | select(.type == "log")][-1] | has("ip6.src") | not'
check '[.[] | select(.type == "log")][0]."ip.df" == true'
check '[.[] | select(.type == "group" and .query == "q2")][0] |
	."tcp.dst_port" == 80 and ."ip.src" == "10.0.0.1" and ."avg(ip.len)" == 512.5 and
	(has("sum(ip.len)") | not)'
check '[.[] | select(.type == "group" and .query == "q2")][1] |
	."ip.src" == null and ."max(ip.len)" == null and ."avg(ip.len)" > 0.3333'
check '.[] | select(.query == "q3") | ."hist(ip.len)" |
	length == 3 and .[0] == {"min": 0, "max": 0, "count": 1} and .[1].min == 16 and
	.[1].max == 31 and .[2].min > 9e18'
check '.[] | select(.type == "count") | .count == 7'
check '.[] | select(.type == "loss") | .packets == 100 and .ringbuf_drops == 1 and
	.map_full == 2 and .rate_limited == 3 and .truncated == 4 and .skipped_frames == 5'
echo "check_json: ok ($n lines)"
