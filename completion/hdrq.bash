# bash completion for hdrq(1) — options, their arguments, layers and fields
# (from `hdrq -l`, so they follow the installed protocol definitions), and
# the names of the standard library's saved queries.
# Installed as PREFIX/share/bash-completion/completions/hdrq.

_hdrq_stdlib_dir()
{
	if [[ -n ${HDRQ_STDLIB-} ]]; then
		printf '%s\n' "$HDRQ_STDLIB"
		return
	fi
	local bin
	bin=$(command -v "${1:-hdrq}" 2>/dev/null) || return
	bin=$(readlink -f "$bin")
	printf '%s\n' "${bin%/*}/../share/hdrq/stdlib"
}

# layers and fields: the first word of `hdrq -l` lines ("  ip.src  ip4 …")
# and the layer headings ("ip — Internet Protocol version 4")
_hdrq_fields()
{
	"${1:-hdrq}" -l 2>/dev/null | awk '
		/^[a-z0-9_]+ — / { print $1; next }
		/^  [a-z0-9_]+\.[a-z0-9_.]+ / { print $1 }'
}

_hdrq_layers()
{
	"${1:-hdrq}" -l 2>/dev/null | awk '/^[a-z0-9_]+ — / { print $1 }'
}

_hdrq_queries()
{
	local dir f
	dir=$(_hdrq_stdlib_dir "$1")/queries
	for f in "$dir"/*.hq; do
		[[ -e $f ]] || continue
		f=${f##*/}
		printf '%s\n' "${f%.hq}"
	done
}

_hdrq()
{
	local cur prev words cword
	_init_completion -n := || return
	local hdrq=${words[0]}
	local opts="-i --interface --hook -r --read -w --write -c --count -d --duration
		-o --output -f --file --metrics --linger --anonymize --rate --progress --emit
		--check -l --list-fields --list -h --help --version"

	case $prev in
	-i | --interface)
		COMPREPLY=($(compgen -W "any $(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		return
		;;
	--hook)
		COMPREPLY=($(compgen -W "xdp tc" -- "$cur"))
		return
		;;
	-o | --output)
		COMPREPLY=($(compgen -W "text json csv" -- "$cur"))
		return
		;;
	--emit)
		COMPREPLY=($(compgen -W "ir asm obj ast" -- "$cur"))
		return
		;;
	-r | --read)
		_filedir '@(pcap|pcapng|cap|pcap.gz)'
		return
		;;
	-f | --file)
		_filedir hq
		return
		;;
	-w | --write | --anonymize)
		_filedir
		return
		;;
	-l | --list-fields)
		COMPREPLY=($(compgen -W "$(_hdrq_layers "$hdrq")" -- "$cur"))
		return
		;;
	-c | --count | -d | --duration | --metrics | --linger | --rate)
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	# query words: saved queries, layers, fields and the keywords
	local kw="where log group by select having every top limit rate as on ingress
		egress and or not in count() sum( avg( min( max( hist( lhist( distinct("
	COMPREPLY=($(compgen -W "$(_hdrq_queries "$hdrq") $(_hdrq_fields "$hdrq") $kw" -- "$cur"))
} &&
	complete -F _hdrq hdrq
