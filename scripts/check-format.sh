#!/usr/bin/env bash
# Check (or, with --fix, apply) the C style of .clang-format on every C
# source and header of the repository. Uses Debian 12's clang-format (14):
# other versions format some constructs differently.
set -euo pipefail
cd "$(dirname "$0")/.."
CF=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$CF" ] || { echo "check-format.sh: clang-format is not installed (scripts/deps.sh)" >&2; exit 77; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	mapfile -t files < <(find . -path ./build\* -prune -o \( -name '*.c' -o -name '*.h' \) -print)
fi
if [ "${1:-}" = --fix ]; then
	"$CF" -i "${files[@]}"
	exit 0
fi
if ! out=$("$CF" --dry-run -Werror "${files[@]}" 2>&1); then
	grep -E '^[^ ].*: error:' <<<"$out" | cut -d: -f1 | sort -u >&2
	echo "check-format.sh: the files above differ from .clang-format; run scripts/check-format.sh --fix" >&2
	exit 1
fi
echo "check-format.sh: ${#files[@]} files follow .clang-format"
