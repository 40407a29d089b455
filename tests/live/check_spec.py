#!/usr/bin/python3
"""check_spec.py — every SPEC §1 example compiles and passes the kernel
verifier (`hdrq --check QUERY`), and the offline mode runs it.

The examples are read from ../shared/SPEC.md (the block after "Required
examples"); the list below is the fallback when SPEC.md is not beside the
tree. A query hdrq rejects with "not supported yet" (exit 2) is reported as
UNSUPPORTED and does not fail the test unless HQ_STRICT_SPEC=1 (the language
issue turns it on once every clause is implemented); any other failure —
a verifier rejection above all — fails it. Each example is also run
offline over a small crafted capture (`-r`), which must exit 0.
"""

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import hqnet  # noqa: E402

FALLBACK = """\
tcp where flags.rst group by dst_port
tcp where flags.syn and not flags.ack group by ip.dst every 1s
tcp where flags.syn and not flags.ack group by ip.src select distinct(dst_port) having distinct(dst_port) > 20
inet group by ip.src, ip.dst select sum(ip.len), count() top 10
tcp where tcp.window == 0 log ip.src, ip.dst, src_port, dst_port
tcp where retransmit group by ip.dst, dst_port
udp where dst_port == 53 log ip.src, dns.qname, dns.qtype
http log ip.src, http.method, http.path
icmp group by icmp.type, icmp.code
inet group by ttl select hist(ip.len)
ip where ip.dscp != 0 group by ip.dscp, ip.src
ip where ip.mf or ip.frag_off != 0 group by ip.src
arp log arp.op, arp.sha, arp.spa, arp.tpa
vlan group by vlan.id select count(), sum(pkt.len)
tcp where ip.src in 10.0.0.0/8 and dst_port in {80, 443, 8000..8100} log *
"""

EXTRA = [
    # issue 3: the flagship in tshark's vocabulary
    "tcp where tcp.flags.reset == 1 group by tcp.dstport",
    "any log *",
]


def spec_examples():
    src = os.environ.get("HQ_SRC", os.path.join(HERE, "..", ".."))
    path = os.path.join(src, "..", "shared", "SPEC.md")
    try:
        text = open(path).read()
    except OSError:
        return FALLBACK.splitlines(), "built-in list"
    m = re.search(r"Required examples[^\n]*\n(.*?)\n### ", text, re.S)
    if not m:
        return FALLBACK.splitlines(), "built-in list"
    qs = [l.strip() for l in m.group(1).splitlines() if l.startswith("    ") and l.strip()]
    return qs, path


def crafted_capture(path):
    """A few frames that most examples match, written with scapy."""
    code = f"""
import logging; logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import *
p = [Ether()/IP(src="10.1.2.3", dst="192.0.2.2", tos=0x28)/TCP(sport=1234, dport=80, flags="S"),
     Ether()/IP(src="10.1.2.3", dst="192.0.2.2")/TCP(sport=1234, dport=443, flags="R", window=0),
     Ether()/IP(src="192.0.2.1", dst="192.0.2.2")/UDP(sport=5353, dport=53)/DNS(qd=DNSQR(qname="example.com")),
     Ether()/IP(src="192.0.2.1", dst="192.0.2.2")/TCP(sport=1, dport=80, flags="PA")/Raw(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"),
     Ether()/IP(src="192.0.2.1", dst="192.0.2.2")/ICMP(),
     Ether()/Dot1Q(vlan=7)/IP(src="192.0.2.1", dst="192.0.2.2", flags="MF")/UDP(),
     Ether()/ARP(psrc="192.0.2.1", pdst="192.0.2.2"),
     Ether()/IPv6(src="2001:db8::1", dst="2001:db8::2")/TCP(flags="R")]
wrpcap({path!r}, p)
"""
    subprocess.run([hqnet.PYTHON, "-c", code], check=True)


def main():
    hqnet.require_root()
    hdrq = hqnet.hdrq_bin()
    strict = os.environ.get("HQ_STRICT_SPEC") == "1"
    qs, where = spec_examples()
    qs += EXTRA
    print(f"{len(qs)} queries ({len(qs) - len(EXTRA)} SPEC examples from {where})")
    tmp = tempfile.mkdtemp(prefix="hq-check-")
    pcap = os.path.join(tmp, "examples.pcap")
    crafted_capture(pcap)
    passed, unsupported, failed = [], [], []
    for q in qs:
        r = subprocess.run([hdrq, "--check", q], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=120)
        msg = (r.stdout + r.stderr).strip()
        if r.returncode == 0:
            off = subprocess.run([hdrq, "-r", pcap, "-o", "json", q], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, timeout=120)
            if off.returncode != 0:
                failed.append(q)
                print(f"FAIL  {q}\n      --check ok, but -r exits {off.returncode}: "
                      f"{off.stderr.strip()[-400:]}")
                continue
            passed.append(q)
            print(f"ok    {q}\n      {msg.splitlines()[-1] if msg else ''}")
        elif r.returncode == 2 and "not supported" in msg:
            unsupported.append(q)
            print(f"UNSUP {q}\n      {msg.splitlines()[0] if msg else ''}")
        else:
            failed.append(q)
            print(f"FAIL  {q}\n      exit {r.returncode}:\n      " +
                  "\n      ".join(msg.splitlines()[-12:]))
    print(f"\nSPEC examples: {len(passed)} pass the verifier, {len(unsupported)} not supported "
          f"yet, {len(failed)} fail")
    if failed or (strict and unsupported) or not passed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
