#!/usr/bin/env bash
# verify.sh — every query in verify.tbl compiles and passes the verifier
# (hdrq --check loads all three programs and reports their sizes).
set -u
tbl="$(dirname "$0")/verify.tbl"
: "${HDRQ:?HDRQ must point at the hdrq binary}"
if [ "$(id -u)" != 0 ]; then echo "needs root (BPF load)"; exit 77; fi
pass=0 fail=0
while IFS= read -r q; do
	case "$q" in ''|'#'*) continue ;; esac
	if out=$("$HDRQ" --check "$q" 2>&1); then
		pass=$((pass + 1))
		printf 'ok    %-70s %s\n' "$q" "$(echo "$out" | tr '\n' ' ' | cut -c1-80)"
	else
		fail=$((fail + 1))
		printf 'FAIL  %s\n%s\n' "$q" "$(echo "$out" | tail -n 25)"
	fi
done < "$tbl"
echo "verifier: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
