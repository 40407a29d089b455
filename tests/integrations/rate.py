"""rate.py — the log rate limit under a flood, live in a network namespace.

3,000 matching UDP packets (plus non-matching noise) go from A to B in
bursts of 100, 20 bursts a second while hdrq on hqb0 logs them with a limit of
500 records per second, once with the query clause `rate 500/s` and once
with `--rate 500`. Checks, from hdrq's JSON stream:
  - at most 500 records in each of the kernel's one-second windows: the
    windows are CLOCK_MONOTONIC seconds and record time stamps are wall
    clock, so some phase of the wall-clock second must put every window at
    500 or fewer (searched in 1 ms steps);
  - records + rate_limited (the final loss record, "total": true) equals
    the matching packets the program saw (a counting query beside the log
    query), which is the packets sent, give or take a frame a veth queue
    may drop before XDP; no record was lost to the ring buffer.
"""

import os
import shutil
import subprocess
import tempfile
import time
import sys
from datetime import datetime

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import hqnet  # noqa: E402

RATE = 500
BURSTS, PER_BURST = 4, 750

SENDER = r"""
import logging, sys, time
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, UDP, Raw, conf
mac, bursts, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
total = bursts * n
hit = [bytes(Ether(dst=mac)/IP(src="192.0.2.1", dst="192.0.2.2", id=i)/UDP(sport=1000 + i % 100, dport=7777)/Raw(b"r"))
       for i in range(total)]
noise = bytes(Ether(dst=mac)/IP(src="192.0.2.1", dst="192.0.2.2")/UDP(sport=1, dport=7778))
s = conf.L2socket(iface="hqa0")
# bursts of 100 frames, 20 per second: a veth queue holds 256 frames for
# XDP, so a burst never overflows it
for b in range(0, total, 100):
    t = time.time()
    for p in hit[b:b + 100]:
        s.send(p)
    s.send(noise)
    time.sleep(max(0, 0.05 - (time.time() - t)))
s.close()
print(total)
"""


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def ts_ns(s):
    # 2026-11-29T07:53:00.123456789Z
    whole, frac = s[:-1].split(".")
    dt = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S")
    epoch = int((dt - datetime(1970, 1, 1)).total_seconds())
    return epoch * 10**9 + int(frac.ljust(9, "0"))


def max_per_window(stamps):
    """The smallest over phases (1 ms steps) of the fullest one-second window."""
    best = None
    for phase in range(0, 10**9, 10**6):
        counts = {}
        for t in stamps:
            k = (t - phase) // 10**9
            counts[k] = counts.get(k, 0) + 1
        m = max(counts.values())
        best = m if best is None else min(best, m)
        if best <= RATE:
            break
    return best


def run(pair, hdrq, args, query, label, tmp):
    """query: the rate-limited log query; a counting query `seen` runs beside
    it and says how many matching packets the program saw."""
    script = os.path.join(tmp, f"{label.strip('-')}.hq")
    with open(script, "w") as f:
        f.write(f"{query} as flood\nudp where dst_port == 7777 as seen\n")
    proc = pair.popen("B", [hdrq, "-i", hqnet.IF_B, "-d", "30", "-o", "json"] + args +
                      ["-f", script],
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if not hqnet.wait_attached(pair, "B", proc):
            fail(f"{label}: hdrq did not attach: {proc.stderr.read() if proc.poll() is not None else ''}")
        sent = int(pair.exec("A", [hqnet.PYTHON, "-c", SENDER, pair.mac_b, str(BURSTS),
                                   str(PER_BURST)], timeout=60).stdout.strip())
        time.sleep(0.5)
        proc.send_signal(2)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        fail(f"{label}: hdrq exited {proc.returncode}: {err}")
    objs, junk = hqnet.parse_json_lines(out)
    if junk:
        fail(f"{label}: not JSON: {junk[:3]}")
    recs = [o for o in objs if o["type"] == "log"]
    seen = sum(o["count"] for o in objs if o["type"] == "count" and o["query"] == "seen")
    total = [o for o in objs if o["type"] == "loss" and o.get("total") is True]
    if len(total) != 1 or objs[-1] is not total[0]:
        fail(f"{label}: want exactly one final loss record with total: true, last")
    loss = total[0]
    held = loss["rate_limited"]
    worst = max_per_window([ts_ns(r["ts"]) for r in recs])
    print(f"{label}: sent {sent}, seen {seen}, records {len(recs)}, rate_limited {held}, "
          f"fullest window {worst}, ringbuf_drops {loss['ringbuf_drops']}")
    if worst > RATE:
        fail(f"{label}: {worst} records in one second, limit {RATE}")
    if loss["ringbuf_drops"]:
        fail(f"{label}: ring buffer dropped records; the check would be void")
    # stdout is a pipe nobody reads until hdrq is stopped: hdrq sits in a
    # write on the full pipe when SIGINT comes, and that write must finish
    # (SA_RESTART), not drop the record it was writing
    if seen != len(recs) + held:
        fail(f"{label}: records {len(recs)} + rate_limited {held} != {seen} matching packets")
    if seen > sent or seen < sent * 0.99:  # a veth queue may drop a frame before XDP
        fail(f"{label}: the program saw {seen} of {sent} matching packets")
    if held == 0 or len(recs) < RATE:
        fail(f"{label}: the limit did not act as expected")


def main():
    hqnet.require_root()
    hdrq = hqnet.hdrq_bin()
    base = "udp where dst_port == 7777 log ip.src, src_port"
    tmp = tempfile.mkdtemp(prefix="hq-rate-")
    try:
        with hqnet.NetnsPair() as pair:
            run(pair, hdrq, [], f"{base} rate {RATE}/s", "clause", tmp)
            run(pair, hdrq, ["--rate", str(RATE)], base, "--rate", tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
