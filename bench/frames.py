#!/usr/bin/python3
"""frames.py — writes the representative frames bench/run.sh measures, one raw
Ethernet frame per file (NAME.bin) in the directory given, and a pcap of them
all (frames.pcap) for hdrq -r. Documentation addresses only, except a 10/8
source that query 15 (`ip.src in 10.0.0.0/8`) must match."""
import os
import sys

from scapy.all import (ARP, DNS, DNSQR, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, IPOption_RR,
                       IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw,
                       wrpcap)

E = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (12345, 0)), ("NOP", None), ("WScale", 7)]
FRAMES = {
    "v4_tcp_syn_opts": E / IP(src="10.0.0.1", dst="192.0.2.2") / TCP(sport=40000, dport=80, flags="S", options=OPTS),
    "v4_tcp_rst": E / IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=40001, dport=443, flags="RA", window=0),
    "v4opt_tcp": E / IP(src="192.0.2.1", dst="198.51.100.7", tos=46 << 2, options=[IPOption_RR(routers=["192.0.2.9", "0.0.0.0"])]) / TCP(sport=40002, dport=8080, flags="A", options=[("NOP", None), ("NOP", None), ("Timestamp", (1, 2))]),
    "vlan_v4_tcp": E / Dot1Q(vlan=100, prio=5) / IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=40003, dport=80, flags="S", options=OPTS),
    "qinq_v4_udp": Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / Dot1AD(vlan=10) / Dot1Q(vlan=20) / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=5000, dport=6000) / Raw(b"x" * 32),
    "v6_tcp_syn": E / IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=40004, dport=443, flags="S", options=OPTS),
    "v6ext_tcp_rst": E / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(addresses=["2001:db8::9"]) / TCP(sport=40005, dport=22, flags="R"),
    "v4_dns": E / IP(src="192.0.2.1", dst="192.0.2.53") / UDP(sport=5353, dport=53) / DNS(rd=1, qd=DNSQR(qname="www.example.com", qtype="AAAA")),
    "v4_http": E / IP(src="192.0.2.1", dst="192.0.2.80") / TCP(sport=40006, dport=80, flags="PA") / Raw(b"GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"),
    "v4_icmp": E / IP(src="192.0.2.1", dst="192.0.2.2") / ICMP(type=8, id=1, seq=1) / Raw(b"p" * 56),
    "v4_frag": E / IP(src="192.0.2.1", dst="192.0.2.2", flags="MF", id=7) / UDP(sport=1, dport=2) / Raw(b"f" * 64),
    "arp": Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc="02:00:00:00:00:01", psrc="192.0.2.1", pdst="192.0.2.2"),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    pkts = []
    for name, p in FRAMES.items():
        b = bytes(p)
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(b)
        pkts.append(Ether(b))
    wrpcap(os.path.join(out, "frames.pcap"), pkts)


if __name__ == "__main__":
    main()
