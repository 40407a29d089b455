"""prometheus.py — a real Prometheus server scrapes `hdrq --metrics` while
hdrq runs a live query in a network namespace; the values read back through
Prometheus's HTTP API (/api/v1/query) must equal the traffic sent, and
`promtool check metrics` must accept the exposition.

Everything runs in namespace B (its own loopback, so fixed ports are free):
hdrq on hqb0 serving 127.0.0.1:9464, Prometheus (temporary config and TSDB,
scrape every 1 s) on 127.0.0.1:9090. Namespace A sends crafted UDP from
192.0.2.1 and 198.51.100.7 (an extra address on hqa0) plus noise that must
not count. Bounded: hdrq runs -d 60 at most and is stopped with SIGINT once
the values are in; Prometheus is killed at the end.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import hqnet  # noqa: E402

HQ_PORT, PROM_PORT = 9464, 9090
QUERY = ("udp where dst_port in {5001, 5002} group by dst_port, ip.src "
         "select count(), sum(ip.len), hist(ip.len), max(ip.len) as flows")
# (source, dst_port, payload bytes, packets)
TRAFFIC = [("192.0.2.1", 5001, 100, 30), ("192.0.2.1", 5002, 10, 12),
           ("198.51.100.7", 5001, 1000, 7)]
NOISE = [("192.0.2.1", 6000, 50, 9)]  # other port: not counted


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def expected():
    exp = {}
    for src, port, size, n in TRAFFIC:
        exp[(str(port), src)] = {"count": n, "sum": n * (20 + 8 + size), "max": 28 + size}
    return exp


SENDER = r"""
import logging, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, UDP, Raw, sendp
mac, spec = sys.argv[1], eval(sys.argv[2])
pkts = []
for src, port, size, n in spec:
    pkts += [Ether(dst=mac)/IP(src=src, dst="192.0.2.2")/UDP(sport=40000, dport=port)/Raw(b"x" * size)] * n
sendp(pkts, iface="hqa0", verbose=0)
print(len(pkts))
"""


def curl(pair, url, timeout=5):
    r = pair.exec("B", ["curl", "-s", "--max-time", str(timeout), url], check=False)
    return r.stdout if r.returncode == 0 else None


def prom_query(pair, q):
    out = curl(pair, f"http://127.0.0.1:{PROM_PORT}/api/v1/query?query="
               + urllib.parse.quote(q))
    if not out:
        return None
    try:
        d = json.loads(out)
    except ValueError:
        return None
    if d.get("status") != "success":
        return None
    return d["data"]["result"]


def start_prometheus(pair, tmp):
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: hdrq
    static_configs:
      - targets: ['127.0.0.1:{HQ_PORT}']
""")
    log = open(os.path.join(tmp, "prometheus.log"), "w")
    return pair.popen("B", ["prometheus", f"--config.file={cfg}",
                            f"--storage.tsdb.path={tmp}/tsdb",
                            f"--web.listen-address=127.0.0.1:{PROM_PORT}",
                            "--storage.tsdb.retention.time=1h"],
                      stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_values(pair, exp, deadline):
    """Poll Prometheus until every series has its expected value."""
    got = {}
    while time.time() < deadline:
        got = {}
        for fam, key in (("hdrq_flows_count_total", "count"),
                         ("hdrq_flows_sum_ip_len_total", "sum"),
                         ("hdrq_flows_max_ip_len", "max"),
                         ("hdrq_flows_hist_ip_len_count", "count"),
                         ("hdrq_flows_hist_ip_len_sum", "sum")):
            for s in prom_query(pair, fam) or []:
                lab = s["metric"]
                k = (lab.get("udp_dst_port"), lab.get("ip_src"))
                got.setdefault(k, {})[fam] = float(s["value"][1])
        ok = set(got) == set(exp) and all(
            got[k].get("hdrq_flows_count_total") == v["count"]
            and got[k].get("hdrq_flows_sum_ip_len_total") == v["sum"]
            and got[k].get("hdrq_flows_max_ip_len") == v["max"]
            and got[k].get("hdrq_flows_hist_ip_len_count") == v["count"]
            and got[k].get("hdrq_flows_hist_ip_len_sum") == v["sum"]
            for k, v in exp.items())
        if ok:
            return got, True
        time.sleep(0.5)
    return got, False


def check_hist_buckets(pair):
    """192.0.2.1 -> 5001: 30 packets of ip.len 128, in hist's bucket [128, 255]:
    cumulative buckets as Prometheus stores them (le="127" 0, le="255" 30)."""
    res = prom_query(pair, 'hdrq_flows_hist_ip_len_bucket{ip_src="192.0.2.1",udp_dst_port="5001"}')
    by_le = {s["metric"]["le"]: float(s["value"][1]) for s in res or []}
    if by_le.get("127") != 0 or by_le.get("255") != 30 or by_le.get("+Inf") != 30:
        fail(f"histogram buckets of 192.0.2.1:5001 (30 packets of ip.len 128): {by_le}")


def main():
    hqnet.require_root()
    hdrq = hqnet.hdrq_bin()
    for tool in ("prometheus", "promtool", "curl"):
        if not shutil.which(tool):
            fail(f"{tool} is missing (scripts/deps.sh installs it)")
    tmp = tempfile.mkdtemp(prefix="hq-prom-")
    prom = proc = None
    try:
        with hqnet.NetnsPair() as pair:
            pair.exec("A", ["ip", "addr", "add", "198.51.100.7/24", "dev", hqnet.IF_A])
            prom = start_prometheus(pair, tmp)
            err = open(os.path.join(tmp, "hdrq.err"), "w")
            proc = pair.popen("B", [hdrq, "-i", hqnet.IF_B, "-d", "60", "-o", "json",
                                    "--metrics", f"127.0.0.1:{HQ_PORT}", QUERY],
                              stdout=subprocess.PIPE, stderr=err, text=True)
            if not hqnet.wait_attached(pair, "B", proc):
                fail("hdrq did not attach: " + open(err.name).read())
            sent = pair.exec("A", [hqnet.PYTHON, "-c", SENDER, pair.mac_b,
                                   repr(TRAFFIC + NOISE)]).stdout.strip()
            exp = expected()
            want = sum(n for *_, n in TRAFFIC + NOISE)
            if int(sent) != want:
                fail(f"sender sent {sent} packets, want {want}")
            got, ok = wait_values(pair, exp, time.time() + 40)
            if not ok:
                fail(f"Prometheus has {got}, want {exp}")
            check_hist_buckets(pair)
            pk = prom_query(pair, "hdrq_packets_total")
            if not pk or float(pk[0]["value"][1]) < want:
                fail(f"hdrq_packets_total {pk} < {want} packets sent")
            expo = curl(pair, f"http://127.0.0.1:{HQ_PORT}/metrics")
            r = subprocess.run(["promtool", "check", "metrics"], input=expo, text=True,
                               capture_output=True)
            if r.returncode != 0:
                fail(f"promtool check metrics: {r.stdout}{r.stderr}")
            up = prom_query(pair, 'up{job="hdrq"}')
            if not up or up[0]["value"][1] != "1":
                fail(f"scrape target not up: {up}")
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=20)
            if proc.returncode != 0:
                fail(f"hdrq exited {proc.returncode}: {open(err.name).read()}")
            rows, junk = hqnet.parse_json_lines(out)
            groups = [o for o in rows if o["type"] == "group"]
            if len(groups) != len(exp) or junk:
                fail(f"hdrq's own output disagrees: {groups} {junk}")
            print(f"ok: {len(exp)} series equal the traffic in Prometheus; promtool accepts "
                  f"the exposition ({len(expo.splitlines())} lines)")
    finally:
        for p in (proc, prom):
            if p and p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL) if p is prom else p.kill()
                p.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
