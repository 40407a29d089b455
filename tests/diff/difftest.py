#!/usr/bin/python3
"""difftest.py — hdrq against tshark, field by field, frame by frame.

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

Tab-separated: hdrq field, tshark field, conversion (then free text). `#`
starts a comment; a first row whose first cell is not a field name (e.g.
"hdrq") is a header. A tshark cell may hold alternatives `a|b` (the first
one tshark has is used: `inet.src` is `ip.src|ipv6.src`) and an occurrence
`vlan.id#2` (the second value of that field in the frame; `#1` is the
default, as with `-E occurrence=f`). An empty tshark cell or `-` means "no
tshark equivalent": the field is listed as unmapped and not compared.
Several rows for one hdrq field are alternatives in the same way.

Conversions (unknown names fail the run, so a typo cannot hide a field):
    (empty) uint int num  integers; either side may be decimal or 0x-hex
    hex                   the same (tshark prints BASE_HEX fields as 0x…)
    bool                  0/1; tshark 4.0 prints 1/0, 4.2+ True/False, and
                          hdrq true/false or 1/0 — all map to 0/1
    present               hdrq's bool is true exactly when tshark has the
                          field at all (tcp.opt.sack_perm vs the option's
                          bytes): true+present agree, false+absent agree,
                          true+absent is hdrq-only, false+present disagrees
    ip4 ip6 ip inet addr  addresses compared as values (ipaddress module):
                          IPv6 zero compression and case never matter
    mac ether             lower case, colon separated
    str string            exact string; tshark's escapes (\\xNN, \\\\, \\")
                          are undone first
    dnsname               str, and tshark's "<Root>" is the empty name; a
                          trailing dot is dropped on both sides
    mulN / divN           hdrq value == tshark value × N (or ÷ N)
    time ts               hdrq pkt.ts (epoch ns, or s, or RFC 3339) equal to
                          frame.time_epoch to the microsecond
    len                   uint (documentation only: a length)
Tokens can be combined with commas (e.g. `uint,mul4`).

## Normalisations applied everywhere (documented, explicit)

- tshark: an empty cell is "absent". Values are taken from the first
  occurrence (-E occurrence=f), i.e. the outermost header, which is the one
  hdrq parses.
- hdrq: a key missing from a record, or null, is "absent". Nested JSON
  objects are flattened with dots.
- Integers: int(x, 0) on strings; JSON numbers as they are; true/false as 1/0.
- Comparisons never trim or lower-case strings except where a conversion
  above says so.

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
                "-o", "tcp.desegment_tcp_streams:FALSE"]
KNOWN_CONV = {"", "uint", "int", "num", "hex", "bool", "present", "ip4", "ip6", "ip", "inet",
              "addr", "mac", "ether", "str", "string", "dnsname", "time", "ts", "len"}
EXAMPLES = 5


class Absent:
    pass


ABSENT = Absent()


# --------------------------------------------------------------------------
# mapping

class Mapping:
    def __init__(self, hq, alts, conv, line):
        self.hq = hq
        self.alts = alts      # [(tshark_field, occurrence)], in order
        self.conv = conv      # list of tokens
        self.line = line


def load_mapping(path):
    maps = {}
    unmapped = set()
    errors = []
    with open(path) as f:
        first = True
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = line.split("\t")
            hq = cells[0].strip()
            if first:
                first = False
                if not re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", hq):
                    continue  # header row
            ts = cells[1].strip() if len(cells) > 1 else ""
            conv = cells[2].strip() if len(cells) > 2 else ""
            if ts in ("", "-"):
                unmapped.add(hq)
                continue
            toks = [t.strip().lower() for t in conv.split(",")] if conv else [""]
            for t in toks:
                if t not in KNOWN_CONV and not re.fullmatch(r"(mul|div)\d+", t):
                    errors.append(f"{path}:{n}: unknown conversion {t!r} for {hq}")
            alts = []
            for a in ts.split("|"):
                a = a.strip()
                occ = 1
                if "#" in a:
                    a, o = a.split("#", 1)
                    occ = int(o)
                alts.append((a, occ))
            if hq in maps:  # another row for the same field: more alternatives
                maps[hq].alts += alts
            else:
                maps[hq] = Mapping(hq, alts, toks, n)
    return maps, unmapped, errors


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


def unescape_tshark(s):
    # tshark -T fields escapes backslash, quotes and non-printables as \xNN
    # (and \t \n \r); undo that so both sides are raw text.
    def rep(m):
        t = m.group(1)
        return {"\\": "\\", '"': '"', "t": "\t", "n": "\n", "r": "\r"}.get(t) or chr(int(t[1:], 16))
    return re.sub(r"\\(x[0-9a-fA-F]{2}|[\\\"tnr])", rep, s)


def parse_time_ns(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        x = v
    else:
        s = str(v).strip()
        try:
            x = float(s) if "." in s or "e" in s.lower() else int(s)
        except ValueError:
            # RFC 3339: 2023-11-14T22:13:20.001000Z (or +00:00)
            m = re.fullmatch(r"(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?", s)
            if not m:
                raise
            base = datetime.datetime.fromisoformat(
                m.group(1) + (("+00:00" if m.group(3) in (None, "Z") else m.group(3))))
            frac = (m.group(2) or "0")[:9].ljust(9, "0")
            return int(base.timestamp()) * 10**9 + int(frac)
    if isinstance(x, float) or x < 10**12:  # seconds
        return int(round(float(x) * 1e6)) * 1000
    return int(x)


def normalise(conv, side, v):
    """Canonical value for comparison. side: 'hq' or 'ts'. Raises ValueError
    if the value cannot be read in that conversion (counted as a
    disagreement, showing the raw value)."""
    c = set(conv)
    mul = [int(t[3:]) for t in conv if t.startswith("mul")]
    div = [int(t[3:]) for t in conv if t.startswith("div")]
    if c & {"ip4", "ip6", "ip", "inet", "addr"}:
        return str(ipaddress.ip_address(str(v).strip()))
    if c & {"mac", "ether"}:
        s = str(v).strip().lower().replace("-", ":")
        if not re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", s):
            raise ValueError(s)
        return s
    if c & {"str", "string", "dnsname"}:
        s = unescape_tshark(str(v)) if side == "ts" else str(v)
        if "dnsname" in c:
            if s == "<Root>":
                s = ""
            s = s[:-1] if s.endswith(".") else s
        return s
    if c & {"time", "ts"}:
        return parse_time_ns(v) // 1000  # microseconds, the resolution of pcap
    if "bool" in c:
        x = to_int(v)
        return 1 if x else 0
    x = to_int(v)
    if side == "ts":
        for m in mul:
            x *= m
        for d in div:
            x //= d
    return x


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
    """{frame.number: {field: [values...]}} (all occurrences; [] if absent)."""
    cmd = (["tshark", "-n", "-r", path] + TSHARK_PREFS +
           ["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=\x1f", "-E", "separator=\t",
            "-E", "quote=n", "-e", "frame.number", "-e", "frame.cap_len"])
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
        d = {"frame.cap_len": int(cells[1]) if len(cells) > 1 and cells[1] else 0}
        for i, fl in enumerate(fields):
            cell = cells[i + 2] if i + 2 < len(cells) else ""
            d[fl] = cell.split("\x1f") if cell != "" else []
        frames[num] = d
    return frames


# -E occurrence=a with our own aggregator, then the first value taken here,
# is -E occurrence=f; it also gives #2 occurrences (the inner VLAN tag) in
# the same run. A tshark field with commas in its values (http.request.uri)
# is safe because the aggregator is \x1f, not ','.


def tshark_value(mapping, tframe):
    for fl, occ in mapping.alts:
        vals = tframe.get(fl, [])
        if len(vals) >= occ and vals[occ - 1] != "":
            return vals[occ - 1], fl
    return ABSENT, None


# --------------------------------------------------------------------------
# comparison

class Stat:
    def __init__(self):
        self.compared = self.agreed = self.disagreed = self.hq_only = self.ts_only = 0
        self.examples = []     # disagreements and hdrq-only, first few
        self.ts_examples = []  # tshark-only, first few

    def add(self, other):
        for k in ("compared", "agreed", "disagreed", "hq_only", "ts_only"):
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
            if key not in maps and key != "pkt.num" and rec[key] is not None:
                unmapped_seen.add(key)
        for hq, m in maps.items():
            hv = rec.get(hq, ABSENT)
            if hv is None:
                hv = ABSENT
            tv, tfield = tshark_value(m, tf)
            if hv is ABSENT and tv is ABSENT:
                continue
            st = stats.setdefault(hq, Stat())
            if "present" in m.conv:
                hp = hv is not ABSENT and bool(to_int(hv))
                tp = tv is not ABSENT
                if not hp and not tp:
                    continue
                st.compared += 1
                if hp and tp:
                    st.agreed += 1
                elif hp:
                    st.hq_only += 1
                    st.examples.append(f"{label}#{num}: hdrq {hv!r}, tshark has no {m.alts[0][0]}")
                elif hv is ABSENT:
                    st.ts_only += 1
                    st.ts_examples.append(f"{label}#{num}: tshark {tv!r}")
                else:
                    st.disagreed += 1
                    st.examples.append(f"{label}#{num}: hdrq {hv!r}, tshark {tfield}={tv!r}")
                continue
            st.compared += 1
            if tv is ABSENT:
                st.hq_only += 1
                if len(st.examples) < EXAMPLES:
                    st.examples.append(f"{label}#{num}: hdrq {hv!r}, tshark has no "
                                       f"{'|'.join(a for a, _ in m.alts)}")
                continue
            if hv is ABSENT:
                st.ts_only += 1
                if len(st.ts_examples) < EXAMPLES:
                    st.ts_examples.append(f"{label}#{num}: tshark {tfield}={tv!r}")
                continue
            try:
                ok = normalise(m.conv, "hq", hv) == normalise(m.conv, "ts", tv)
            except (ValueError, TypeError):
                ok = False
            if ok:
                st.agreed += 1
            else:
                st.disagreed += 1
                if len(st.examples) < EXAMPLES:
                    st.examples.append(f"{label}#{num}: hdrq {hv!r}, tshark {tfield}={tv!r}")
    return stats, unmapped_seen, missing


def pct(a, b):
    return f"{100.0 * a / b:6.2f}%" if b else "     -"


def print_table(stats, title, out):
    out.write(f"\n{title}\n")
    out.write(f"  {'field':<26} {'compared':>9} {'agreed':>9} {'disagreed':>9} {'hdrq-only':>9} "
              f"{'tshark-only':>11} {'agreement':>9}\n")
    tot = Stat()
    for hq in sorted(stats):
        s = stats[hq]
        tot.add(s)
        judged = s.agreed + s.disagreed + s.hq_only
        flag = "  <-- FAIL" if s.disagreed or s.hq_only else ""
        out.write(f"  {hq:<26} {s.compared:>9} {s.agreed:>9} {s.disagreed:>9} {s.hq_only:>9} "
                  f"{s.ts_only:>11} {pct(s.agreed, judged):>9}{flag}\n")
    judged = tot.agreed + tot.disagreed + tot.hq_only
    out.write(f"  {'TOTAL':<26} {tot.compared:>9} {tot.agreed:>9} {tot.disagreed:>9} "
              f"{tot.hq_only:>9} {tot.ts_only:>11} {pct(tot.agreed, judged):>9}\n")
    return tot


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--name", default="captures")
    ap.add_argument("--mapping", default=None)
    ap.add_argument("--summary", default=None, help="write the figures as JSON here")
    ap.add_argument("--jobs", type=int, default=2)
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
        for fl, _ in m.alts:
            if fl not in known:
                errors.append(f"{mpath}:{m.line}: tshark has no field {fl!r} (for {m.hq})")
    if errors:
        print("FAIL: bad mapping:\n  " + "\n  ".join(errors))
        return 1
    tfields = sorted({fl for m in maps.values() for fl, _ in m.alts})

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
    if bad_fields or problems:
        out.write(f"FAIL {args.name}: {len(bad_fields)} fields disagree or are hdrq-only; "
                  f"{len(problems)} problems\n")
        return 1
    out.write(f"PASS {args.name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
