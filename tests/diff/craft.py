#!/usr/bin/python3
"""craft.py — captures for the differential test, made with scapy.

    craft.py OUTDIR          writes OUTDIR/crafted-*.pcap

Deterministic (fixed timestamps, fixed random seed), so a disagreement can be
reproduced frame by frame. Addresses are documentation prefixes only.

  crafted-wellformed.pcap  every layer and field of SPEC §1, in many values:
                           Ethernet, 802.1Q, QinQ, ARP, IPv4 (DSCP/ECN, DF/MF,
                           fragments, options), IPv6 (traffic class, flow
                           label, hop-by-hop, routing, destination options,
                           fragment, AH), TCP (flags, options, urgent, zero
                           window), UDP, ICMP, ICMPv6, DNS, HTTP.
  crafted-truncated.pcap   each of a set of well-formed frames cut by snap
                           length at many byte counts (caplen < len).
  crafted-malformed.pcap   invalid headers: IHL < 5, data offset < 5, bad
                           lengths, bad TCP options, bad DNS names, unknown
                           versions, extension header chains past the end.
  crafted-mutated.pcap     seeded bit flips and byte changes in the headers
                           of well-formed frames.
"""

import os
import random
import sys
import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (  # noqa: E402
    AH, ARP, DNS, DNSQR, DNSRR, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, ICMPv6DestUnreach,
    ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6ND_RA, IPOption_NOP, IPOption_RR,
    IPOption_LSRR, IPOption_Router_Alert, IPOption_SSRR, IPOption_Timestamp, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Jumbo, PadN, Raw, RouterAlert, fragment, fragment6, wrpcap,
)

M1, M2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
A4, B4, C4 = "192.0.2.1", "192.0.2.2", "198.51.100.7"
A6, B6 = "2001:db8::1", "2001:db8::2"
T0 = 1700000000


def e(**kw):
    return Ether(src=M1, dst=M2, **kw)


def http_req(method, path, host, extra=b""):
    return (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: hq\r\n".encode()
            + extra + b"\r\n")


def wellformed():
    p = []
    # --- Ethernet / VLAN / ARP
    p.append(e(type=0x88b5) / Raw(b"\x00" * 46))                   # unknown ethertype
    p.append(Ether(src="00:1b:21:3a:4f:ff", dst="ff:ff:ff:ff:ff:ff") /
             ARP(op=1, hwsrc="00:1b:21:3a:4f:ff", psrc=A4, pdst=B4))
    p.append(e() / ARP(op=2, hwsrc=M1, psrc=A4, hwdst=M2, pdst=B4))
    p.append(e() / ARP(op=1, hwsrc=M1, psrc="0.0.0.0", pdst=A4))   # probe
    for vid, prio, dei in [(1, 0, 0), (100, 3, 0), (4094, 7, 1), (0, 5, 0)]:
        p.append(e() / Dot1Q(vlan=vid, prio=prio, id=dei) / IP(src=A4, dst=B4) / UDP(sport=1, dport=2))
    p.append(e() / Dot1Q(vlan=10) / ARP(op=1, psrc=A4, pdst=B4, hwsrc=M1))
    p.append(e() / Dot1Q(vlan=20) / IPv6(src=A6, dst=B6) / TCP(dport=443, flags="S"))
    p.append(e(type=0x88a8) / Dot1Q(vlan=300, prio=2, type=0x8100) / Dot1Q(vlan=400, prio=6) /
             IP(src=A4, dst=B4) / ICMP())
    p.append(e() / Dot1Q(vlan=301, type=0x8100) / Dot1Q(vlan=401) / IP(src=A4, dst=B4) / TCP())
    p.append(e(type=0x88a8) / Dot1Q(vlan=302, type=0x8100) / Dot1Q(vlan=402) / IPv6(src=A6, dst=B6) / UDP())
    # --- IPv4 header fields
    for tos in (0, 0x02, 0x03, 0x28, 0xb8, 0xfc, 0xff):
        p.append(e() / IP(src=A4, dst=B4, tos=tos, ttl=1 + tos % 250, id=tos * 3) / UDP(sport=53, dport=4000))
    p.append(e() / IP(src=A4, dst=B4, flags="DF") / TCP(sport=1000, dport=80, flags="S"))
    p.append(e() / IP(src=A4, dst=B4, flags="MF", frag=0, id=77) / UDP(sport=1, dport=2) / Raw(b"a" * 32))
    p.append(e() / IP(src=A4, dst=B4, flags="MF", frag=5, id=77, proto=17) / Raw(b"b" * 32))
    p.append(e() / IP(src=A4, dst=B4, frag=8191, id=77, proto=6) / Raw(b"c" * 8))
    p.append(e() / IP(src=A4, dst=B4, flags="evil", id=78) / UDP())             # reserved bit
    for f in fragment(IP(src=A4, dst=C4, id=4242) / UDP(sport=5, dport=9999) / Raw(b"x" * 1400), fragsize=600):
        p.append(e() / f)
    for f in fragment(IP(src=A4, dst=C4, id=4243) / TCP(sport=5, dport=80, flags="PA") / Raw(b"y" * 700), fragsize=400):
        p.append(e() / f)
    p.append(e() / IP(src=A4, dst=B4, options=[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_NOP()]) / TCP())
    p.append(e() / IP(src=A4, dst=B4, options=[IPOption_RR(routers=[C4, A4])]) / UDP(dport=33434))
    p.append(e() / IP(src=A4, dst=B4, proto=253, options=[IPOption_Router_Alert()]) / Raw(b"\x11" * 8))
    p.append(e() / IP(src=A4, dst=B4, options=[IPOption_Timestamp(flg=0, timestamp=[1, 2, 3])]) / ICMP())
    p.append(e() / IP(src=A4, dst=B4, proto=47) / Raw(b"\x00\x00\x08\x00" + bytes(IP(src=C4, dst=A4) / UDP())))
    p.append(e() / IP(src=A4, dst=B4, proto=253) / Raw(b"exp"))
    p.append(e() / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=9, dport=9) / Raw(b"\x01" * 240))
    # --- IPv6
    for tc, fl in [(0, 0), (0xb8, 0x12345), (0x01, 0xfffff), (0xff, 1)]:
        p.append(e() / IPv6(src=A6, dst=B6, tc=tc, fl=fl, hlim=tc % 255 + 1) / UDP(sport=7, dport=8))
    p.append(e() / IPv6(src="fe80::1", dst="ff02::1", hlim=255) / ICMPv6ND_RA())
    p.append(e() / IPv6(src="::", dst="ff02::1:ff00:2") / ICMPv6ND_NS(tgt=B6))
    p.append(e() / IPv6(src=A6, dst=B6) / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / TCP(dport=1, flags="S"))
    p.append(e() / IPv6(src=A6, dst=B6) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00" * 4)]) / UDP(dport=2))
    p.append(e() / IPv6(src=A6, dst=B6) / IPv6ExtHdrRouting(addresses=["2001:db8::9"]) / TCP(dport=3))
    p.append(e() / IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(id=5, m=0, offset=0) / ICMPv6EchoRequest(id=9, seq=1))
    p.append(e() / IPv6(src=A6, dst=B6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
             IPv6ExtHdrRouting(addresses=[B6]) / IPv6ExtHdrFragment(id=6) / TCP(dport=4, flags="S"))
    p.append(e() / IPv6(src=A6, dst=B6) / AH(nh=17, payloadlen=4, spi=0x100, seq=7, icv=b"\x00" * 12) /
             UDP(sport=500, dport=500))
    for f in fragment6(IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(id=0x77) / UDP(sport=1, dport=5300) /
                       Raw(b"z" * 2000), 1000):
        p.append(e() / f)
    p.append(e() / IPv6(src=A6, dst=B6, nh=59) / Raw(b""))                        # no next header
    p.append(e() / IPv6(src=A6, dst=B6) / IP(src=A4, dst=B4) / UDP())              # 4in6
    p.append(e() / IP(src=A4, dst=B4) / IPv6(src=A6, dst=B6) / UDP())              # 6in4
    # --- TCP
    for flags in ("S", "SA", "A", "PA", "FA", "R", "RA", "U", "E", "C", "SEC", "FSRPAUEC", ""):
        p.append(e() / IP(src=A4, dst=B4) / TCP(sport=40000, dport=80, flags=flags, seq=1000, ack=2000 if "A" in flags else 0,
                                              urgptr=7 if "U" in flags else 0, window=512))
    p.append(e() / IP(src=A4, dst=B4) / TCP(flags=0x100 | 0x02))                   # NS/AE bit
    p.append(e() / IP(src=A4, dst=B4) / TCP(sport=443, dport=51544, flags="A", window=0, seq=0xffffffff, ack=0x80000000))
    p.append(e() / IP(src=A4, dst=B4) / TCP(sport=1, dport=2, flags="S", options=[
        ("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456789, 0)), ("NOP", None), ("WScale", 7)]))
    p.append(e() / IP(src=A4, dst=B4) / TCP(sport=1, dport=2, flags="A", options=[
        ("NOP", None), ("NOP", None), ("Timestamp", (0xfffffffe, 42)), ("NOP", None), ("NOP", None),
        ("SAck", (1000, 2000, 3000, 4000))]))
    p.append(e() / IP(src=A4, dst=B4) / TCP(sport=1, dport=2, flags="A", options=[("SAck", (5, 6)), ("EOL", None)]))
    p.append(e() / IP(src=A4, dst=B4) / TCP(sport=1, dport=2, flags="S", options=[
        (254, b"\xf9\x89"), ("MSS", 536), (34, b"\x01\x02\x03\x04\x05\x06\x07\x08"), ("WScale", 14)]))
    p.append(e() / IP(src=A4, dst=B4) / TCP(sport=1, dport=2, flags="S", options=[("EOL", None), ("MSS", 9000)]))
    p.append(e() / IPv6(src=A6, dst=B6) / TCP(sport=3, dport=4, flags="S", options=[("MSS", 1440), ("WScale", 0), ("SAckOK", b"")]))
    p.append(e() / IP(src=A4, dst=B4) / TCP(sport=5, dport=6, flags="PA") / Raw(b"hello world"))
    p.append(e() / IPv6(src=A6, dst=B6) / TCP(sport=5, dport=6, flags="PA") / Raw(b"x" * 999))
    # --- UDP / ICMP
    p.append(e() / IP(src=A4, dst=B4) / UDP(sport=1234, dport=5678) / Raw(b"data"))
    p.append(e() / IP(src=A4, dst=B4) / UDP(sport=1234, dport=5678, chksum=0))
    p.append(e() / IPv6(src=A6, dst=B6) / UDP(sport=1234, dport=5678) / Raw(b"data6"))
    for t, c in [(8, 0), (0, 0), (3, 3), (3, 1), (11, 0), (5, 1), (13, 0), (42, 0)]:
        inner = bytes(IP(src=B4, dst=A4) / UDP(sport=9, dport=10)) if t in (3, 11, 5) else b"ping"
        p.append(e() / IP(src=A4, dst=B4) / ICMP(type=t, code=c, id=0x1234, seq=7) / Raw(inner))
    p.append(e() / IPv6(src=A6, dst=B6) / ICMPv6EchoRequest(id=1, seq=2, data=b"abc"))
    p.append(e() / IPv6(src=B6, dst=A6) / ICMPv6EchoReply(id=1, seq=2, data=b"abc"))
    p.append(e() / IPv6(src=B6, dst=A6) / ICMPv6DestUnreach(code=4) / IPv6(src=A6, dst=B6) / UDP())
    # --- DNS
    qs = [("example.com", "A"), ("www.example.org", "AAAA"), ("_sip._udp.example.net", "SRV"),
          ("a.b.c.d.e.f.g.example", "TXT"), (".", "NS"), ("x" * 63 + ".example", "MX"),
          ("mixed-Case.Example.COM", "PTR"), ("7.2.0.192.in-addr.arpa", "PTR"), ("example.com", 65),
          ("example.com", "ANY"), ("a.b.c.d.e.f.example", "A")]  # the last: the fast walk's 8 labels
    for i, (name, qt) in enumerate(qs):
        p.append(e() / IP(src=A4, dst=B4) / UDP(sport=30000 + i, dport=53) / DNS(id=i + 1, rd=1, qd=DNSQR(qname=name, qtype=qt)))
    p.append(e() / IP(src=B4, dst=A4) / UDP(sport=53, dport=30000) /
             DNS(id=1, qr=1, aa=1, rd=1, ra=1, qd=DNSQR(qname="example.com"), an=DNSRR(rrname="example.com", rdata=C4)))
    p.append(e() / IP(src=B4, dst=A4) / UDP(sport=53, dport=30001) /
             DNS(id=2, qr=1, rcode=3, qd=DNSQR(qname="nx.example.com", qtype="AAAA")))
    p.append(e() / IP(src=B4, dst=A4) / UDP(sport=53, dport=30002) / DNS(id=3, qr=1, opcode=2, rcode=2, qd=DNSQR(qname="example.com")))
    p.append(e() / IP(src=A4, dst=B4) / UDP(sport=30003, dport=53) / DNS(id=4, opcode=5, qd=DNSQR(qname="zone.example", qtype="SOA")))
    p.append(e() / IPv6(src=A6, dst=B6) / UDP(sport=30004, dport=53) / DNS(id=5, qd=DNSQR(qname="v6.example", qtype="AAAA")))
    p.append(e() / IP(src=A4, dst=B4) / UDP(sport=30005, dport=53) / DNS(id=6, qdcount=0, qd=None))
    # --- HTTP
    for i, (m, path) in enumerate([("GET", "/"), ("POST", "/submit?a=1&b=2"), ("HEAD", "/index.html"),
                                   ("PUT", "/r/1"), ("DELETE", "/r/2"), ("OPTIONS", "*"),
                                   ("PATCH", "/p"), ("GET", "/" + "d" * 120)]):
        p.append(e() / IP(src=A4, dst=B4) / TCP(sport=50000 + i, dport=80, flags="PA") / Raw(http_req(m, path, "www.example.com")))
    p.append(e() / IP(src=A4, dst=B4) / TCP(sport=50100, dport=8080, flags="PA") / Raw(http_req("GET", "/alt", "example.com:8080")))
    p.append(e() / IPv6(src=A6, dst=B6) / TCP(sport=50101, dport=80, flags="PA") / Raw(http_req("GET", "/v6", "[2001:db8::2]")))
    p.append(e() / IP(src=A4, dst=B4) / TCP(sport=50102, dport=80, flags="PA") /
             Raw(b"GET /nohost HTTP/1.0\r\nAccept: */*\r\n\r\n"))
    for i, (code, reason) in enumerate([(200, "OK"), (301, "Moved Permanently"), (404, "Not Found"), (500, "Internal Server Error"), (204, "No Content")]):
        p.append(e() / IP(src=B4, dst=A4) / TCP(sport=80, dport=50000 + i, flags="PA") /
                 Raw(f"HTTP/1.1 {code} {reason}\r\nServer: hq\r\nContent-Length: 0\r\n\r\n".encode()))
    # header names in any case, LF line ends, spaces before the value, a
    # request line that ends with the segment
    for i, raw in enumerate([b"GET /lf HTTP/1.1\nhost: lf.example\n\n",
                             b"GET /sp HTTP/1.0\r\nX-A: 1\r\nHOST:   spaced.example \r\n\r\n",
                             b"GET /end HTTP/1.1"]):
        p.append(e() / IP(src=A4, dst=B4) / TCP(sport=50200 + i, dport=80, flags="PA") / Raw(raw))
    # --- tshark tries the lower port's protocol first: ftp-data (20), echo (7)
    # and tacacs (49) take these; port 0 is never looked up. (Its own
    # addresses: a SYN seen earlier on the same ports would make tshark try
    # the SYN's server port first, state a single packet does not carry.)
    for s, d in [(20, 80), (80, 20), (7, 80), (0, 80), (1900, 80), (40000, 8080)]:
        p.append(e() / IP(src=C4, dst=B4) / TCP(sport=s, dport=d, flags="PA") /
                 Raw(http_req("GET", f"/port/{s}/{d}", "www.example.com")))
    for s, d in [(49, 53), (53, 7), (0, 53), (40000, 53)]:
        p.append(e() / IP(src=C4, dst=B4) / UDP(sport=s, dport=d) /
                 DNS(id=100 + s, rd=1, qd=DNSQR(qname=f"port{s}.example")))
    return p


def truncated(base):
    """Every frame of a chosen set, cut by snaplen at many lengths."""
    out = []
    for b in base:
        raw = bytes(b)
        cuts = sorted(set(list(range(14, min(len(raw), 80))) + list(range(80, len(raw), 7))))
        for n in cuts:
            if n >= len(raw):
                continue
            q = Ether(raw[:n])
            q.wirelen = len(raw)
            out.append(q)
    # cut in the Ethernet trailer only: the datagrams are whole, and tshark
    # decodes DNS and HTTP in them
    for d in [IP(src=A4, dst=B4) / UDP(sport=30100, dport=53) / DNS(id=77, qd=DNSQR(qname="trail.example")),
              IP(src=A4, dst=B4) / TCP(sport=50300, dport=80, flags="PA") / Raw(http_req("GET", "/trail", "t.example"))]:
        raw = bytes(e() / d) + b"\x00" * 6
        for n in (len(raw) - 6, len(raw) - 1):
            q = Ether(raw[:n])
            q.wirelen = len(raw)
            out.append(q)
    return out


def short_frames(base):
    """The same frames cut short *without* snaplen (the wire frame is short):
    IP and transport lengths claim more than there is."""
    out = []
    for b in base:
        raw = bytes(b)
        for n in range(14, len(raw), 3):
            out.append(Ether(raw[:n]))
    return out


def malformed():
    p = []
    ip = lambda **kw: IP(src=A4, dst=B4, **kw)  # noqa: E731
    for ihl in (0, 1, 4):
        p.append(e() / ip(ihl=ihl) / TCP(flags="R"))
    p.append(e() / ip(ihl=15) / TCP(flags="R"))                                    # options past the end
    p.append(e() / ip(len=10) / TCP(flags="R"))                                    # total length < IHL*4
    p.append(e() / ip(len=30) / TCP(flags="R"))                                    # total length cuts TCP
    p.append(e() / ip(len=1500) / TCP(flags="R"))                                  # total length > frame
    p.append(e() / ip(len=24, options=[IPOption_NOP()] * 8) / UDP())               # 20 < total length < IHL*4
    p.append(e() / ip(len=0) / TCP(flags="R"))                                     # total length 0: TSO, rest of frame
    p.append(e() / ip(len=0, options=[IPOption_NOP()] * 4) / UDP(dport=53) / DNS(qd=DNSQR(qname="tso.example")))
    p.append(e() / ip(version=6) / TCP(flags="R"))                                 # wrong version
    p.append(e() / ip(version=0) / UDP())
    p.append(e(type=0x86dd) / Raw(bytes(ip() / UDP())))                            # v4 in v6 ethertype
    p.append(e() / ip(options=[IPOption_NOP()] * 3 + [IPOption_RR(length=40)]) / UDP())  # option overruns
    p.append(e() / ip(options=[Raw(b"\x07\x00\x00\x00")]) / UDP())                      # option length 0
    # source routes: tshark's ip.dst is the route's last address while the pointer is valid
    p.append(e() / ip(options=[IPOption_LSRR(routers=[C4, "10.0.0.2"], pointer=4)]) / UDP())
    p.append(e() / ip(options=[IPOption_SSRR(routers=[C4, "10.0.0.2"], pointer=12)]) / UDP())  # exhausted
    p.append(e() / ip(options=[IPOption_LSRR(routers=[C4, "10.0.0.2"], pointer=5)]) / UDP())   # bad pointer
    # around the fast walk's scan (codegen/cg_walk.c, cg_fast_ip4_dst): 4 options, 5, a route after others
    for nops in (3, 4):
        p.append(e() / ip(options=[IPOption_NOP()] * nops + [IPOption_LSRR(routers=[C4, "10.0.0.3"])]) / TCP(flags="R"))
    p.append(e() / ip(options=[IPOption_Router_Alert(), IPOption_RR(routers=[C4]), IPOption_SSRR(routers=["10.0.0.4"])]) /
             TCP(flags="R"))
    p.append(e() / ip(options=[Raw(b"\x00\x02\x83\x07\x04\x0a\x00\x00\x05\x00\x00\x00")]) / TCP(flags="R"))  # EOL, then a route
    # options cut by the capture: ip.dst only if the bytes tshark's option walk reads are there
    rr = e() / ip(options=[IPOption_NOP(), IPOption_RR(routers=["0.0.0.0"] * 9)]) / UDP()
    eol = e() / ip(options=[Raw(b"\x00" * 8)]) / UDP()
    for q, n in ((rr, 35), (rr, 37), (rr, 50), (eol, 34), (eol, 35)):
        c = Ether(bytes(q)[:n])
        c.wirelen = len(q)
        p.append(c)
    for doff in (0, 1, 4):
        p.append(e() / ip() / TCP(dataofs=doff, flags="R", dport=1))
    p.append(e() / ip() / TCP(dataofs=15, flags="R", dport=2))                     # header past the end
    p.append(e() / ip() / TCP(dataofs=8, flags="S", dport=3) / Raw(b"\x02\x00\x05\xb4\x03\x03\x07\x00\x01"))  # mss len 0
    p.append(e() / ip() / TCP(dataofs=8, flags="S", dport=4) / Raw(b"\x02\x01\x05\xb4" + b"\x00" * 8))      # mss len 1
    p.append(e() / ip() / TCP(dataofs=7, flags="S", dport=5) / Raw(b"\x01\x01\x02\x04\x05\xb4\x08\x0a"))    # mss ok, ts overruns
    p.append(e() / ip() / TCP(dataofs=6, flags="S", dport=6) / Raw(b"\x03\x03\x0e\x02"))                    # wscale len 3 (ok), then kind 2 len... short
    p.append(e() / ip() / TCP(dataofs=6, flags="S", dport=7) / Raw(b"\x02\x04\x05"))                       # mss cut by end of header
    p.append(e() / ip() / TCP(dataofs=8, flags="A", dport=8) / Raw(b"\x05\x0b" + b"\x00" * 10))             # sack bad length
    p.append(e() / ip() / TCP(dataofs=8, flags="A", dport=9) / Raw(b"\x08\x0a" + b"\x00" * 8 + b"\x03\x03"))
    p.append(e() / ip() / UDP(len=4, dport=53) / DNS(qd=DNSQR(qname="short.example")))  # udp len < 8
    p.append(e() / ip() / UDP(len=8, dport=53) / DNS(qd=DNSQR(qname="zero.example")))   # dns outside udp len
    p.append(e() / ip() / UDP(len=2000, dport=53) / DNS(qd=DNSQR(qname="long.example")))
    p.append(e() / ip() / UDP(dport=53) / Raw(b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"))  # qd=1, no question
    p.append(e() / ip() / UDP(dport=53) / Raw(b"\x00\x02\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07exam"))  # cut label
    p.append(e() / ip() / UDP(dport=53) / Raw(b"\x00\x03\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"))  # pointer loop
    p.append(e() / ip() / UDP(dport=53) / Raw(b"\x00\x04\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x50" + b"a" * 80 + b"\x00\x00\x01\x00\x01"))  # label > 63
    p.append(e() / ip() / UDP(dport=53) / Raw(b"\x00\x05\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03a\x00b\x00\x00\x01\x00\x01"))  # NUL in label
    p.append(e() / ip() / UDP(dport=53) / Raw(b"\x00\x06\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03a.b\x00\x00\x01\x00\x01"))  # dot in label
    p.append(e() / ip() / UDP(dport=53) / Raw(b"\x00\x07\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03abc\x00\x00"))  # qtype cut
    p.append(e() / ip() / UDP(dport=53) / Raw(b"\x00\x08"))                                                # 2-byte dns
    q = bytes(DNS(id=10, qd=DNSQR(qname="cut.example")))
    p.append(e() / ip(len=20 + 8 + len(q) - 2) / UDP(dport=53, len=8 + len(q)) / Raw(q))  # question past the IP payload
    p.append(e() / ip() / UDP(dport=53, len=8 + len(q) - 2) / Raw(q))  # question past udp.len
    p.append(e() / ip(len=20 + 8) / UDP(dport=53, len=8 + len(q)) / Raw(q))  # all of DNS past the IP payload
    p.append(e() / ip(len=20 + 24) / TCP(dataofs=10, flags="S", dport=10) / Raw(b"\x01\x01\x08\x0a" + b"\x00" * 8 + b"\x03\x03\x07\x00" + b"\x00" * 4))  # options past the IP payload
    name = b"".join(bytes([63]) + b"q" * 63 for _ in range(4)) + b"\x00"                                   # 256-byte name
    p.append(e() / ip() / UDP(dport=53) / Raw(b"\x00\x09\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + name + b"\x00\x01\x00\x01"))
    dq = b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"  # DNS flags and counts after the id
    for i, labels in enumerate([[b"a" * 63] * 3 + [b"b" * 61],         # 253 characters: the longest shown
                                [b"a" * 63] * 3 + [b"b" * 62],         # 254: "<Name too long>", type still shown
                                [b"\x01" * 63] * 3 + [b"b" * 61],      # escaped text far beyond 256 bytes
                                [b"c"] * 127,                           # 127 labels
                                [b"d"] * 200]):                         # 200 labels (400 bytes)
        wire = b"".join(bytes([len(x)]) + x for x in labels) + b"\x00"
        p.append(e() / ip() / UDP(dport=53) / Raw(bytes([0, 0x20 + i]) + dq + wire + b"\x00\x1c\x00\x01"))
    p.append(e() / ip() / TCP(dport=80, flags="PA") / Raw(b"GET"))
    p.append(e() / ip() / TCP(dport=80, flags="PA") / Raw(b"GET /no-version"))
    p.append(e() / ip() / TCP(dport=80, flags="PA") / Raw(b"GETX / HTTP/1.1\r\n\r\n"))
    p.append(e() / ip() / TCP(dport=80, flags="PA") / Raw(b"get / HTTP/1.1\r\n\r\n"))
    p.append(e() / ip() / TCP(dport=80, flags="PA") / Raw(b"GET / HTTP/1.1\r\nHost:\r\n\r\n"))
    p.append(e() / ip() / TCP(dport=80, flags="PA") / Raw(b"GET / HTTP/1.1\r\nHost: " + b"h" * 300 + b"\r\n\r\n"))
    p.append(e() / ip() / TCP(dport=80, flags="PA") / Raw(b"GET /" + b"p" * 2000 + b" HTTP/1.1\r\n\r\n"))
    for n in (126, 127, 128):  # a target about the field's room: 127 bytes and the NUL
        p.append(e() / ip() / TCP(dport=80, flags="PA") / Raw(b"GET /" + b"q" * (n - 1) + b" HTTP/1.1\r\n\r\n"))
    p.append(e() / ip() / TCP(sport=80, flags="PA") / Raw(b"HTTP/1.1 99 Odd\r\n\r\n"))
    p.append(e() / ip() / TCP(sport=80, flags="PA") / Raw(b"HTTP/1.1 2000 Odd\r\n\r\n"))
    p.append(e() / ip() / TCP(sport=80, flags="PA") / Raw(b"HTTP/1.1 20"))
    p.append(e() / ip() / TCP(dport=80, flags="PA") / Raw(b"\x00\xffGET / HTTP/1.1\r\n\r\n"))
    req = http_req("GET", "/" + "d" * 60, "www.example.com")
    p.append(e() / ip(len=20 + 20 + 40) / TCP(sport=50000, dport=80, flags="PA") / Raw(req))  # request line cut by the IP length
    # the message ends with the TCP payload: what follows is a trailer, not HTTP
    for pl, trailer in ((b"", b"GET /x HTTP/1.1\r\n\r\n"), (b"GET ", b"/x HTTP/1.1\r\n\r\n"),
                        (b"GE", b"T / HTTP/1.1\r\n\r\n"), (b"", b"HTTP/1.1 200 OK\r\n\r\n"),
                        (b"HTTP/1.", b"1 200 OK\r\n\r\n"), (b"HTTP/1.1 20", b"0 OK\r\n\r\n"),
                        (b"POS", b"T / HTTP/1.1\r\n\r\n")):
        p.append(e() / ip(len=40 + len(pl)) / TCP(sport=50001, dport=80, flags="PA") / Raw(pl + trailer))
    p.append(e() / ip() / TCP(sport=50000, dport=80, flags="PA") / Raw(b"HEAD \x00index.html HTTP/1.1\r\n\r\n"))  # NUL target: empty
    p.append(e() / IPv6(src=A6, dst=B6, plen=4) / TCP(flags="R"))                  # payload length too short
    p.append(e() / IPv6(src=A6, dst=B6, plen=1000) / TCP(flags="R"))               # longer than the frame
    # jumbograms (RFC 2675): payload length 0, the length in a hop-by-hop option
    for jlen, pad in ((100000, False), (70000, True), (30, False)):
        opts = ([PadN(optdata=b"\x00" * 2)] if pad else []) + [Jumbo(jumboplen=jlen)]
        p.append(e() / IPv6(src=A6, dst=B6, plen=0) / IPv6ExtHdrHopByHop(options=opts) /
                 ICMPv6EchoRequest(id=jlen & 0xffff, seq=1))
    p.append(e() / IPv6(src=A6, dst=B6, plen=0) / UDP(sport=4000, dport=53) /  # no option
             DNS(rd=1, qd=DNSQR(qname="j.example")))
    p.append(e() / IPv6(src=A6, dst=B6, version=4) / TCP(flags="R"))              # wrong version
    p.append(e() / IPv6(src=A6, dst=B6, nh=0) / Raw(b"\x06\xff" + b"\x00" * 6))     # HBH length past the end
    p.append(e() / IPv6(src=A6, dst=B6, nh=0) / Raw(b"\x00\x00" + b"\x00" * 6))  # HBH -> HBH (not first)
    chain = b""
    for _ in range(12):                                                            # longer than any bound
        chain += b"\x3c\x00" + b"\x01\x04\x00\x00\x00\x00"
    p.append(e() / IPv6(src=A6, dst=B6, nh=60) / Raw(chain[:-8] + b"\x06\x00" + b"\x01\x04\x00\x00\x00\x00") / TCP(flags="R"))
    p.append(e() / IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(offset=3, m=1, nh=6) / Raw(bytes(TCP(flags="R"))))
    p.append(e() / IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(offset=3, m=0, nh=60) / IPv6ExtHdrDestOpt(nh=6) / TCP())  # later fragment: data
    p.append(e() / IPv6(src=A6, dst=B6, nh=0) / Raw(b"\x06\x00\x05\x42\x00\x00\x00\x00") / TCP(flags="S"))  # HBH option past its header
    p.append(e() / IPv6(src=A6, dst=B6, nh=60) / Raw(b"\x11\x00\x01\x11\x00\x00\x00\x00") / UDP())          # dst-opts PadN past its header
    p.append(e() / IPv6(src=A6, dst=B6, nh=0) / Raw(b"\x06\x00\x00\x01\x02\x00\x00\x00") / TCP(flags="S"))  # Pad1, PadN(2): fine
    p.append(e() / IPv6(src=A6, dst=B6) / AH(nh=6, payloadlen=0, spi=1) / TCP(flags="R"))    # zero-length AH
    p.append(e() / IPv6(src=A6, dst=B6) / AH(nh=6, payloadlen=200, spi=1) / TCP(flags="R"))  # AH past the end
    # around the fast walk's bounds (codegen/cg_walk.c, cg_fast_ip6): options
    # per header, headers, their bytes, the payload length that holds them
    for opts in (b"\x00\x00\x05\x02\x00\x00", b"\x00" * 6, b"\x01\x00\x00\x00\x00\x00"):  # 3 options, 6, 2 then Pad1 x4
        p.append(e() / IPv6(src=A6, dst=B6, nh=0) / Raw(b"\x06\x00" + opts) / TCP(flags="R"))
    dst = IPv6ExtHdrDestOpt(options=[RouterAlert()])
    p.append(e() / IPv6(src=A6, dst=B6) / IPv6ExtHdrHopByHop() / dst / IPv6ExtHdrRouting(addresses=[B6]) /
             dst / TCP(dport=7, flags="R"))                                       # 4 headers
    p.append(e() / IPv6(src=A6, dst=B6) / IPv6ExtHdrHopByHop() / dst / dst / dst / dst / TCP(dport=8, flags="R"))
    p.append(e() / IPv6(src=A6, dst=B6) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00" * 250)]) /
             TCP(dport=9, flags="R"))                                             # 256 bytes of options
    p.append(e() / IPv6(src=A6, dst=B6) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00" * 250)]) /
             IPv6ExtHdrDestOpt() / TCP(dport=10, flags="R"))                      # 264
    p.append(e() / IPv6(src=A6, dst=B6, plen=12) / IPv6ExtHdrHopByHop() / dst / TCP(flags="R"))  # headers past plen
    p.append(e() / IPv6(src=A6, dst=B6, nh=0) / Raw(b"\x3b\x00\x01\x04\x00\x00\x00\x00"))  # HBH, then no next header
    p.append(e() / Dot1Q(vlan=5) / Raw(b""))                                       # tag, nothing after
    p.append(e(type=0x8100) / Raw(b"\x00"))                                        # half a tag
    p.append(e(type=0x88a8) / Dot1Q(vlan=1, type=0x8100) / Raw(b"\x00\x02"))       # QinQ, inner cut
    p.append(e() / ARP(hwlen=8, plen=4, psrc=A4, pdst=B4))                         # odd hardware length
    p.append(e() / ARP(hwtype=6, ptype=0x86dd, hwlen=6, plen=16) / Raw(b"\x00" * 16))
    p.append(e(type=0x0806) / Raw(b"\x00\x01\x08\x00\x06\x04\x00"))                # ARP cut
    for ht, pt in ((3, 0x1100), (6, 0x0800), (1, 0x00cc), (2, 0x0800), (1, 0x86dd)):   # types: MAC / IPv4 or bytes
        p.append(e() / ARP(hwtype=ht, ptype=pt, hwlen=6, plen=4, hwsrc=M1, psrc=A4, pdst=B4))
    for t in (0x0000, 0x0001, 0x05dc, 0x05dd, 0x05ff):                            # EtherType 0, 802.3 lengths, invalid
        p.append(Ether(src=M1, dst=M2, type=t) / Raw(b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + b"\x00" * 40))
    p.append(e() / ip() / UDP(len=0, dport=53) / DNS(qd=DNSQR(qname="zero.example")))   # udp len 0 / 7: bogus
    p.append(e() / ip() / UDP(len=7, dport=5678) / Raw(b"x" * 4))
    p.append(e() / IPv6(src=A6, dst=B6) / UDP(len=4, dport=5678) / Raw(b"x" * 4))
    p.append(e() / ip(proto=1) / Raw(b"\x08"))                                     # ICMP cut at 1 byte
    p.append(e() / ip(proto=1) / Raw(b"\x08\x00\x00\x00\x12"))                     # echo id cut
    p.append(e() / IPv6(src=A6, dst=B6, nh=58) / Raw(b"\x80\x00\x00"))             # icmp6 cut
    p.append(e() / ip(proto=17) / Raw(b"\x00\x35\x00"))                            # udp cut
    p.append(e() / ip(proto=6) / Raw(b"\x00\x50\x00\x50" + b"\x00" * 9 + b"\x04")) # tcp cut at 14
    return p


def mutate(base, n, rnd):
    out = []
    for i in range(n):
        raw = bytearray(bytes(rnd.choice(base)))
        for _ in range(rnd.randint(1, 3)):
            pos = rnd.randrange(12, min(len(raw), 80))
            if rnd.random() < 0.5:
                raw[pos] ^= 1 << rnd.randrange(8)
            else:
                raw[pos] = rnd.choice([0, 0xff, 0x40, 0x45, 0x06, 0x11, 0x3a, 0x2c, 0x00, 0x05, 0x0f, rnd.randrange(256)])
        out.append(Ether(bytes(raw)))
    return out


def stamp(pkts, t0):
    for i, q in enumerate(pkts):
        q.time = t0 + i * 0.001
    return pkts


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(20261129)
    wf = wellformed()
    sel = [wf[i] for i in range(len(wf)) if i % 3 == 0]
    files = {
        "crafted-wellformed.pcap": wf,
        "crafted-truncated.pcap": truncated(sel),
        "crafted-short.pcap": short_frames(sel[::2]),
        "crafted-malformed.pcap": malformed(),
        "crafted-mutated.pcap": mutate(wf, 1500, rnd),
    }
    for name, pkts in files.items():
        wrpcap(os.path.join(out, name), stamp(pkts, T0))
        print(f"{name}: {len(pkts)} frames")


if __name__ == "__main__":
    main()
