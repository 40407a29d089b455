#!/usr/bin/python3
"""gen-yield-ports.py — the `yield` port lists of stdlib/proto/*.hdr, measured
from the tshark on this machine.

    scripts/gen-yield-ports.py http|dns

tshark hands a TCP or UDP payload to the dissector registered on the lower
of the two ports first, and to the higher port's only if the lower one has
none or refuses the payload (packet-tcp.c / packet-udp.c decode_*_ports; a
port of 0 is skipped). So an HTTP request from port 20 to port 80 is
ftp-data, not HTTP. Which lower ports take the payload away depends on each
dissector (TLS on 443 refuses an HTTP request, ftp-data on 20 takes
anything), so this script asks tshark: for every port registered in
`tshark -G decodes` below the layer's highest port, it crafts the layer's
messages (both directions, requests and responses) between that port and
the layer's highest port, and lists the port if tshark misses the layer in
any of those frames: hdrq may then miss a layer tshark shows, but never
shows one tshark does not.

Prints the `yield` lines to paste into the layer's .hdr file. Needs tshark
and python3-scapy; a development tool, not run by the build or the tests.
"""

import logging
import os
import re
import subprocess
import sys
import tempfile

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import DNS, DNSQR, DNSRR, IP, TCP, UDP, Ether, Raw, wrpcap  # noqa: E402

HTTP_PORTS = [80, 631, 1900, 2710, 2869, 3128, 3132, 3689, 5985, 8080, 8088, 11371]
HTTP_MSGS = [b"GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n",
             b"POST /form HTTP/1.0\r\nHost: example\r\nContent-Length: 0\r\n\r\n",
             b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
             b"HTTP/1.1 404 Not Found\r\n\r\n"]
DNS_MSGS = [DNS(id=1, rd=1, qd=DNSQR(qname="www.example.org")),
            DNS(id=2, qr=1, aa=1, qd=DNSQR(qname="www.example.org"),
                an=DNSRR(rrname="www.example.org", rdata="192.0.2.9"))]

LAYERS = {
    # layer: (registry table, transport, layer's ports, messages, a tshark field it always shows)
    "http": ("tcp.port", TCP, HTTP_PORTS, HTTP_MSGS, "http.request.method,http.response.code"),
    "dns": ("udp.port", UDP, [53], DNS_MSGS, "dns.id"),
}


def registered(table):
    out = subprocess.run(["tshark", "-G", "decodes"], capture_output=True, text=True,
                         check=True).stdout
    return sorted({int(f[1]) for f in (ln.split("\t") for ln in out.splitlines())
                   if len(f) >= 2 and f[0] == table})


def frames(l4, hi, ports, msgs):
    out, who = [], []
    for p in ports:
        for m in msgs:
            for s, d in ((p, hi), (hi, p)):
                hdr = l4(sport=s, dport=d, flags="PA") if l4 is TCP else l4(sport=s, dport=d)
                out.append(Ether() / IP(src="192.0.2.1", dst="192.0.2.2") / hdr / m)
                who.append(p)
    return out, who


def shown(pcap, fields):
    args = ["tshark", "-r", pcap, "-o", "tcp.desegment_tcp_streams:FALSE", "-T", "fields"]
    for f in fields.split(","):
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [any(x.strip() for x in ln.split("\t")) for ln in out.splitlines()]


def ranges(ports):
    out, i = [], 0
    while i < len(ports):
        j = i
        while j + 1 < len(ports) and ports[j + 1] == ports[j] + 1:
            j += 1
        out.append(str(ports[i]) if i == j else f"{ports[i]}..{ports[j]}")
        i = j + 1
    return out


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in LAYERS:
        sys.exit("usage: gen-yield-ports.py " + "|".join(LAYERS))
    table, l4, own, msgs, fields = LAYERS[sys.argv[1]]
    hi = max(own)
    cand = [p for p in registered(table) if 0 < p < hi and p not in own]
    pk, who = frames(l4, hi, cand, msgs)
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "yield.pcap")
        wrpcap(pcap, pk)
        seen = shown(pcap, fields)
    if len(seen) != len(who):
        sys.exit(f"tshark decoded {len(seen)} frames of {len(who)}")
    lost = sorted({p for p, ok in zip(who, seen) if not ok})
    ver = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    ver = re.search(r"\d+\.\d+\.\d+", ver).group(0)
    print(f"\t# {len(lost)} ports, measured by scripts/gen-yield-ports.py {sys.argv[1]} "
          f"with tshark {ver}")
    l4name = table.split(".")[0]
    line = []
    for r in ranges(lost):
        if line and len(",".join(line + [r])) > 72:
            print(f"\tyield {l4name}.src_port {l4name}.dst_port {','.join(line)}")
            line = []
        line.append(r)
    if line:
        print(f"\tyield {l4name}.src_port {l4name}.dst_port {','.join(line)}")


if __name__ == "__main__":
    main()
