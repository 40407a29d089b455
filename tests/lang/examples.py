#!/usr/bin/python3
"""examples.py — every examples/*.hq runs offline over one crafted capture
and prints what its comments promise (owned by tests/lang). Each example
also passes `--check` (check_all.py). An example without expectations here
fails the test, so new examples come with a check."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import langlib as L  # noqa: E402

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPv6, Raw, wrpcap  # noqa: E402

E = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
V = "192.0.2.2"


def capture():
    p = []
    p += [E / IP(src="10.1.1.1", dst=V, ttl=64) / TCP(dport=d, flags="S") for d in range(20, 30)]  # scan: 10 ports
    p += [E / IP(src="10.1.1.2", dst=V, ttl=64) / TCP(dport=80, flags="S"),
          E / IP(src="10.1.1.2", dst=V, ttl=64) / TCP(dport=443, flags="S"),
          E / IP(src="192.168.1.9", dst=V, ttl=64) / TCP(dport=8050, flags="S")]
    p += [E / IP(src=V, dst="10.1.1.2", ttl=60) / TCP(sport=80, dport=1234, flags="SA")]
    p += [E / IP(src=V, dst="10.1.1.1", ttl=60) / TCP(sport=22, dport=1234, flags="R")] * 3
    p += [E / IP(src=V, dst="10.1.1.2", ttl=60, tos=0xb8) / TCP(sport=80, dport=1234, flags="PA") / Raw(b"x" * 250)]
    p += [E / IP(src="10.1.1.3", dst=V, ttl=128) / UDP(dport=53) / Raw(b"q" * 30)] * 2
    p += [E / IP(src="10.1.1.3", dst=V, ttl=128) / ICMP(type=8), E / IP(src=V, dst="10.1.1.3") / ICMP(type=0),
          E / IP(src=V, dst="10.1.1.3") / ICMP(type=3, code=3)]
    p += [E / IP(src="10.1.1.3", dst=V, proto=47) / Raw(b"g" * 10)]
    p += [E / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(dport=9)]
    p += [E / ARP(op=1, psrc="10.1.1.1", pdst=V), E / ARP(op=2, psrc=V, pdst="10.1.1.1")]
    for i, x in enumerate(p):
        x.time = 1700000000 + i * 0.01
    fd, path = tempfile.mkstemp(suffix=".pcap")
    os.close(fd)
    wrpcap(path, p)
    return path


def count(recs, q):
    c = [r for r in recs if r.get("type") == "count" and r.get("query") == q]
    return c[-1]["count"] if c else None


def table(recs, q, key, val="count()"):
    return {r.get(key): r.get(val) for r in L.groups(recs, q)}


N_TCP, N_UDP, N_IP6, N_ALL = 18, 3, 1, 27
EXPECT = {
    "01-basics": lambda r: [count(r, "tcp_packets") == N_TCP, count(r, "udp_packets") == N_UDP,
                            count(r, "ipv6_packets") == N_IP6, count(r, "all_packets") == N_ALL],
    "02-filters": lambda r: [count(r, "syns") == 13, count(r, "web_from_10") == 2,
                             count(r, "synacks") == 1, count(r, "udp_or_icmp") == 6],
    "03-aggregation": lambda r: [table(r, "rst_ports", "tcp.dst_port") == {1234: 3},
                                 table(r, "scanners", "inet.src", "distinct(tcp.dst_port)") == {"10.1.1.1": 10},
                                 len(L.groups(r, "talkers")) == 8],
    "04-histograms": lambda r: [len(L.groups(r, "sizes_by_ttl")) >= 3, len(L.groups(r, "payloads")) >= 1],
    "05-scripts-let": lambda r: [table(r, "web_connects", "inet.dst") == {V: 2},
                                 table(r, "other_ports", "inet.src", "distinct(tcp.dst_port)") ==
                                 {"10.1.1.1": 10, "192.168.1.9": 1}],
    "06-wireshark-names": lambda r: [table(r, "resets", "tcp.dst_port") == {1234: 3},
                                     table(r, "marked", "ip.dscp").get(46) == 1],
    "07-constants": lambda r: [table(r, "not_tcp", "ip.proto") == {17: 2, 1: 3, 47: 1},
                               table(r, "pings", "icmp.type") == {8: 1, 0: 1},
                               count(r, "arp_frames") == 2, count(r, "connection_attempts") == 13],
}


def main():
    L.need_root()
    cap = capture()
    bad = 0
    exs = L.examples()
    for path in exs:
        name = os.path.basename(path)[:-3]
        rc, recs, err = L.offline(cap, script=path)
        checks = EXPECT.get(name, lambda r: [False])(recs) if rc == 0 else [False]
        ok = all(checks)
        print("%s: %s %s" % ("ok" if ok else "FAIL", name, "" if ok else checks))
        if not ok:
            bad += 1
            print("    " + "\n    ".join((err.strip().splitlines() + [str(x) for x in recs])[-30:]))
        r = L.run(["-r", cap, "-f", path])  # the text output runs too
        if r.returncode:
            bad += 1
            print("FAIL: %s in text output: %s" % (name, r.stderr.strip()))
    os.unlink(cap)
    print("examples: %d run, %d failed" % (len(exs), bad))
    return 1 if bad or len(exs) < 6 else 0


if __name__ == "__main__":
    sys.exit(main())
