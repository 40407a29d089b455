"""formats.py — real runs (offline, over a crafted capture spanning three
seconds) in every output form: log records, group tables with every
aggregate (hist/lhist included), counting queries, `every` intervals.

  -o json: every line parses (Python's json and jq), validates against
           docs/hdrq-json.schema.json (python3-jsonschema), time stamps are
           RFC 3339, loss records carry "total": false after each interval
           and exactly one "total": true, last, whose counters are the sums.
  -o csv:  parsed by Python's csv module: each query's header row comes
           before its rows, rows have the header's width, the values agree
           with the JSON run.
  -o text: the same number of log lines.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import hqnet  # noqa: E402

SCRIPT = """tcp where dst_port == 80 log ip.src, ip.dst, src_port, dst_port, flags as web
udp group by dst_port select count(), sum(ip.len), avg(ip.len), min(ip.len), max(ip.len), hist(ip.len), lhist(ip.len, 0, 200, 50), distinct(ip.src) every 1s as udp_ports
icmp as pings
inet group by inet.src select count() as talkers
"""


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def make_capture(path):
    code = r"""
import logging, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, IPv6, UDP, TCP, ICMP, Raw, wrpcap
E = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
pk = []
for s in range(3):
    for i in range(10):
        pk.append(E/IP(src="192.0.2.%d" % (i % 4 + 1), dst="198.51.100.1")/TCP(sport=40000 + i, dport=80, flags="S"))
        pk.append(E/IP(src="192.0.2.9", dst="198.51.100.1")/UDP(sport=5000, dport=53 + i % 2)/Raw(b"q" * (i * 20)))
        pk.append(E/IPv6(src="2001:db8::%d" % (i % 3 + 1), dst="2001:db8::ff")/UDP(dport=53)/Raw(b"a,b\"c"))
    pk.append(E/IP(src="192.0.2.7", dst="198.51.100.1")/ICMP())
for n, p in enumerate(pk):
    p.time = 1700000000 + (n // 31) + (n % 31) / 100
wrpcap(sys.argv[1], pk)
"""
    subprocess.run([hqnet.PYTHON, "-c", code, path], check=True)


def run(hdrq, cap, script, fmt):
    r = subprocess.run([hdrq, "-r", cap, "-o", fmt, "-f", script], capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        fail(f"-o {fmt} exited {r.returncode}: {r.stderr}")
    return r.stdout


def check_json(out, schema_path):
    import jsonschema
    schema = json.load(open(schema_path))
    v = jsonschema.Draft202012Validator(schema)
    objs = []
    for n, line in enumerate(out.splitlines(), 1):
        o = json.loads(line)
        errs = sorted(v.iter_errors(o), key=lambda e: e.path)
        if errs:
            fail(f"line {n} does not match the schema: {errs[0].message}: {line}")
        objs.append(o)
    jq = subprocess.run(["jq", "-c", "."], input=out, capture_output=True, text=True)
    if jq.returncode != 0 or len(jq.stdout.splitlines()) != len(objs):
        fail(f"jq: {jq.stderr}")
    losses = [o for o in objs if o["type"] == "loss"]
    totals = [o for o in losses if o["total"]]
    if len(totals) != 1 or objs[-1] is not totals[0]:
        fail("want exactly one loss record with total: true, as the last line")
    deltas = [o for o in losses if not o["total"]]
    if len(deltas) < 2:
        fail(f"every 1s over 3 s of capture: want interval loss records, got {len(deltas)}")
    if sum(d["packets"] for d in deltas) > totals[0]["packets"]:
        fail("interval deltas add up to more than the total")
    return objs


def check_csv(out, objs):
    rows = list(csv.reader(io.StringIO(out)))
    headers, data = {}, {}
    for r in rows:
        if r[:2] == ["ts", "query"]:
            continue
        q = r[1]
        data.setdefault(q, []).append(r)
    cur = {}
    for r in rows:
        if r[:2] == ["ts", "query"]:
            cur_header = r
            continue
        q = r[1]
        if q not in headers:
            headers[q] = cur_header
        if len(r) != len(headers[q]):
            fail(f"CSV row of {q} has {len(r)} fields, header {len(headers[q])}: {r}")
        cur[q] = cur.get(q, 0) + 1
    for q, want in (("web", "log"), ("udp_ports", "group"), ("pings", "count"),
                    ("talkers", "group")):
        n_json = sum(1 for o in objs if o.get("query") == q and o["type"] == want)
        if cur.get(q, 0) != n_json:
            fail(f"{q}: {cur.get(q, 0)} CSV rows, {n_json} JSON objects")
    h = headers["udp_ports"]
    if "hist(ip.len)" not in h or "lhist(ip.len, 0, 200, 50)" not in h:
        fail(f"udp_ports header: {h}")
    web = headers["web"]
    if web[:2] != ["ts", "query"] or "ip.src" not in web:
        fail(f"web header: {web}")


def main():
    hqnet.require_root()
    hdrq = hqnet.hdrq_bin()
    src = os.environ.get("HQ_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
    tmp = tempfile.mkdtemp(prefix="hq-fmt-")
    try:
        cap = os.path.join(tmp, "t.pcap")
        make_capture(cap)
        script = os.path.join(tmp, "q.hq")
        with open(script, "w") as f:
            f.write(SCRIPT)
        objs = check_json(run(hdrq, cap, script, "json"),
                          os.path.join(src, "docs", "hdrq-json.schema.json"))
        kinds = {o["type"] for o in objs}
        if kinds != {"log", "group", "count", "loss"}:
            fail(f"record types {kinds}")
        if not any(isinstance(o.get("hist(ip.len)"), list) and o["hist(ip.len)"] for o in objs):
            fail("no histogram in the JSON groups")
        check_csv(run(hdrq, cap, script, "csv"), objs)
        text = run(hdrq, cap, script, "text")
        n_log = sum(1 for o in objs if o["type"] == "log")
        n_text = sum(1 for l in text.splitlines() if " web: " in l)
        if n_text != n_log:
            fail(f"text: {n_text} log lines, JSON {n_log}")
        print(f"ok: {len(objs)} JSON objects valid by schema and jq; CSV and text agree")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
