#!/usr/bin/env bash
# verify.sh — every query in verify.tbl compiles and passes the verifier
# (hdrq --check loads all three programs and reports their sizes), and no
# program of one query uses more than HQ_VERIFY_BUDGET of the verifier's
# 1,000,000 processed instructions: the queries of a script share one
# program, so a single query must leave room for others (and a cost that
# creeps up shows here before it hits the kernel's limit).
set -u
budget=${HQ_VERIFY_BUDGET:-600000}
tbl="$(dirname "$0")/verify.tbl"
: "${HDRQ:?HDRQ must point at the hdrq binary}"
if [ "$(id -u)" != 0 ]; then echo "needs root (BPF load)"; exit 77; fi
pass=0 fail=0
while IFS= read -r q; do
	case "$q" in ''|'#'*) continue ;; esac
	if out=$("$HDRQ" --check "$q" 2>&1); then
		worst=$(echo "$out" | sed -n 's/.* \([0-9]*\) processed by the verifier.*/\1/p' | sort -n | tail -1)
		if [ "${worst:-0}" -gt "$budget" ]; then
			fail=$((fail + 1))
			printf 'FAIL  %s\n      %s processed instructions, over the budget of %s\n' \
				"$q" "$worst" "$budget"
			continue
		fi
		pass=$((pass + 1))
		printf 'ok    %-70s %s\n' "$q" "$(echo "$out" | tr '\n' ' ' | cut -c1-80)"
	else
		fail=$((fail + 1))
		printf 'FAIL  %s\n%s\n' "$q" "$(echo "$out" | tail -n 25)"
	fi
done < "$tbl"
echo "verifier: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
