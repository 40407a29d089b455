#!/usr/bin/python3
r"""difftest.py — hdrq against tshark, field by field, frame by frame.

    difftest.py [--name NAME] [--mapping TSV] [--summary OUT.json] CAPTURE|DIR ...

For every capture: `hdrq -r FILE -o json 'any log *'` logs every field of
every layer of every frame; tshark decodes the same file with
`-T fields -E occurrence=f` (IP defragmentation and TCP reassembly off, so
each frame is decoded on its own, as hdrq's kernel program sees it). Records
are matched by pkt.num == frame.number, and every field hdrq logs is compared
with the tshark field that tests/proto/ws_fields.tsv maps it to.

Per field it counts
    compared     frames where at least one side has a value
    agreed       both have it and the values are equal (after normalising)
    disagreed    both have it and the values differ       -> FAIL
    hdrq-only    hdrq has it, tshark does not             -> FAIL
    tshark-only  tshark has it, hdrq does not (hdrq may be stricter about
                 validity, or tshark decodes a protocol hdrq does not, such
                 as a header quoted inside an ICMP error)  -> reported
and prints the agreement figure (agreed / (agreed + disagreed + hdrq-only)).
Any disagreement or hdrq-only value fails the run, as does an hdrq error, a
frame of 14 bytes or more without a record, or a mapping that names a field
tshark does not know.

## The mapping (tests/proto/ws_fields.tsv)

Its header comment is the reference. Columns: hdrq_field, tshark (fields,
comma-separated for first_of/last_of), compare, occurrence (1, 2, last),
path, filter, note. `-` in the tshark column: no tshark equivalent; the
field is listed as unmapped and not compared. How the harness reads them:

    path     a regex over tshark's frame.protocols. When it does not match,
             the layer is one hdrq cannot see (inside a tunnel or an ICMP
             error, behind MPLS or a third VLAN tag), so tshark's value counts
             as absent: a value hdrq reports there is hdrq-only.
    filter   a display filter; only frames it selects are compared. It is
             evaluated here, in Python, with Wireshark's semantics for
             repeated fields (any occurrence), for the subset the mapping
             uses: presence, == != < <= > >=, in {…}, count(f), && || !.
             Frames it leaves out where hdrq has a value are counted as
             "filtered" (reported, not judged).
    compare  num hex (both as integers; 0x… accepted on either side),
             num_div:K (hdrq == tshark // K), bool (1/0, True/False, JSON
             true/false), ip4 ip6 (as address values: IPv6 zero compression
             and case never matter), mac (case-insensitive), str (exact,
             after undoing tshark's \xNN escapes; when the note says "hdrq
             keeps at most N bytes", a value of N or N-1 bytes that is a prefix
             of tshark's agrees; for dns.qry.name tshark's "<Root>" is the
             empty name and a trailing dot is ignored), present (hdrq's bool
             is true exactly when tshark has the field), expr:E (hdrq ==
             E evaluated with v = tshark's integer), ns_epoch (hdrq epoch ns
             or RFC 3339 vs tshark seconds.fraction, parsed as exact decimal
             text), first_of / last_of (the first / last tshark field that has
             a value; compared as integers, else addresses, else text),
             chain (a next-header chain: START,F1@V1,F2@V2,... starts at
             START's value and, while that value is some Vi, steps to the next
             occurrence of Fi; the value where it stops, compared as first_of).

## Other normalisations (explicit)

- tshark: an empty cell is "absent". All occurrences are read with one
  aggregator (\x1f) and the mapping's occurrence is picked here, so
  occurrence 1 is exactly `-E occurrence=f`.
- hdrq: a key missing from a record, or null, is "absent". Nested JSON
  objects are flattened with dots. Records without pkt.num (summaries, loss
  reports) are ignored.

Frame groups: captures are reported one by one and in total; --name sets the
title of the total (ctest registers corpus, crafted-wellformed, and
crafted-malformed as separate tests).
"""

import argparse
import concurrent.futures
import datetime
import ipaddress
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import hqnet  # noqa: E402

TSHARK_PREFS = ["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
                "-o", "tcp.analyze_sequence_numbers:FALSE",
                "-o", "tcp.desegment_tcp_streams:FALSE"]
EXAMPLES = 5


class Absent:
    pass


ABSENT = Absent()


# --------------------------------------------------------------------------
# mapping

KINDS = {"num", "hex", "bool", "ip4", "ip6", "mac", "str", "present", "ns_epoch", "first_of",
         "last_of", "chain"}


class Mapping:
    def __init__(self, hq, fields, kind, arg, occ, path, filt, note, line):
        self.hq = hq
        self.links = {}           # chain: header type -> field holding its next value
        if kind == "chain":
            for i, f in enumerate(fields[1:], 1):
                name, _, v = f.partition("@")
                self.links[int(v, 0)] = name
                fields[i] = name
        self.fields = fields      # tshark fields, in order
        self.kind = kind          # compare kind (see module doc)
        self.arg = arg            # K of num_div:K, E of expr:E
        self.occ = occ            # "1", "2" or "last"
        self.path = re.compile(path) if path else None
        self.filt_src = filt
        self.filt, self.filt_fields = compile_filter(filt) if filt else (None, [])
        self.note = note
        self.line = line
        m = re.search(r"at most (\d+) bytes", note or "")
        self.max_len = int(m.group(1)) if m else None


def load_mapping(path):
    """Rows of tests/proto/ws_fields.tsv (its header comment documents the
    columns: hdrq_field tshark compare occurrence path filter note)."""
    maps, unmapped, errors = {}, set(), []
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#") or line.startswith("hdrq_field\t"):
                continue
            c = [x.strip() for x in line.split("\t")]
            c += ["-"] * (7 - len(c))
            hq, ts, cmp_, occ, pth, filt, note = c[:7]
            if ts == "-" or ts == "":
                unmapped.add(hq)
                continue
            kind, _, arg = cmp_.partition(":")
            if kind not in KINDS and kind not in ("num_div", "expr"):
                errors.append(f"{path}:{n}: unknown compare kind {cmp_!r} for {hq}")
                continue
            if kind == "num_div" and not arg.isdigit():
                errors.append(f"{path}:{n}: num_div needs a number: {cmp_!r}")
                continue
            if occ not in ("1", "2", "last", "-"):
                errors.append(f"{path}:{n}: unknown occurrence {occ!r}")
                continue
            try:
                maps[hq] = Mapping(hq, [x.strip() for x in ts.split(",")], kind, arg,
                                   "1" if occ == "-" else occ, None if pth == "-" else pth,
                                   None if filt == "-" else filt, None if note == "-" else note, n)
            except (ValueError, re.error, SyntaxError) as e:
                errors.append(f"{path}:{n}: {hq}: {e}")
    return maps, unmapped, errors


# A display filter (the `filter` column) evaluated in Python over the
# tshark values of the frame, with Wireshark's semantics for repeated fields
# ("f == 4" holds when any occurrence equals 4). The subset that the mapping
# uses: field presence, == != < <= > >=, `in {a b c}`, count(f), && || !,
# and/or/not, parentheses.
_TOK = re.compile(r"\s*(&&|\|\||==|!=|<=|>=|<|>|!|\(|\)|\{|\}|,|0x[0-9a-fA-F]+|\d+|"
                  r"[A-Za-z_][A-Za-z0-9_.\-]*)")


def compile_filter(src):
    toks, pos = [], 0
    while pos < len(src):
        m = _TOK.match(src, pos)
        if not m:
            if src[pos:].strip() == "":
                break
            raise ValueError(f"cannot read filter {src!r} at {src[pos:]!r}")
        toks.append(m.group(1))
        pos = m.end()
    fields, out, i = [], [], 0
    ops = {"==", "!=", "<=", ">=", "<", ">"}
    while i < len(toks):
        t = toks[i]
        if t in ("&&", "and"):
            out.append(" and ")
        elif t in ("||", "or"):
            out.append(" or ")
        elif t in ("!", "not"):
            out.append(" not ")
        elif t in ("(", ")"):
            out.append(t)
        elif t == "count" and i + 3 < len(toks) and toks[i + 1] == "(":
            fields.append(toks[i + 2])
            out.append(f"_count({toks[i + 2]!r})")
            i += 3  # count ( f )
        elif re.fullmatch(r"0x[0-9a-fA-F]+|\d+", t):
            out.append(str(int(t, 0)))
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", t):
            if i + 1 < len(toks) and toks[i + 1] in ops:
                op, val = toks[i + 1], toks[i + 2]
                fields.append(t)
                out.append(f"_cmp({t!r}, {op!r}, {int(val, 0)})")
                i += 2
            elif i + 1 < len(toks) and toks[i + 1] == "in":
                j = toks.index("}", i)
                vals = [int(x, 0) for x in toks[i + 3:j] if x != ","]
                fields.append(t)
                out.append(f"_in({t!r}, {set(vals)!r})")
                i = j
            else:
                fields.append(t)
                out.append(f"_has({t!r})")
        else:
            if out and out[-1].startswith("_count(") and t in ops:
                out.append(f" {t} ")
            else:
                raise ValueError(f"cannot read filter {src!r} at {t!r}")
        i += 1
    code = compile("".join(out), f"<filter {src}>", "eval")
    return code, fields


def eval_filter(m, tf):
    def vals(f):
        return [v for v in tf.get(f, []) if v != ""]

    def ints(f):
        r = []
        for v in vals(f):
            try:
                r.append(to_int(v))
            except ValueError:
                pass
        return r

    import operator
    opf = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
           ">": operator.gt, ">=": operator.ge}
    env = {"_has": lambda f: bool(vals(f)),
           "_count": lambda f: len(vals(f)),
           "_cmp": lambda f, op, x: any(opf[op](v, x) for v in ints(f)),
           "_in": lambda f, s: any(v in s for v in ints(f))}
    return bool(eval(m.filt, env))


def tshark_known_fields():
    r = subprocess.run(["tshark", "-G", "fields"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    known = set()
    for line in r.stdout.splitlines():
        c = line.split("\t")
        if len(c) > 2 and c[0] in ("F", "P"):
            known.add(c[2])
    return known


# --------------------------------------------------------------------------
# normalisation

def to_int(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    s = str(v).strip()
    if s in ("True", "true"):
        return 1
    if s in ("False", "false"):
        return 0
    return int(s, 0)


_C_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
          "\\": "\\", '"': '"', "'": "'"}


def unescape_tshark(s):
    """tshark -T fields prints strings through format_text(): control bytes
    as C escapes (\a \t \n …, else octal \ooo), a backslash as \\, and
    invalid UTF-8 as U+FFFD. Undo the escapes (U+FFFD stays; see equal())."""
    def rep(m):
        t = m.group(1)
        if t[0] in "01234567":
            return chr(int(t, 8))
        if t[0] == "x":
            return chr(int(t[1:], 16))
        return _C_ESC.get(t, t)
    return re.sub(r"\\([0-7]{1,3}|x[0-9a-fA-F]{2}|[abfnrtv\\\"'])", rep, s)


def str_equal(h, t):
    r"""hdrq's JSON string h against tshark's unescaped text t.
    - hdrq strings are C strings: they end at the first NUL byte, so
      tshark's text is cut there too;
    - hdrq writes bytes that are not UTF-8 as \u00XX (U+0080..U+00FF) and
      tshark as U+FFFD, so U+FFFD matches a run of such characters."""
    if "\x00" in t:
        t = t[:t.index("\x00")]
    if "\ufffd" not in t:
        return h == t
    pat = "".join("[\x80-\xff\ufffd]+" if c == "\ufffd" else re.escape(c) for c in t)
    return re.fullmatch(pat, h, re.S) is not None


def epoch_ns(v):
    """ns since the epoch from hdrq's value (integer ns, or an RFC 3339
    string) or tshark's frame.time_epoch (seconds.fraction, parsed exactly
    as decimal text: a double cannot hold 19 digits)."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    s = str(v).strip()
    m = re.fullmatch(r"(\d+)(?:\.(\d+))?", s)
    if m:
        if m.group(2) is None and len(s) > 12:
            return int(s)  # already ns
        return int(m.group(1)) * 10**9 + int((m.group(2) or "0")[:9].ljust(9, "0"))
    m = re.fullmatch(r"(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?", s)
    if not m:
        raise ValueError(s)
    tz = "+00:00" if m.group(3) in (None, "Z") else m.group(3)
    base = datetime.datetime.fromisoformat(m.group(1) + tz)
    return int(base.timestamp()) * 10**9 + int((m.group(2) or "0")[:9].ljust(9, "0"))


def generic(v):
    """first_of/last_of: integers, then addresses, then text."""
    try:
        return to_int(v)
    except (ValueError, TypeError):
        pass
    try:
        return str(ipaddress.ip_address(str(v).strip()))
    except ValueError:
        return str(v)


def equal(m, hv, tv):
    """Does hdrq's value hv equal tshark's tv under mapping m? Raises
    ValueError/TypeError when a side cannot be read (a disagreement)."""
    k = m.kind
    if k in ("num", "hex"):
        return to_int(hv) == to_int(tv)
    if k == "num_div":
        return to_int(hv) == to_int(tv) // int(m.arg)
    if k == "bool":
        return bool(to_int(hv)) == bool(to_int(tv))
    if k in ("ip4", "ip6"):
        return ipaddress.ip_address(str(hv).strip()) == ipaddress.ip_address(tv.strip())
    if k == "mac":
        return str(hv).strip().lower() == tv.strip().lower()
    if k == "expr":
        return to_int(hv) == int(eval(m.arg, {"__builtins__": {}}, {"v": to_int(tv)}))
    if k == "ns_epoch":
        return epoch_ns(hv) == epoch_ns(tv)
    if k in ("first_of", "last_of", "chain"):
        gh, gt = generic(hv), generic(tv)
        if isinstance(gh, str) and isinstance(gt, str) and gh != gt:
            # text (http.version): bytes that are not UTF-8 as for "str"
            return str_equal(str(hv), unescape_tshark(tv))
        return gh == gt
    if k == "str":
        # DNS names: hdrq writes tshark's own escapes (\ooo for bytes outside
        # 0x20..0x7e), so the text is compared as tshark prints it
        h = str(hv)
        t = tv if m.fields[0] == "dns.qry.name" else unescape_tshark(tv)
        if "\x00" in t:
            t = t[:t.index("\x00")]
        if m.fields[0] == "dns.qry.name":
            # tshark names the root "<Root>"; a trailing dot is not part of
            # the name on either side
            t = "" if t == "<Root>" else t.rstrip(".")
            h = h.rstrip(".")
        if str_equal(h, t):
            return True
        # the mapping's note says "hdrq keeps at most N bytes": a value cut
        # there (N, or N-1 with a terminating NUL) is a prefix of tshark's
        n = len(h.encode("utf-8", "surrogateescape"))
        return bool(m.max_len) and n in (m.max_len, m.max_len - 1) and t.startswith(h)
    raise ValueError(f"compare kind {k}")


# --------------------------------------------------------------------------
# running hdrq and tshark

def run_hdrq(hdrq, path):
    r = subprocess.run([hdrq, "-r", path, "-o", "json", "any log *"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=600)
    objs, junk = hqnet.parse_json_lines(r.stdout)
    recs = {}
    dup = 0
    for o in objs:
        f = hqnet.flatten(o)
        if "pkt.num" not in f:
            continue  # summaries, loss reports
        n = to_int(f["pkt.num"])
        if n in recs:
            dup += 1
        recs[n] = f
    return r.returncode, r.stderr, recs, junk, dup


def run_tshark(path, fields):
    r"""{frame.number: {field: [values...]}} (all occurrences; [] if absent).

    -E occurrence=a with our own aggregator (\x1f), then picking the value
    here, is -E occurrence=f when the mapping says occurrence 1; it also
    gives the 2nd and last occurrences (inner VLAN tag, last extension
    header) from the same run. Values with commas (http.request.uri) are
    safe because the aggregator is not ','."""
    cmd = (["tshark", "-n", "-r", path] + TSHARK_PREFS +
           ["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=\x1f", "-E", "separator=\t",
            "-E", "quote=n", "-e", "frame.number", "-e", "frame.cap_len", "-e", "frame.protocols"])
    # tshark prints a field named twice only in its last column (the
    # earlier one stays empty), so the three base fields are not repeated
    base = ("frame.number", "frame.cap_len", "frame.protocols")
    fields = [fl for fl in fields if fl not in base]
    for fl in fields:
        cmd += ["-e", fl]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, errors="surrogateescape", timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"tshark failed on {path}: {r.stderr.strip()[-500:]}")
    frames = {}
    for line in r.stdout.split("\n"):
        if not line:
            continue
        cells = line.split("\t")
        try:
            num = int(cells[0])
        except ValueError:
            continue
        d = {"frame.cap_len": int(cells[1]) if len(cells) > 1 and cells[1] else 0,
             "frame.protocols": cells[2] if len(cells) > 2 else ""}
        for i, fl in enumerate(fields):
            cell = cells[i + 3] if i + 3 < len(cells) else ""
            d[fl] = cell.split("\x1f") if cell != "" else []
        d["frame.number"] = [str(num)]
        frames[num] = d
    return frames


def pick(vals, occ):
    vals = [v for v in vals]
    if occ == "last":
        return vals[-1] if vals and vals[-1] != "" else ABSENT
    i = int(occ) - 1
    return vals[i] if len(vals) > i and vals[i] != "" else ABSENT


def chain_value(m, tf):
    """Follow a next-header chain (compare kind `chain`) in packet order."""
    v, f = pick(tf.get(m.fields[0], []), "1"), m.fields[0]
    used = {}
    while v is not ABSENT and to_int(v) in m.links:
        nf = m.links[to_int(v)]
        i = used.get(nf, 0)
        nv = pick(tf.get(nf, []), str(i + 1))
        if nv is ABSENT:
            break
        used[nf] = i + 1
        v, f = nv, nf
    return v, f


def tshark_value(m, tf):
    """(value, tshark field) that hdrq's field m must equal in frame tf, or
    (ABSENT, reason). The path column says where hdrq can see the layer:
    when frame.protocols does not match it, tshark's value is not one hdrq
    could have (a header inside a tunnel, an ICMP error, MPLS, a third VLAN
    tag), so it counts as absent."""
    if m.path and not m.path.search(tf["frame.protocols"]):
        return ABSENT, "path"
    if m.kind == "chain":
        return chain_value(m, tf)
    if m.kind in ("first_of", "last_of"):
        got = [(pick(tf.get(f, []), m.occ), f) for f in m.fields]
        got = [g for g in got if g[0] is not ABSENT]
        if not got:
            return ABSENT, None
        return got[0] if m.kind == "first_of" else got[-1]
    return pick(tf.get(m.fields[0], []), m.occ), m.fields[0]


# --------------------------------------------------------------------------
# comparison

class Stat:
    def __init__(self):
        self.compared = self.agreed = self.disagreed = self.hq_only = self.ts_only = 0
        self.filtered = 0      # hdrq had a value; the mapping's filter excluded the frame
        self.examples = []     # disagreements and hdrq-only, first few
        self.ts_examples = []  # tshark-only, first few

    def add(self, other):
        for k in ("compared", "agreed", "disagreed", "hq_only", "ts_only", "filtered"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.examples += other.examples[:max(0, EXAMPLES - len(self.examples))]
        self.ts_examples += other.ts_examples[:max(0, EXAMPLES - len(self.ts_examples))]


def compare_file(path, recs, tframes, maps):
    stats = {}
    unmapped_seen = set()
    missing = []
    label = os.path.basename(path)
    for num, tf in sorted(tframes.items()):
        rec = recs.get(num)
        if rec is None:
            if tf["frame.cap_len"] >= 14:
                missing.append(num)
            continue
        for key in rec:
            if key not in maps and "." in key and rec[key] is not None:
                unmapped_seen.add(key)
        for hq, m in maps.items():
            hv = rec.get(hq, ABSENT)
            if hv is None:
                hv = ABSENT
            tv, tfield = tshark_value(m, tf)
            if hv is ABSENT and tv is ABSENT:
                continue
            st = stats.setdefault(hq, Stat())
            if tfield != "path" and m.filt is not None and not eval_filter(m, tf):
                # the comparison applies only to frames the filter selects
                if hv is not ABSENT:
                    st.filtered += 1
                continue
            where = f"{label}#{num}"
            if m.kind == "present":
                hp = hv is not ABSENT and bool(to_int(hv))
                tp = tv is not ABSENT
                if hv is ABSENT and not tp:
                    continue
                st.compared += 1
                if hp == tp:
                    st.agreed += 1
                elif hv is ABSENT:
                    st.ts_only += 1
                    st.ts_examples.append(f"{where}: tshark {tfield} present")
                elif hp:
                    st.hq_only += 1
                    st.examples.append(f"{where}: hdrq {hq}={hv!r}, tshark has no {m.fields[0]}")
                else:
                    st.disagreed += 1
                    st.examples.append(f"{where}: hdrq {hq}={hv!r}, tshark has {tfield}")
                continue
            st.compared += 1
            if tv is ABSENT:
                st.hq_only += 1
                if len(st.examples) < EXAMPLES:
                    why = (f" (frame.protocols {tf['frame.protocols']} does not match the path)"
                           if tfield == "path" else "")
                    st.examples.append(f"{where}: hdrq {hq}={hv!r}, tshark has no "
                                       f"{','.join(m.fields)}{why}")
                continue
            if hv is ABSENT:
                st.ts_only += 1
                if len(st.ts_examples) < EXAMPLES:
                    st.ts_examples.append(f"{where}: tshark {tfield}={tv!r}")
                continue
            try:
                ok = equal(m, hv, tv)
            except (ValueError, TypeError, ArithmeticError):
                ok = False
            if ok:
                st.agreed += 1
            else:
                st.disagreed += 1
                if len(st.examples) < EXAMPLES:
                    st.examples.append(f"{where}: hdrq {hq}={hv!r}, tshark {tfield}={tv!r}")
    return stats, unmapped_seen, missing


def pct(a, b):
    return f"{100.0 * a / b:6.2f}%" if b else "     -"


def print_table(stats, title, out):
    out.write(f"\n{title}\n")
    out.write(f"  {'field':<26} {'compared':>9} {'agreed':>9} {'disagreed':>9} {'hdrq-only':>9} "
              f"{'tshark-only':>11} {'filtered':>8} {'agreement':>9}\n")
    tot = Stat()
    for hq in sorted(stats):
        s = stats[hq]
        tot.add(s)
        judged = s.agreed + s.disagreed + s.hq_only
        flag = "  <-- FAIL" if s.disagreed or s.hq_only else ""
        out.write(f"  {hq:<26} {s.compared:>9} {s.agreed:>9} {s.disagreed:>9} {s.hq_only:>9} "
                  f"{s.ts_only:>11} {s.filtered:>8} {pct(s.agreed, judged):>9}{flag}\n")
    judged = tot.agreed + tot.disagreed + tot.hq_only
    out.write(f"  {'TOTAL':<26} {tot.compared:>9} {tot.agreed:>9} {tot.disagreed:>9} "
              f"{tot.hq_only:>9} {tot.ts_only:>11} {tot.filtered:>8} {pct(tot.agreed, judged):>9}\n")
    return tot


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--name", default="captures")
    ap.add_argument("--mapping", default=None)
    ap.add_argument("--summary", default=None, help="write the figures as JSON here")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--budget", default=None,
                    help="JSON {\"disagree\": N, \"hq_only\": M}: a ratchet for captures where "
                         "100%% is not reached yet; more than that fails, fewer is reported")
    ap.add_argument("--show-tshark-only", action="store_true")
    ap.add_argument("--skip-missing", action="store_true",
                    help="exit 77 (ctest: skipped) when a capture directory is missing")
    args = ap.parse_args()

    if args.skip_missing and not all(os.path.exists(p) for p in args.paths):
        print(f"SKIP: captures not found: {args.paths}")
        return hqnet.SKIP
    if os.geteuid() != 0 and not os.environ.get("HQ_DIFF_NOROOT"):
        print("SKIP: hdrq -r runs BPF programs (BPF_PROG_TEST_RUN): needs root")
        return hqnet.SKIP
    hdrq = hqnet.hdrq_bin()
    src = os.environ.get("HQ_SRC", os.path.join(HERE, "..", ".."))
    mpath = args.mapping or os.path.join(src, "tests", "proto", "ws_fields.tsv")
    if not os.path.exists(mpath):
        print(f"FAIL: no field mapping at {mpath}")
        return 1
    maps, unmapped, errors = load_mapping(mpath)
    known = tshark_known_fields()
    for m in maps.values():
        for fl in m.fields + m.filt_fields:
            if fl not in known:
                errors.append(f"{mpath}:{m.line}: tshark has no field {fl!r} (for {m.hq})")
    if errors:
        print("FAIL: bad mapping:\n  " + "\n  ".join(errors))
        return 1
    tfields = sorted({fl for m in maps.values() for fl in m.fields + m.filt_fields})

    files = []
    for p in args.paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p)
                            if f.endswith((".pcap", ".pcapng", ".cap")))
        else:
            files.append(p)
    if not files:
        print(f"FAIL: no captures in {args.paths}")
        return 1
    print(f"{args.name}: {len(files)} captures, {len(maps)} mapped fields "
          f"({len(unmapped)} listed without a tshark equivalent)")

    def work(path):
        rc, err, recs, junk, dup = run_hdrq(hdrq, path)
        tf = run_tshark(path, tfields)
        return path, rc, err, recs, junk, dup, tf

    total = {}
    problems = []
    unmapped_seen = set()
    frames = records = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        results = list(ex.map(work, files))
    per_file = []
    for path, rc, err, recs, junk, dup, tf in results:
        name = os.path.basename(path)
        frames += len(tf)
        records += len(recs)
        if rc != 0:
            problems.append(f"{name}: hdrq exit {rc}: {err.strip()[-400:]}")
        if junk:
            problems.append(f"{name}: {len(junk)} non-JSON lines on stdout, e.g. {junk[0][:120]!r}")
        if dup:
            problems.append(f"{name}: {dup} duplicate pkt.num records")
        stats, um, missing = compare_file(path, recs, tf, maps)
        unmapped_seen |= um
        if missing:
            problems.append(f"{name}: {len(missing)} frames (>= 14 bytes) without a record, "
                            f"e.g. frame {missing[:5]}")
        bad = sum(s.disagreed + s.hq_only for s in stats.values())
        agreed = sum(s.agreed for s in stats.values())
        per_file.append((name, len(tf), len(recs), agreed, bad))
        for hq, s in stats.items():
            total.setdefault(hq, Stat()).add(s)

    out = sys.stdout
    out.write(f"\nper capture: frames, hdrq records, values agreed, values wrong\n")
    for name, nf, nr, ag, bad in per_file:
        out.write(f"  {'FAIL' if bad else 'ok  '} {name:<52} {nf:>6} {nr:>6} {ag:>8} {bad:>6}\n")
    tot = print_table(total, f"{args.name}: agreement per field over {frames} frames "
                             f"({records} hdrq records)", out)
    bad_fields = [hq for hq, s in sorted(total.items()) if s.disagreed or s.hq_only]
    if bad_fields:
        out.write("\nfirst examples (capture#frame):\n")
        for hq in bad_fields:
            out.write(f"  {hq}:\n")
            for ex_ in total[hq].examples[:EXAMPLES]:
                out.write(f"    {ex_}\n")
    if args.show_tshark_only:
        out.write("\ntshark-only examples:\n")
        for hq, s in sorted(total.items()):
            if s.ts_examples:
                out.write(f"  {hq}:\n" + "".join(f"    {e}\n" for e in s.ts_examples))
    never = sorted(set(maps) - set(total))
    if never:
        out.write(f"\nmapped fields that no frame had on either side: {', '.join(never)}\n")
    if unmapped_seen:
        out.write(f"hdrq fields logged but not in the mapping (not compared): "
                  f"{', '.join(sorted(unmapped_seen))}\n")
    judged = tot.agreed + tot.disagreed + tot.hq_only
    out.write(f"\n{args.name}: AGREEMENT {pct(tot.agreed, judged).strip()} "
              f"({tot.agreed} of {judged} values; {tot.disagreed} disagree, {tot.hq_only} hdrq-only, "
              f"{tot.ts_only} tshark-only) over {frames} frames in {len(files)} captures\n")
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump({"name": args.name, "frames": frames, "records": records,
                       "captures": len(files),
                       "fields": {hq: vars(s) for hq, s in total.items()},
                       "problems": problems}, f, indent=1, default=str)
    for p in problems:
        out.write(f"PROBLEM: {p}\n")
    if args.budget and not problems:
        return check_budget(args, tot, out)
    if bad_fields or problems:
        out.write(f"FAIL {args.name}: {len(bad_fields)} fields disagree or are hdrq-only; "
                  f"{len(problems)} problems\n")
        return 1
    out.write(f"PASS {args.name}\n")
    return 0


def check_budget(args, tot, out):
    """Pass while disagreements and hdrq-only values stay within the recorded
    budget (tests/diff/*_budget.json), so the figures can only get better."""
    with open(args.budget) as f:
        b = json.load(f)
    over = tot.disagreed > b["disagree"] or tot.hq_only > b["hq_only"]
    out.write(f"{'FAIL' if over else 'PASS'} {args.name}: {tot.disagreed} disagree "
              f"(budget {b['disagree']}), {tot.hq_only} hdrq-only (budget {b['hq_only']})\n")
    if not over and (tot.disagreed < b["disagree"] or tot.hq_only < b["hq_only"]):
        out.write(f"  better than the budget: lower it in {args.budget}\n")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
