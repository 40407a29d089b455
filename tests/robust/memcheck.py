#!/usr/bin/python3
"""memcheck.py — a whole offline run and a whole live run under Valgrind's
memcheck: no invalid access, no use of uninitialised memory, no definite or
indirect leak (issue 6). The sanitizer build covers the same paths with ASan
and UBSan; Valgrind sees the uninstrumented binary as shipped.

  offline  a scapy-made capture (TCP, UDP, DNS, HTTP, ICMP, IPv6, VLAN) read
           with -r through a script of group, hist, distinct, log and -w:
           exit 0 and the counts the capture holds;
  live     hdrq on a veth in a network namespace (XDP ingress) counting UDP
           datagrams sent from the other end, stopped with SIGINT: exit 0
           and the count equals the datagrams sent.

Valgrind does not know every bpf(2) command: hdrq marks what the kernel
filled (sys_kernel_filled) and valgrind.supp names the remaining false
reports (libbpf's feature probes, a NULL test-run output buffer).
Exit 0 pass, 1 fail, 77 skipped (not root, or no valgrind).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import hqnet  # noqa: E402

VG_ERR = 99
SCRIPT = """ip group by ip.src select count(), hist(ip.len), avg(ip.len), distinct(ip.ttl)
udp where dst_port == 53 log ip.src, dns.qname, dns.qtype
tcp log ip.src, tcp.flags, http.method, http.path
"""
FRAMES = r"""
import sys, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (Ether, Dot1Q, IP, IPv6, TCP, UDP, ICMP, DNS, DNSQR, Raw,
                       IPv6ExtHdrHopByHop, wrpcap)
e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
f = [e/IP(src="192.0.2.1", dst="192.0.2.2", ttl=64)/TCP(dport=80, flags="S"),
     e/IP(src="192.0.2.1", dst="192.0.2.2", ttl=63)/TCP(dport=80, flags="PA")/
       Raw(b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"),
     e/IP(src="198.51.100.7", dst="192.0.2.2")/UDP(sport=5353, dport=53)/
       DNS(rd=1, qd=DNSQR(qname="example.org", qtype="AAAA")),
     e/IP(src="198.51.100.7", dst="192.0.2.2")/ICMP(),
     e/Dot1Q(vlan=7)/IP(src="192.0.2.9", dst="192.0.2.2")/UDP(dport=9),
     e/IPv6(src="2001:db8::1", dst="2001:db8::2")/IPv6ExtHdrHopByHop()/TCP(dport=22),
     e/IP(src="192.0.2.1", dst="192.0.2.2", ihl=4)/TCP()]   # malformed: IHL 4
wrpcap(sys.argv[1], f)
"""


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def valgrind(log):
    return ["valgrind", "-q", f"--error-exitcode={VG_ERR}", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect",
            f"--suppressions={os.path.join(HERE, 'valgrind.supp')}", f"--log-file={log}"]


def report(rc, log, what):
    text = open(log).read() if os.path.exists(log) else ""
    if rc == VG_ERR or "ERROR SUMMARY: 0" not in text and "==" in text:
        fail(f"{what}: memcheck reports errors:\n{text[-4000:]}")


def offline(hdrq, tmp):
    pcap, out_pcap, log = (os.path.join(tmp, n) for n in ("in.pcap", "out.pcap", "off.log"))
    subprocess.run([hqnet.PYTHON, "-c", FRAMES, pcap], check=True)
    script = os.path.join(tmp, "q.hq")
    with open(script, "w") as f:
        f.write(SCRIPT)
    r = subprocess.run(valgrind(log) + [hdrq, "-r", pcap, "-o", "json", "-w", out_pcap,
                                        "-f", script],
                       capture_output=True, text=True, timeout=600)
    report(r.returncode, log, "offline")
    if r.returncode != 0:
        fail(f"offline: exit {r.returncode}: {r.stderr[-2000:]}")
    objs, junk = hqnet.parse_json_lines(r.stdout)
    groups = {o["ip.src"]: o["count()"] for o in objs if o["type"] == "group"}
    logs = [o for o in objs if o["type"] == "log"]
    want = {"192.0.2.1": 2, "198.51.100.7": 2, "192.0.2.9": 1}
    if junk or groups != want or len(logs) != 4:
        fail(f"offline: groups {groups} (want {want}), {len(logs)} log records (want 4: 3 TCP, 1 DNS), "
             f"junk {junk[:2]}")
    print(f"offline: ok (groups {groups}, {len(logs)} log records, memcheck clean)")


def live(hdrq, tmp):
    log = os.path.join(tmp, "live.log")
    with hqnet.NetnsPair() as pair:
        proc = pair.popen("B", valgrind(log) + [hdrq, "-i", hqnet.IF_B, "-o", "json",
                                                 "udp group by dst_port"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # Valgrind runs LLVM some 30 times slower: allow for it. The
            # link must be this process's own (fdinfo): other hdrq runs on
            # the machine attach too
            held = hqnet.wait_own_link(proc, timeout=240)
            if not held:
                fail(f"live: hdrq did not attach: {proc.stderr.read() if proc.poll() else ''}")
            got = pair.udp_exchange({7101: 25, 7102: 5})
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=240)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        report(proc.returncode, log, "live")
        if proc.returncode != 0:
            fail(f"live: exit {proc.returncode}: {err[-2000:]}")
        objs, _ = hqnet.parse_json_lines(out)
        counts = {o["udp.dst_port"]: o["count()"] for o in objs if o["type"] == "group"}
        if counts != {7101: 25, 7102: 5} or got != {7101: 25, 7102: 5}:
            fail(f"live: hdrq counted {counts}, receiver got {got}, sent 25 and 5")
        left = pair.attachments("B") + hqnet.bpf_gone(held)
        if left:
            fail(f"live: left behind: {left}")
    print(f"live: ok (counts {counts}, memcheck clean)")


def main():
    hqnet.require_root()
    if not shutil.which("valgrind"):
        print("valgrind not installed: skipped")
        sys.exit(77)
    hdrq = hqnet.hdrq_bin()
    tmp = tempfile.mkdtemp(prefix="hq-memcheck-")
    try:
        offline(hdrq, tmp)
        live(hdrq, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
