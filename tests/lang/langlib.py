"""langlib.py — helpers shared by the tests/lang scripts (owned by the
language/stdlib area): where hdrq and the stdlib are, running `--check`,
offline runs with JSON output, the field list, root detection."""
import glob
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("HQ_SRC", os.path.abspath(os.path.join(HERE, "..", "..")))
HDRQ = os.environ.get("HDRQ", "hdrq")
STDLIB = os.environ.get("HDRQ_STDLIB", os.path.join(SRC, "stdlib"))
os.environ.setdefault("HDRQ_STDLIB", STDLIB)
SKIP = 77


def need_root():
    """Loading programs needs root: skip (77) otherwise."""
    if os.geteuid() != 0:
        print("SKIP: needs root (loads BPF programs)")
        sys.exit(SKIP)


def run(args, timeout=120):
    return subprocess.run([HDRQ] + list(args), capture_output=True, text=True, timeout=timeout)


def check(query=None, script=None):
    """hdrq --check on a query or a script file: (rc, stdout + stderr)."""
    r = run(["--check"] + (["-f", script] if script else [query]))
    return r.returncode, r.stdout + r.stderr


def offline(capture, query=None, script=None, extra=()):
    """hdrq -r CAPTURE -o json: (rc, list of JSON records, stderr)."""
    args = ["-r", capture, "-o", "json"] + list(extra)
    args += ["-f", script] if script else [query]
    r = run(args)
    recs = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            recs.append(json.loads(line))
    return r.returncode, recs, r.stderr


def groups(recs, query=None):
    return [x for x in recs if x.get("type") == "group" and (query is None or x.get("query") == query)]


def logs(recs, query=None):
    return [x for x in recs if x.get("type") == "log" and (query is None or x.get("query") == query)]


def spec_examples():
    """The required examples of SPEC §1 (from ../shared/SPEC.md, else a copy)."""
    path = os.path.join(SRC, "..", "shared", "SPEC.md")
    if os.path.exists(path):
        text = open(path).read()
        block = text.split("Required examples", 1)[1].split("###", 1)[0]
        return [l.strip() for l in block.splitlines() if l.startswith("    ") and l.strip()]
    return [l.strip() for l in open(os.path.join(HERE, "spec_examples.txt")) if l.strip()]


def stdlib_queries():
    return sorted(glob.glob(os.path.join(STDLIB, "queries", "*.hq")))


def examples():
    return sorted(glob.glob(os.path.join(SRC, "examples", "*.hq")))


def fields():
    """Every field: {full: (type, max or None, ws names, layer)} from `hdrq -l`
    plus the bit widths of stdlib/proto/*.hdr."""
    out = run(["-l"]).stdout
    res = {}
    for line in out.splitlines():
        m = re.match(r"^  (\S+)\s+(\S+)\s+(\S+)\s", line)
        if not m or m.group(1) == "FIELD":
            continue
        full, typ, ws = m.groups()
        res[full] = dict(type=re.sub(r"\[.*", "", typ), max=None,
                         ws=[] if ws == "-" else ws.split(","), layer=full.split(".")[0],
                         name=full.split(".", 1)[1])
    for path in glob.glob(os.path.join(STDLIB, "proto", "*.hdr")):
        layer = None
        for line in open(path):
            m = re.match(r"^layer (\S+)", line)
            if m:
                layer = m.group(1)
            m = re.match(r"^\s+field (\S+) uint .*?\bbits (\d+)(?:.*?\bmul (\d+))?", line)
            if m and layer and "%s.%s" % (layer, m.group(1)) in res:
                mx = (1 << int(m.group(2))) - 1
                res["%s.%s" % (layer, m.group(1))]["max"] = mx * int(m.group(3) or 1)
    return res
