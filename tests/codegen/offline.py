#!/usr/bin/python3
"""offline.py — behaviour of compiled programs on crafted captures.

Each case is data: packets (built with scapy), a query, and the rows hdrq
must print with `-r capture -o json`. The program runs in the kernel through
BPF_PROG_TEST_RUN, so this checks the generated parsing, predicates and
aggregation end to end. Expected rows list only the keys they care about;
`rows` must match exactly (same number of rows, each matching one expected
row), `count` is the result of a counting query.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

from scapy.all import (ARP, DNS, DNSQR, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether,
                       ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPOption_LSRR, Raw, wrpcap)

HDRQ = os.environ.get("HDRQ", "hdrq")
E = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
A, B, C = "192.0.2.1", "192.0.2.2", "198.51.100.7"
A6, B6 = "2001:db8::1", "2001:db8::2"


def rst(dport, src=A):
    return E / IP(src=src, dst=B) / TCP(sport=40000, dport=dport, flags="R")


def syn(dport, src=A, sport=40000):
    return E / IP(src=src, dst=B) / TCP(sport=sport, dport=dport, flags="S")


def noise():
    return [E / IP(src=A, dst=B) / TCP(dport=80, flags="A"),
            E / IP(src=A, dst=B) / UDP(dport=53) / Raw(b"x" * 4),
            E / IPv6(src=A6, dst=B6) / TCP(dport=80, flags="S"),
            E / ARP(psrc=A, pdst=B)]


def mixed_layers():
    """ARP (tagged too), DNS over IPv4 and IPv6, ICMP, HTTP and what none
    of those queries takes: an IPv4 fragment, ICMPv6, plain TCP"""
    http = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    return [E / ARP(op=1, psrc=A, pdst=B),
            E / Dot1Q(vlan=5) / ARP(op=2, psrc=B, pdst=A),
            E / Dot1AD(vlan=7) / Dot1Q(vlan=5) / ARP(op=2, psrc=B, pdst=A),
            E / IP(src=A, dst=B) / UDP(sport=5000, dport=53) / DNS(qd=DNSQR(qname="a.example")),
            E / IPv6(src=A6, dst=B6) / UDP(sport=5000, dport=53) / DNS(qd=DNSQR(qname="b.example")),
            E / IP(src=A, dst=B, flags="MF") / UDP(sport=5000, dport=53) / Raw(b"x" * 16),
            E / Dot1Q(vlan=5) / IP(src=C, dst=B) / ICMP(type=8),
            E / IP(src=B, dst=C) / ICMP(type=0),
            E / IPv6(src=A6, dst=B6) / ICMPv6EchoRequest(),
            E / IP(src=A, dst=B) / TCP(sport=40000, dport=80, flags="PA") / Raw(http),
            E / IPv6(src=A6, dst=B6) / TCP(sport=40000, dport=80, flags="PA") / Raw(http.replace(b"GET", b"POST")),
            E / IP(src=A, dst=B) / TCP(sport=40000, dport=22, flags="A")]


def snap_cut(pkt, trailer, cut):
    """pkt with a trailer of zeros, its last cut bytes left out of the
    capture (the frame's wire length keeps them)"""
    raw = bytes(pkt) + b"\x00" * trailer
    q = Ether(raw[:len(raw) - cut])
    q.wirelen = len(raw)
    return q


def http_get(method, path):
    req = f"{method} {path} HTTP/1.1\r\nHost: h\r\n\r\n".encode()
    return E / IP(src=A, dst=B) / TCP(sport=40001, dport=80, flags="PA") / Raw(req)


CASES = [
    # a long token, then shorter ones: the bytes after a string's NUL must
    # not make groups of the same printed value (they were another
    # packet's, per CPU)
    dict(name="string keys after longer strings",
         pkts=[http_get("DELETE", "/a-long-path"), http_get("GET", "/a"),
               http_get("OPTIONS", "/b"), http_get("GET", "/a"), http_get("PUT", "/")],
         query="http group by http.method, http.path",
         rows=[{"http.method": "DELETE", "http.path": "/a-long-path", "count()": 1},
               {"http.method": "GET", "http.path": "/a", "count()": 2},
               {"http.method": "OPTIONS", "http.path": "/b", "count()": 1},
               {"http.method": "PUT", "http.path": "/", "count()": 1}]),
    dict(name="rst by port",
         pkts=[rst(80), rst(80), rst(443), rst(22)] + noise(),
         query="tcp where flags.rst group by dst_port",
         rows=[{"tcp.dst_port": 80, "count()": 2}, {"tcp.dst_port": 443, "count()": 1},
               {"tcp.dst_port": 22, "count()": 1}]),
    dict(name="wireshark vocabulary",
         pkts=[rst(80), rst(81)] + noise(),
         query="tcp where tcp.flags.reset == 1 group by tcp.dstport",
         rows=[{"tcp.dst_port": 80, "count()": 1}, {"tcp.dst_port": 81, "count()": 1}]),
    dict(name="count only",
         pkts=[rst(80), syn(80)] + noise(),
         query="tcp where flags.syn and not flags.ack",
         count=2),
    dict(name="syn scan distinct ports",
         pkts=[syn(p) for p in range(1, 31)] + [syn(80, src=C), syn(80, src=C), syn(81, src=C)],
         query="tcp where flags.syn and not flags.ack group by ip.src select distinct(dst_port), count()",
         rows=[{"ip.src": A, "distinct(tcp.dst_port)": 30, "count()": 30},
               {"ip.src": C, "distinct(tcp.dst_port)": 2, "count()": 3}]),
    dict(name="having filters groups",
         pkts=[syn(p) for p in range(1, 31)] + [syn(80, src=C)],
         query="tcp where flags.syn and not flags.ack group by ip.src select distinct(dst_port) having distinct(dst_port) > 20",
         rows=[{"ip.src": A, "distinct(tcp.dst_port)": 30}]),
    dict(name="sum min max avg",
         pkts=[E / IP(src=A, dst=B, len=None) / UDP(dport=9) / Raw(b"a" * n) for n in (10, 20, 30)],
         query="udp group by ip.dst select sum(ip.len), min(ip.len), max(ip.len), avg(ip.len), count()",
         rows=[{"ip.dst": B, "sum(ip.len)": 38 + 48 + 58, "min(ip.len)": 38, "max(ip.len)": 58,
                "avg(ip.len)": 48, "count()": 3}]),
    dict(name="cidr set range",
         pkts=[syn(80, src="10.1.2.3"), syn(443, src="10.9.9.9"), syn(8050, src="10.0.0.1"),
               syn(8200, src="10.0.0.1"), syn(80, src=A)],
         query="tcp where ip.src in 10.0.0.0/8 and dst_port in {80, 443, 8000..8100} group by dst_port",
         rows=[{"tcp.dst_port": 80, "count()": 1}, {"tcp.dst_port": 443, "count()": 1},
               {"tcp.dst_port": 8050, "count()": 1}]),
    dict(name="log fields",
         pkts=[E / IP(src=A, dst=B, ttl=33) / TCP(sport=1234, dport=80, window=0, flags="A")],
         query="tcp where tcp.window == 0 log ip.src, ip.dst, src_port, dst_port, ip.ttl",
         rows=[{"type": "log", "ip.src": A, "ip.dst": B, "tcp.src_port": 1234, "tcp.dst_port": 80,
                "ip.ttl": 33}]),
    dict(name="vlan and qinq",
         pkts=[E / Dot1Q(vlan=10, prio=3) / IP(src=A, dst=B) / UDP(dport=9),
               E / Dot1AD(vlan=20) / Dot1Q(vlan=30) / IP(src=A, dst=B) / UDP(dport=9),
               E / IP(src=A, dst=B) / UDP(dport=9)],
         query="vlan group by vlan.id, vlan.inner_id, vlan.pcp",
         rows=[{"vlan.id": 10, "vlan.inner_id": None, "vlan.pcp": 3, "count()": 1},
               {"vlan.id": 20, "vlan.inner_id": 30, "vlan.pcp": 0, "count()": 1}]),
    dict(name="udp behind vlan",
         pkts=[E / Dot1Q(vlan=10) / IP(src=A, dst=B) / UDP(dport=5000),
               E / Dot1AD(vlan=20) / Dot1Q(vlan=30) / IP(src=A, dst=B) / UDP(dport=5001)],
         query="udp group by dst_port",
         rows=[{"udp.dst_port": 5000, "count()": 1}, {"udp.dst_port": 5001, "count()": 1}]),
    dict(name="ipv6 extension headers to tcp",
         # transport headers only in unfragmented packets (or atomic fragments), as tshark
         pkts=[E / IPv6(src=A6, dst=B6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / TCP(dport=80, flags="S"),
               E / IPv6(src=A6, dst=B6) / IPv6ExtHdrRouting() / TCP(dport=81, flags="S"),
               E / IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(offset=0, m=0) / TCP(dport=82, flags="S"),
               E / IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(offset=0, m=1) / TCP(dport=83, flags="S"),
               E / IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(offset=10) / Raw(b"x" * 20)],
         query="tcp group by ip6.proto, dst_port",
         rows=[{"ip6.proto": 6, "tcp.dst_port": 80, "count()": 1},
               {"ip6.proto": 6, "tcp.dst_port": 81, "count()": 1},
               {"ip6.proto": 6, "tcp.dst_port": 82, "count()": 1}]),
    dict(name="ipv4 fragments carry no tcp",
         # tshark decodes no transport header in any fragment (reassembly off)
         pkts=[E / IP(src=A, dst=B, flags="MF", frag=0) / TCP(dport=80, flags="S"),
               E / IP(src=A, dst=B, frag=3, proto=6) / Raw(b"\x00" * 40),
               E / IP(src=A, dst=B) / TCP(dport=81, flags="S")],
         query="ip group by ip.mf, ip.frag_off, tcp.dst_port",
         rows=[{"ip.mf": True, "ip.frag_off": 0, "tcp.dst_port": None, "count()": 1},
               {"ip.mf": False, "ip.frag_off": 3, "tcp.dst_port": None, "count()": 1},
               {"ip.mf": False, "ip.frag_off": 0, "tcp.dst_port": 81, "count()": 1}]),
    dict(name="truncated tcp header is absent",
         pkts=[(E / IP(src=A, dst=B) / TCP(dport=80, flags="R")).__class__(
             bytes(E / IP(src=A, dst=B) / TCP(dport=80, flags="R"))[:14 + 20 + 10])],
         query="ip group by ip.proto, tcp.dst_port",
         rows=[{"ip.proto": 6, "tcp.dst_port": None, "count()": 1}]),
    dict(name="tcp options",
         pkts=[E / IP(src=A, dst=B) / TCP(dport=80, flags="S", options=[
             ("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456, 0)), ("NOP", None),
             ("WScale", 7)])],
         query="tcp log opt.mss, opt.wscale, opt.sack_perm, opt.ts_val, opt.ts_ecr, opt.sack",
         rows=[{"type": "log", "tcp.opt.mss": 1460, "tcp.opt.wscale": 7, "tcp.opt.sack_perm": True,
                "tcp.opt.ts_val": 123456, "tcp.opt.ts_ecr": 0}]),
    dict(name="icmp echo",
         pkts=[E / IP(src=A, dst=B) / ICMP(type=8, id=77, seq=3),
               E / IP(src=A, dst=B) / ICMP(type=3, code=1)],
         query="icmp log icmp.type, icmp.code, icmp.id, icmp.seq",
         rows=[{"type": "log", "icmp.type": 8, "icmp.code": 0, "icmp.id": 77, "icmp.seq": 3},
               {"type": "log", "icmp.type": 3, "icmp.code": 1}]),
    dict(name="icmpv6 echo",
         pkts=[E / IPv6(src=A6, dst=B6) / ICMPv6EchoRequest(id=5, seq=6)],
         query="icmp6 log icmp6.type, icmp6.id, icmp6.seq, ip6.src",
         rows=[{"type": "log", "icmp6.type": 128, "icmp6.id": 5, "icmp6.seq": 6, "ip6.src": A6}]),
    dict(name="arp",
         pkts=[E / ARP(op=1, hwsrc="02:00:00:00:00:01", psrc=A, pdst=B)],
         query="arp log arp.op, arp.sha, arp.spa, arp.tpa",
         rows=[{"type": "log", "arp.op": 1, "arp.sha": "02:00:00:00:00:01", "arp.spa": A,
                "arp.tpa": B}]),
    dict(name="dns question",
         pkts=[E / IP(src=A, dst=B) / UDP(sport=5353, dport=53) / DNS(rd=1, qd=DNSQR(qname="www.example.com", qtype="AAAA")),
               E / IP(src=A, dst=B) / UDP(sport=5353, dport=53) / DNS(rd=1, qd=DNSQR(qname="example.org", qtype="A"))],
         query="udp where dst_port == 53 log ip.src, dns.qname, dns.qtype",
         rows=[{"type": "log", "ip.src": A, "dns.qname": "www.example.com", "dns.qtype": 28},
               {"type": "log", "ip.src": A, "dns.qname": "example.org", "dns.qtype": 1}]),
    dict(name="http request and response",
         pkts=[E / IP(src=A, dst=B) / TCP(sport=40000, dport=80, flags="PA") /
               Raw(b"GET /index.html HTTP/1.1\r\nUser-Agent: t\r\nHost: www.example.com\r\n\r\n"),
               E / IP(src=B, dst=A) / TCP(sport=80, dport=40000, flags="PA") /
               Raw(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
               E / IP(src=A, dst=B) / TCP(sport=40000, dport=80, flags="A")],
         query="http log ip.src, http.method, http.path, http.host, http.status",
         rows=[{"type": "log", "ip.src": A, "http.method": "GET", "http.path": "/index.html",
                "http.host": "www.example.com"},
               {"type": "log", "ip.src": B, "http.status": 404}]),
    dict(name="string predicates",
         pkts=[E / IP(src=A, dst=B) / UDP(sport=5353, dport=53) / DNS(qd=DNSQR(qname="www.example.com")),
               E / IP(src=A, dst=B) / UDP(sport=5353, dport=53) / DNS(qd=DNSQR(qname="example.org")),
               E / IP(src=A, dst=B) / UDP(sport=5353, dport=53) / DNS(qd=DNSQR(qname="exam.net")),
               E / IP(src=A, dst=B) / UDP(sport=5353, dport=53) / DNS(qd=DNSQR(qname="www.examples.org"))],
         query='dns where dns.qname contains "example" and not dns.qname startswith "www.examples" or dns.qname == "exam.net" log dns.qname',
         rows=[{"type": "log", "dns.qname": "www.example.com"}, {"type": "log", "dns.qname": "example.org"},
               {"type": "log", "dns.qname": "exam.net"}]),
    dict(name="hist of lengths",
         pkts=[E / IP(src=A, dst=B) / UDP(dport=9) / Raw(b"a" * n) for n in (0, 100, 200)],
         query="inet group by ttl select hist(ip.len)",
         # ip.len 28, 128, 228: one in [16, 32), two in [128, 256)
         rows=[{"inet.ttl": 64, "hist(ip.len)": [{"min": 16, "max": 31, "count": 1},
                                                 {"min": 128, "max": 255, "count": 2}]}]),
    dict(name="generic src across families",
         pkts=[syn(80), E / IPv6(src=A6, dst=B6) / TCP(dport=80, flags="S")],
         query="tcp group by src",
         rows=[{"inet.src": A, "count()": 1}, {"inet.src": A6, "count()": 1}]),
    dict(name="retransmissions",
         pkts=[E / IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="S", seq=100),
               E / IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="PA", seq=101) / Raw(b"a" * 10),
               E / IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="PA", seq=111) / Raw(b"b" * 10),
               E / IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="PA", seq=101) / Raw(b"a" * 10),
               E / IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="A", seq=121),
               E / IP(src=B, dst=A) / TCP(sport=80, dport=1000, flags="PA", seq=5000) / Raw(b"c" * 5),
               E / IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="PA", seq=111) / Raw(b"b" * 10)],
         query="tcp where retransmit log pkt.num, src_port, tcp.seq",
         rows=[{"type": "log", "pkt.num": 4, "tcp.seq": 101}, {"type": "log", "pkt.num": 7, "tcp.seq": 111}]),
    # only the flows the clause takes are in the table, and all their
    # segments: the retransmission on port 80 is seen, port 81 is not asked
    dict(name="retransmissions where the clause reads the flow key",
         pkts=[E / IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="PA", seq=101) / Raw(b"a" * 10),
               E / IP(src=A, dst=B) / TCP(sport=1000, dport=81, flags="PA", seq=101) / Raw(b"a" * 10),
               E / IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="A", seq=111) / Raw(b"b" * 10),
               E / IP(src=A, dst=B) / TCP(sport=1000, dport=81, flags="A", seq=101) / Raw(b"a" * 10),
               E / IP(src=A, dst=B) / TCP(sport=1000, dport=80, flags="A", seq=101) / Raw(b"a" * 10)],
         query="tcp where dst_port == 80 log pkt.num, retransmit",
         rows=[{"type": "log", "pkt.num": 1, "tcp.retransmit": False},
               {"type": "log", "pkt.num": 3, "tcp.retransmit": False},
               {"type": "log", "pkt.num": 5, "tcp.retransmit": True}]),
    # a loose source route: the flow key's destination is the route's last
    # address (ip.dst), whichever walk the segment takes (the first one
    # leaves from the fast walk, which cannot run a query reading TCP
    # options; the second goes to the full walk)
    dict(name="retransmission under a source route",
         pkts=[E / IP(src=A, dst=B, options=[IPOption_LSRR(routers=[C], pointer=4)])
               / TCP(sport=1000, dport=80, flags="A", seq=101) / Raw(b"a" * 10),
               E / IP(src=A, dst=B, options=[IPOption_LSRR(routers=[C], pointer=4)])
               / TCP(sport=1000, dport=80, flags="PA", seq=101) / Raw(b"a" * 10)],
         query="tcp where flags.psh log pkt.num, ip.dst, retransmit, tcp.opt.mss",
         rows=[{"type": "log", "pkt.num": 2, "ip.dst": C, "tcp.retransmit": True}]),
    dict(name="flow expands to the 5-tuple",
         pkts=[syn(80), syn(80), syn(81)],
         query="tcp group by flow",
         rows=[{"inet.src": A, "tcp.src_port": 40000, "inet.dst": B, "tcp.dst_port": 80, "inet.proto": 6, "count()": 2},
               {"inet.src": A, "tcp.src_port": 40000, "inet.dst": B, "tcp.dst_port": 81, "inet.proto": 6, "count()": 1}]),
    dict(name="rate limit",
         pkts=[syn(p) for p in range(1, 51)],
         query="tcp log dst_port rate 20/s",
         rows=[{"type": "log"}] * 20),
    dict(name="pkt.num and len",
         pkts=[syn(1), rst(2), syn(3)],
         query="tcp where flags.rst log pkt.num, pkt.len",
         rows=[{"type": "log", "pkt.num": 2, "pkt.len": 54}]),
    # the early exit (codegen/cg_exit.c) leaves a frame once no query of the
    # script can match it: each query still sees every frame of its layer
    dict(name="early exit, several layers",
         pkts=mixed_layers(),
         query="arp log arp.op; udp where dst_port == 53 group by inet.src; "
               "icmp group by icmp.type; http log http.method",
         rows=[{"query": "q1", "arp.op": 1}, {"query": "q1", "arp.op": 2},
               {"query": "q1", "arp.op": 2},
               {"query": "q2", "inet.src": A, "count()": 1}, {"query": "q2", "inet.src": A6, "count()": 1},
               {"query": "q3", "icmp.type": 8, "count()": 1}, {"query": "q3", "icmp.type": 0, "count()": 1},
               {"query": "q4", "http.method": "GET"}, {"query": "q4", "http.method": "POST"}]),
    dict(name="early exit keeps the flow state",
         pkts=[E / IPv6(src=A6, dst=B6) / TCP(sport=1000, dport=80, flags="PA", seq=100) / Raw(b"a" * 10),
               E / ARP(psrc=A, pdst=B),
               rst(80),
               E / IPv6(src=A6, dst=B6) / TCP(sport=1000, dport=80, flags="PA", seq=100) / Raw(b"a" * 10)],
         query="ip6 where tcp.retransmit log pkt.num",
         rows=[{"type": "log", "pkt.num": 4}]),
    # pkt, a pseudo layer that follows none, is in every packet
    dict(name="pkt is every packet",
         pkts=[rst(80), E / ARP(psrc=A, pdst=B), E / Raw(b"\x00" * 4)],
         query="pkt group by pkt.dir",
         rows=[{"pkt.dir": 0, "count()": 3}]),
    # inet is either IP version, fragments included (no transport in them)
    dict(name="inet includes fragments",
         pkts=[E / IP(src=A, dst=B, flags="MF", frag=0) / UDP(dport=9) / Raw(b"a" * 16),
               E / IP(src=A, dst=B, frag=3, proto=17) / Raw(b"b" * 8),
               E / IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(offset=2, m=0, nh=17) / Raw(b"c" * 8),
               rst(80), E / ARP(psrc=A, pdst=B)],
         query="inet group by inet.src select count(), sum(ip.len)",
         rows=[{"inet.src": A, "count()": 3, "sum(ip.len)": 44 + 28 + 40},
               {"inet.src": A6, "count()": 1, "sum(ip.len)": 0}]),
    # The where clause is tested after tcp, before dns and http are walked
    # (cg_exit_where.c): packets it refuses leave early, and those it takes
    # still get the layers above (http.method, read after the exit point)
    dict(name="where exit keeps every match",
         pkts=[E / IP(src="10.1.2.3", dst=B) / TCP(sport=40000, dport=80, flags="PA")
               / Raw(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"),
               E / IP(src=A, dst=B) / TCP(sport=40000, dport=80, flags="PA")
               / Raw(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
               E / IP(src="10.9.9.9", dst=B) / TCP(sport=40001, dport=443, flags="S"),
               E / IP(src="10.1.2.3", dst=B) / UDP(sport=5000, dport=80) / Raw(b"GET / HTTP/1.1\r\n"),
               E / IP(src="10.1.2.3", dst=B) / UDP(sport=5000, dport=53) / DNS(qd=DNSQR(qname="a.example"))],
         query="tcp where ip.src in 10.0.0.0/8 and dst_port in {80, 443} "
               "log ip.src, tcp.dst_port, http.method, http.path",
         rows=[{"ip.src": "10.1.2.3", "tcp.dst_port": 80, "http.method": "GET", "http.path": "/a"},
               {"ip.src": "10.9.9.9", "tcp.dst_port": 443, "http.method": None}]),
    # several queries: the walk goes on if any clause holds
    dict(name="where exit with several queries",
         pkts=[E / IP(src=A, dst=B) / TCP(sport=40000, dport=80, flags="PA")
               / Raw(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
               E / IP(src=A, dst=B) / UDP(sport=5000, dport=53) / DNS(qd=DNSQR(qname="a.example")),
               E / IP(src=A, dst=B) / UDP(sport=5000, dport=54) / DNS(qd=DNSQR(qname="b.example")),
               rst(22)],
         script="tcp where dst_port == 80 log http.path as web\n"
                "udp where dst_port == 53 log dns.qname as names\n",
         rows=[{"http.path": "/b"}, {"dns.qname": "a.example"}]),
    # every query on udp, its clause on fixed fields: the test sits in udp's
    # parse before its walker (udp.payload_len); a frame without udp leaves
    # after udp's parse
    dict(name="where exit inside the layer keeps every match",
         pkts=[E / IP(src=A, dst=B) / UDP(sport=5000, dport=53) / DNS(qd=DNSQR(qname="a.example")),
               E / IP(src=A, dst=B) / UDP(sport=5000, dport=54) / DNS(qd=DNSQR(qname="b.example")),
               E / IP(src=A, dst=B) / TCP(sport=5000, dport=53, flags="S"),
               E / IPv6(src=A6, dst=B6) / UDP(sport=5000, dport=53) / DNS(qd=DNSQR(qname="c.example"))],
         query="udp where dst_port == 53 log inet.src, udp.payload_len, dns.qname",
         rows=[{"inet.src": A, "udp.payload_len": 27, "dns.qname": "a.example"},
               {"inet.src": A6, "udp.payload_len": 27, "dns.qname": "c.example"}]),
    # a frame that ends inside a header the query needs is reported in the
    # run's loss record (SPEC §4: nothing lost silently); one per packet
    dict(name="truncated headers are counted",
         pkts=[rst(80), Ether(bytes(rst(81))[:14 + 20 + 10]), Ether(bytes(rst(82))[:14 + 10]),
               Raw(bytes(rst(83))[:10]), E / IP(src=A, dst=B) / UDP(dport=53) / Raw(b"x")],
         query="tcp group by tcp.dst_port",
         rows=[{"tcp.dst_port": 80, "count()": 1}],
         # the 10-byte frame never reaches the program (the kernel's test
         # run wants a whole Ethernet header): a skipped frame
         loss={"packets": 4, "truncated": 2, "skipped_frames": 1}),
    # a snap length that cuts only the Ethernet trailer leaves the IP
    # datagram whole: tshark decodes DNS and HTTP there, and so does hdrq;
    # a cut inside the datagram leaves both out
    dict(name="application layers in frames cut in the trailer",
         pkts=[snap_cut(E / IP(src=A, dst=B) / UDP(sport=5000, dport=53) / DNS(id=7, qd=DNSQR(qname="t.example")), 6, 6),
               snap_cut(E / IP(src=A, dst=B) / TCP(sport=40000, dport=80, flags="PA")
                        / Raw(b"GET /t HTTP/1.1\r\nHost: x\r\n\r\n"), 6, 6),
               snap_cut(E / IP(src=A, dst=B) / UDP(sport=5001, dport=53) / DNS(id=8, qd=DNSQR(qname="u.example")), 0, 2)],
         query="inet log udp.src_port, dns.id, dns.qtype, http.path",
         rows=[{"udp.src_port": 5000, "dns.id": 7, "dns.qtype": 1},
               {"http.path": "/t"},
               {"udp.src_port": 5001, "dns.id": None}]),
    # only headers some query needs: an IPv4 header cut short is nothing
    # to an ARP query, an ARP one is
    dict(name="truncated counts only needed headers",
         pkts=[E / ARP(psrc=A, pdst=B), Ether(bytes(E / ARP(psrc=A, pdst=B))[:14 + 12]),
               Ether(bytes(rst(82))[:14 + 10])],
         query="arp log arp.op",
         rows=[{"arp.op": 1}],
         loss={"packets": 3, "truncated": 1}),
    # where the exit goes, and where not (--emit ir: its test's blocks)
    dict(name="where exit placed after the clause's last layer",
         ir="tcp where ip.src in 10.0.0.0/8 log *", has=True),
    dict(name="no where exit when a query has no clause",
         ir="tcp where dst_port == 80 log * as a\nudp log ip.src as b", has=False),
    dict(name="no where exit on pkt.ts (read after the walk)",
         ir="tcp where pkt.ts > 5 log *", has=False),
    dict(name="no where exit before the retransmit flow table",
         ir="ip where ip.ttl < 5 log tcp.retransmit", has=False),
    # the flow table sees only the flows a where clause over the flow key
    # takes (cg_walk_tcp.c: cg_flow_gate), where every reader has one
    dict(name="flow table gated by a where clause over the flow key",
         ir="tcp where ip.src in 10.0.0.0/8 and dst_port in {80, 443} log *", block="flow_look", has=True),
    dict(name="flow table gated by an IPv6 address",
         ir="tcp where ip6.src == 2001:db8::1 or inet.dst == 192.0.2.2 log retransmit",
         block="flow_look", has=True),
    dict(name="flow table not gated by a clause on flags",
         ir="tcp where flags.syn and dst_port == 80 log retransmit", block="flow_look", has=False),
    dict(name="flow table not gated when a reader has no clause",
         ir="tcp where dst_port == 80 log retransmit as a\ntcp log retransmit as b",
         block="flow_look", has=False),
    dict(name="flow table gated by its readers only",
         ir="tcp where dst_port == 80 log retransmit as a\ntcp where flags.rst log ip.src as b",
         block="flow_look", has=True),
    dict(name="where exit before the walker of the queries' layer",
         ir="udp where dst_port == 53 log ip.src, dns.qname", order=("where_on:", "l4len:")),
    dict(name="where exit after the layer when a clause reads its walker",
         ir="udp where udp.payload_len > 5 log dns.qname", order=("l4len:", "where_on:")),
    dict(name="no where exit where nothing is left to walk",
         ir="http where http.method == \"GET\" log ip.src", has=False),
    # too many queries at once: the fast walk (a copy of each query per
    # chain) is left out, and beyond BPF's reach a clear error, not an abort
    dict(name="a script too large for the fast walk is built without it",
         ir="".join(f"tcp where ip.src in 10.0.0.0/8 and dst_port == {p} log * as q{p}\n"
                    for p in range(1, 9)), block="full_walk:", has=False),
    dict(name="a script too large for BPF is refused with a message",
         ir="".join(f"any log * as q{i}\n" for i in range(16)),
         fails="too large to load: run fewer of them at once"),
    # the end of a live run: every program's first test is hq_meta.stopped,
    # which sends it straight to its exit
    dict(name="every program starts by testing hq_meta.stopped",
         ir="tcp log ip.src", entry_stop=True),
]


def script_args(text, tmp):
    """hdrq's arguments for a query, or for a script of several (a file)"""
    if "\n" not in text:
        return [text]
    path = os.path.join(tmp, "s.hq")
    with open(path, "w") as f:
        f.write(text)
    return ["-f", path]


def ir_entry_stop(ir):
    """None if every program's entry block loads hq_meta.stopped (volatile)
    before anything else it reads and branches on it to the exit block"""
    # programs have a section of their own; subprograms are in .text
    prog = r"^define i32 @(hq_\w+)\([^\n]*section \"[^\n]*\n.*?\n\}"
    progs = re.findall(prog, ir, re.M | re.S)
    if len(progs) != 3:
        return "want the 3 programs in the module, found %s" % progs
    for fn in (m.group(0) for m in re.finditer(prog, ir, re.M | re.S)):
        entry = fn.split("\n\n")[0]
        loads = re.findall(r"= load (volatile )?\w+, ptr (.*)", entry)
        name = fn.split("(")[0]
        if not loads or not loads[0][0] or "@hq_meta, i64 48" not in loads[0][1]:
            return "%s: first load is not hq_meta.stopped: %s" % (name, loads[:1])
        if not re.search(r"br i1 %\S+, label %(running, label %exit|exit, label %running)",
                         entry):
            return "%s: entry does not branch to exit on stopped" % name
    return None


def run_ir(case, tmp):
    p = subprocess.run([HDRQ, "--emit", "ir"] + script_args(case["ir"], tmp),
                       capture_output=True, text=True, timeout=60)
    if case.get("fails"):
        return None if p.returncode == 2 and case["fails"] in p.stderr else \
            "exit %d (%s), want 2 and %r" % (p.returncode, p.stderr.strip()[-300:], case["fails"])
    if p.returncode != 0:
        return "exit %d: %s" % (p.returncode, p.stderr.strip()[-1500:])
    if case.get("entry_stop"):
        return ir_entry_stop(p.stdout)
    if case.get("order"):  # the first block label comes before the second
        at = [p.stdout.find("\n" + label) for label in case["order"]]
        if min(at) < 0 or at[0] > at[1]:
            return "blocks %s at %s, want them in this order" % (case["order"], at)
        return None
    block = case.get("block", "where_on")  # the where exit's test, by default
    has = block in p.stdout
    return None if has == case["has"] else "block %s %s, want %s" % (
        block, "present" if has else "absent", "present" if case["has"] else "absent")


def run(case, tmp):
    if "ir" in case:
        return run_ir(case, tmp)
    pcap = os.path.join(tmp, "c.pcap")
    wrpcap(pcap, case["pkts"], linktype=1)  # Ethernet, raw cut frames too
    query = case.get("script") or case["query"]
    p = subprocess.run([HDRQ, "-r", pcap, "-o", "json"] + script_args(query, tmp),
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return "exit %d: %s" % (p.returncode, p.stderr.strip()[-1500:])
    recs = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    if "count" in case:
        got = [r["count"] for r in recs if r.get("type") == "count"]
        return None if got == [case["count"]] else "count %s, want %s" % (got, case["count"])
    rows = [r for r in recs if r.get("type") in ("group", "log")]
    err = match_rows(rows, case["rows"])
    if err or "loss" not in case:
        return err
    total = [r for r in recs if r.get("type") == "loss" and r.get("total")]
    if len(total) != 1 or not row_matches(total[0], case["loss"]):
        return "loss record %s, want %s" % (json.dumps(total), json.dumps(case["loss"]))
    return None


def row_matches(row, want):
    for k, v in want.items():
        if v is None:
            if row.get(k) is not None:
                return False
        elif row.get(k) != v:
            return False
    return True


def match_rows(rows, wants):
    if len(rows) != len(wants):
        return "got %d rows, want %d:\n  %s" % (len(rows), len(wants), "\n  ".join(map(json.dumps, rows)))
    left = list(rows)
    for w in wants:
        hit = next((r for r in left if row_matches(r, w)), None)
        if hit is None:
            return "no row matches %s in:\n  %s" % (json.dumps(w), "\n  ".join(map(json.dumps, rows)))
        left.remove(hit)
    return None


def main():
    if os.geteuid() != 0:
        print("needs root (BPF_PROG_TEST_RUN)")
        return 77
    only = sys.argv[1:]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if only and case["name"] not in only:
                continue
            err = run(case, tmp)
            if err:
                failed += 1
                q = case.get("query") or case.get("script") or case.get("ir")
                print("FAIL %s: %s\n     query: %s" % (case["name"], err, q))
            else:
                passed += 1
                print("ok   %s" % case["name"])
    print("offline: %d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
