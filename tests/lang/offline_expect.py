#!/usr/bin/python3
"""offline_expect.py — the classic investigations on crafted captures,
checked against what tshark says about the same packets. Owned by tests/lang.

  port scan        distinct(dst_port) per source == tshark's distinct
                   tcp.dstport of SYN-only segments; the stdlib port-scan
                   query names the scanner and nobody else
  SYN flood        per-target SYN counts (and distinct sources) == tshark,
                   summed over the `every 1s` intervals of the stdlib query
  retransmissions  `tcp where retransmit` finds exactly the frames tshark
                   marks tcp.analysis.retransmission (pkt.num ==
                   frame.number), nothing else; the stdlib query agrees
  constants        `ip.proto == tcp`, `icmp.type == echo_request`,
                   `eth.type == arp`, tcp.flags masks count what tshark counts
  scripts          `-f` with comments, lets and several queries: each query
                   prints its own rows from one shared program
  --list           names every stdlib query with its description
"""
import collections
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import langlib as L  # noqa: E402

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, wrpcap  # noqa: E402

E = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
FAILS = []


def expect(ok, what, detail=""):
    print("%s: %s%s" % ("ok" if ok else "FAIL", what, "" if ok else "\n    " + str(detail)))
    if not ok:
        FAILS.append(what)


def tshark(cap, flt, *fields):
    args = ["tshark", "-n", "-r", cap, "-Y", flt, "-T", "fields"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]


def write(pkts, t0=1700000000.0, gap=0.01):
    for i, p in enumerate(pkts):
        p.time = t0 + i * gap
    fd, path = tempfile.mkstemp(suffix=".pcap", prefix="hqlang")
    os.close(fd)
    wrpcap(path, pkts)
    return path


def hq(cap, query=None, script=None):
    rc, recs, err = L.offline(cap, query=query, script=script)
    if rc:
        expect(False, "hdrq exits 0 on %s" % (query or script), err.strip())
    return recs


def port_scan():
    rng = random.Random(4)
    scanner, victim = "203.0.113.9", "192.0.2.2"
    ports = rng.sample(range(1, 65536), 57)
    pkts = [E / IP(src=scanner, dst=victim) / TCP(sport=50000 + i % 3, dport=p, flags="S")
            for i, p in enumerate(ports + ports[:10])]  # some probed twice
    for i in range(30):  # ordinary clients: a few ports, full handshakes
        c = "198.51.100.%d" % (i % 5 + 1)
        port = [80, 443, 22][i % 3]
        pkts += [E / IP(src=c, dst=victim) / TCP(sport=40000 + i, dport=port, flags="S"),
                 E / IP(src=victim, dst=c) / TCP(sport=port, dport=40000 + i, flags="SA"),
                 E / IP(src=c, dst=victim) / TCP(sport=40000 + i, dport=port, flags="A")]
    rng.shuffle(pkts)
    cap = write(pkts)
    want = collections.defaultdict(set)
    for src, dport in tshark(cap, "tcp.flags.syn == 1 && tcp.flags.ack == 0", "ip.src", "tcp.dstport"):
        want[src].add(int(dport))
    rows = L.groups(hq(cap, "tcp where flags.syn and not flags.ack group by ip.src select distinct(dst_port), count()"))
    got = {r["ip.src"]: r["distinct(tcp.dst_port)"] for r in rows}
    expect(got == {k: len(v) for k, v in want.items()},
           "port scan: distinct(dst_port) per source equals tshark's",
           (got, {k: len(v) for k, v in want.items()}))
    expect(got.get(scanner) == 57, "port scan: the scanner probed 57 ports", got.get(scanner))
    rows = L.groups(hq(cap, "port-scan"))
    expect([r.get("inet.src") for r in rows] == [scanner] and rows[0]["distinct(tcp.dst_port)"] == 57,
           "port scan: stdlib port-scan names the scanner only", rows)
    os.unlink(cap)


def syn_flood():
    rng = random.Random(5)
    target = "192.0.2.80"
    pkts = []
    for i in range(400):  # spoofed SYNs to port 80, 4 seconds of capture
        src = "10.%d.%d.%d" % (rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))
        pkts.append(E / IP(src=src, dst=target) / TCP(sport=rng.randint(1024, 65535), dport=80, flags="S"))
    for i in range(40):  # legitimate connections to 443 and their SYN-ACKs
        c = "198.51.100.%d" % (i % 7 + 1)
        pkts += [E / IP(src=c, dst=target) / TCP(sport=30000 + i, dport=443, flags="S"),
                 E / IP(src=target, dst=c) / TCP(sport=443, dport=30000 + i, flags="SA")]
    rng.shuffle(pkts)
    cap = write(pkts, gap=0.009)
    want = collections.Counter()
    srcs = collections.defaultdict(set)
    for dst, dport, src in tshark(cap, "tcp.flags.syn == 1 && tcp.flags.ack == 0", "ip.dst", "tcp.dstport", "ip.src"):
        want[(dst, int(dport))] += 1
        srcs[(dst, int(dport))].add(src)
    rows = L.groups(hq(cap, "tcp where flags.syn and not flags.ack group by ip.dst, dst_port"))
    got = {(r["ip.dst"], r["tcp.dst_port"]): r["count()"] for r in rows}
    expect(got == dict(want), "SYN flood: SYN-only counts per target equal tshark's", (got, dict(want)))
    rows = L.groups(hq(cap, "syn-flood"))
    total = collections.Counter()
    for r in rows:
        total[(r["inet.dst"], r["tcp.dst_port"])] += r["count()"]
    expect(dict(total) == dict(want), "SYN flood: stdlib syn-flood, summed over its 1s intervals",
           (dict(total), dict(want)))
    ts = {r.get("ts") for r in rows}
    expect(len(ts) >= 3, "SYN flood: syn-flood prints one table per interval", ts)
    rows = L.groups(hq(cap, "tcp where flags.syn and not flags.ack group by ip.dst select distinct(ip.src)"))
    per_dst = collections.defaultdict(set)
    for (dst, _), v in srcs.items():
        per_dst[dst] |= v
    expect({r["ip.dst"]: r["distinct(ip.src)"] for r in rows} ==
           {k: len(v) for k, v in per_dst.items()}, "SYN flood: distinct sources per target", rows)
    os.unlink(cap)


def flow(c, s, cport, sport, isn_c, isn_s, chunks, retrans):
    """A connection c->s: handshake, data chunks (bytes each), ACKs; the
    chunk indexes in retrans are sent again (same seq, same bytes) later."""
    pk = [E / IP(src=c, dst=s) / TCP(sport=cport, dport=sport, flags="S", seq=isn_c),
          E / IP(src=s, dst=c) / TCP(sport=sport, dport=cport, flags="SA", seq=isn_s, ack=isn_c + 1),
          E / IP(src=c, dst=s) / TCP(sport=cport, dport=sport, flags="A", seq=isn_c + 1, ack=isn_s + 1)]
    seq, sent = isn_c + 1, []
    for n in chunks:
        seg = E / IP(src=c, dst=s) / TCP(sport=cport, dport=sport, flags="PA", seq=seq, ack=isn_s + 1) / Raw(b"d" * n)
        pk.append(seg)
        sent.append(seg)
        seq += n
        pk.append(E / IP(src=s, dst=c) / TCP(sport=sport, dport=cport, flags="A", seq=isn_s + 1, ack=seq))
    for i in retrans:
        pk.append(sent[i].copy())
    return pk


def retransmissions():
    pkts = []
    pkts += flow("192.0.2.10", "192.0.2.2", 41000, 80, 1000, 5000, [100, 200, 300, 50], [1, 2])
    pkts += flow("192.0.2.11", "192.0.2.2", 41001, 443, 7000, 9000, [500, 500], [0])
    pkts += flow("192.0.2.12", "192.0.2.2", 41002, 22, 100, 200, [10, 20, 30], [])
    pkts += [E / IP(src="192.0.2.13", dst="192.0.2.2") / UDP(dport=53) / Raw(b"q" * 20)] * 2
    cap = write(pkts)
    want = sorted(int(x[0]) for x in tshark(cap, "tcp.analysis.retransmission", "frame.number"))
    got = sorted(r["pkt.num"] for r in L.logs(hq(cap, "tcp where retransmit log pkt.num, ip.src")))
    expect(len(want) == 3 and got == want,
           "retransmissions: exactly the frames tshark marks (%s)" % want, got)
    rows = L.groups(hq(cap, "retransmissions"))
    per = {(r["inet.src"], r["tcp.dst_port"]): r["count()"] for r in rows}
    expect(per == {("192.0.2.10", 80): 2, ("192.0.2.11", 443): 1},
           "retransmissions: stdlib query counts per flow", per)
    os.unlink(cap)


def constants():
    pkts = [E / IP(src="192.0.2.1", dst="192.0.2.2") / TCP(dport=80, flags=f) for f in ("S", "SA", "A", "R", "FA")]
    pkts += [E / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(dport=53) / Raw(b"x" * 8)] * 2
    pkts += [E / IP(src="192.0.2.1", dst="192.0.2.2") / ICMP(type=t) for t in (8, 8, 0, 3, 11)]
    pkts += [E / ARP(op=o, psrc="192.0.2.1", pdst="192.0.2.2") for o in (1, 1, 2)]
    cap = write(pkts)
    cases = [
        ("ip where ip.proto == tcp", "ip.proto == 6"),
        ("ip where ip.proto in {udp, icmp}", "ip.proto == 17 || ip.proto == 1"),
        ("inet where proto != tcp", "ip && ip.proto != 6"),
        ("icmp where icmp.type == echo_request", "icmp.type == 8"),
        ("icmp where type in {dest_unreach, time_exceeded}", "icmp.type == 3 || icmp.type == 11"),
        ("eth where eth.type == arp", "eth.type == 0x0806"),
        ("eth where eth.type == ipv4", "eth.type == 0x0800"),
        ("arp where arp.op == request", "arp.opcode == 1"),
        ("tcp where tcp.flags & (syn | ack) == syn", "tcp.flags.syn == 1 && tcp.flags.ack == 0"),
        ("tcp where flags & rst", "tcp.flags.reset == 1"),
    ]
    for q, flt in cases:
        want = len(tshark(cap, flt, "frame.number"))
        got = [r for r in hq(cap, q) if r.get("type") == "count"]
        n = got[0].get("count") if got else None
        expect(n == want, "constants: %s counts %d like tshark's %s" % (q, want, flt), got)
    os.unlink(cap)


SCRIPT = """\
# two investigations sharing one program
let synonly = flags.syn and not flags.ack   # a named predicate
let web = dst_port in {80, 443}

tcp where synonly and web group by dst_port as web_syns
tcp where flags.rst
  group by src          # a query may go on over several lines
  as resets
icmp where type == echo_request log src, icmp.seq as pings
"""


def scripts():
    pkts = [E / IP(src="192.0.2.1", dst="192.0.2.2") / TCP(dport=p, flags="S") for p in (80, 80, 443, 22)]
    pkts += [E / IP(src="192.0.2.%d" % s, dst="192.0.2.2") / TCP(dport=80, flags="R") for s in (5, 5, 6)]
    pkts += [E / IP(src="192.0.2.7", dst="192.0.2.2") / ICMP(type=8, seq=n) for n in (1, 2)]
    cap = write(pkts)
    fd, path = tempfile.mkstemp(suffix=".hq")
    os.write(fd, SCRIPT.encode())
    os.close(fd)
    rc, out = L.check(script=path)
    expect(rc == 0, "script: --check passes", out)
    recs = hq(cap, script=path)
    web = {r["tcp.dst_port"]: r["count()"] for r in L.groups(recs, "web_syns")}
    rst = {r["inet.src"]: r["count()"] for r in L.groups(recs, "resets")}
    pings = [r.get("icmp.seq") for r in L.logs(recs, "pings")]
    expect(web == {80: 2, 443: 1}, "script: query web_syns (lets) prints its own rows", web)
    expect(rst == {"192.0.2.5": 2, "192.0.2.6": 1}, "script: query resets prints its own rows", rst)
    expect(pings == [1, 2], "script: query pings logs its own records", pings)
    r = L.run(["-r", cap, "-f", path])
    expect(r.returncode == 0 and r.stdout.count("web_syns") >= 1 and "resets" in r.stdout,
           "script: text output names each query", r.stdout)
    os.unlink(path)
    os.unlink(cap)


def listing():
    r = L.run(["--list"])
    names = [os.path.basename(p)[:-3] for p in L.stdlib_queries()]
    lines = {l.split()[0]: l for l in r.stdout.splitlines() if l.strip() and not l.startswith("run ")}
    ok = r.returncode == 0 and all(n in lines and len(lines[n].split()) > 3 for n in names)
    expect(ok and len(names) >= 11, "--list shows all %d saved queries with descriptions" % len(names), r.stdout)


def main():
    listing()
    L.need_root()
    for t in (port_scan, syn_flood, retransmissions, constants, scripts):
        t()
    print("offline_expect: %d failed" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
