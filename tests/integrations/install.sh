#!/bin/bash
# install.sh — `cmake --install` into a temporary prefix (and a DESTDIR), then
# the installed binary with HDRQ_STDLIB unset: it finds the installed
# stdlib (not the source tree's), --version names LLVM and libbpf, --help
# and the man page list the same options, the man page renders, and bash
# completion completes options, option values, fields and saved queries.
set -euo pipefail
: "${HQ_BUILD:?HQ_BUILD (the build directory) is not set}"
TMP=$(mktemp -d /tmp/hq-install.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}

P=$TMP/prefix
cmake --install "$HQ_BUILD" --prefix "$P" >"$TMP/install.log" 2>&1 || fail "$(cat "$TMP/install.log")"
for f in bin/hdrq share/hdrq/stdlib/proto share/hdrq/stdlib/queries/rst-storm.hq \
	share/man/man1/hdrq.1 share/bash-completion/completions/hdrq; do
	[ -e "$P/$f" ] || fail "not installed: $f"
done
DESTDIR=$TMP/dest cmake --install "$HQ_BUILD" --prefix /opt/hq >/dev/null 2>&1
[ -x "$TMP/dest/opt/hq/bin/hdrq" ] || fail "DESTDIR install lacks bin/hdrq"

unset HDRQ_STDLIB
H=$P/bin/hdrq
"$H" --version >"$TMP/v" || fail "--version failed"
grep -q '^hdrq [0-9]' "$TMP/v" && grep -qi 'llvm' "$TMP/v" && grep -q '^libbpf [0-9]' "$TMP/v" ||
	fail "--version: $(cat "$TMP/v")"
"$H" -l tcp | grep -q 'tcp.flags.rst' || fail "installed hdrq -l tcp lists no tcp.flags.rst"
"$H" --emit ast rst-storm >/dev/null || fail "installed hdrq does not find saved query rst-storm"
# the stdlib used is the installed one: the note names its directory
"$H" --emit ast nosuchquery 2>"$TMP/e" && fail "nosuchquery accepted"
real=$(readlink -f "$P")
grep -q "$real/share/hdrq/stdlib/queries/nosuchquery.hq" "$TMP/e" ||
	fail "installed hdrq does not use its own stdlib: $(cat "$TMP/e")"
# the moved DESTDIR tree works too (relocatable)
"$TMP/dest/opt/hq/bin/hdrq" -l ip >/dev/null || fail "the DESTDIR tree cannot find its stdlib"

# --help and the man page list the same long options
"$H" --help >"$TMP/h"
[ "$(wc -l <"$TMP/h")" -le 30 ] || fail "--help is longer than 30 lines"
grep -o -- '--[a-z][a-z-]*' "$TMP/h" | sort -u >"$TMP/help.opts"
grep -v '^\.\\"' "$P/share/man/man1/hdrq.1" | sed 's/\\-/-/g' | grep -o -- '--[a-z][a-z-]*' | sort -u >"$TMP/man.opts"
diff "$TMP/help.opts" "$TMP/man.opts" >"$TMP/d" || fail "--help and hdrq.1 differ: $(cat "$TMP/d")"
if command -v man >/dev/null; then
	# justified text: groff puts the extra spaces on alternate sides, line
	# by line; a file, not a pipe into grep -q, which pipefail would fail
	MANWIDTH=80 man -l "$P/share/man/man1/hdrq.1" 2>"$TMP/mw" | tr -s ' ' >"$TMP/man.txt" || true
	grep -qi 'prefix-preserving anonymisation' "$TMP/man.txt" ||
		fail "hdrq.1 does not render: $(cat "$TMP/mw")"
fi

# bash completion (needs the bash-completion package's helpers)
BC=/usr/share/bash-completion/bash_completion
if [ -r "$BC" ]; then
	complete_words() { # words... -> completions of the last one
		bash -c '
			. "$1"; . "$2"; shift 2
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			_hdrq; printf "%s\n" "${COMPREPLY[@]}"' _ "$BC" \
			"$P/share/bash-completion/completions/hdrq" "$@"
	}
	complete_words "$H" --ano | grep -qx -- '--anonymize' || fail "completion: --ano"
	complete_words "$H" -o '' | sort | tr '\n' ' ' | grep -q 'csv json text' ||
		fail "completion: -o values"
	complete_words "$H" 'tcp.flags.r' | grep -qx 'tcp.flags.rst' || fail "completion: fields"
	complete_words "$H" 'rst-' | grep -qx 'rst-storm' || fail "completion: saved queries"
	complete_words "$H" -l 'ic' | grep -qx 'icmp' || fail "completion: -l LAYER"
else
	echo "note: $BC missing; completion not exercised"
fi
echo "ok: installed into $P; stdlib, man page, completion, --help, --version"
