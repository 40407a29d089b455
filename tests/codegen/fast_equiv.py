#!/usr/bin/python3
"""fast_equiv.py — the fast walk (codegen/cg_fast.c) changes no result.

    fast_equiv.py CAPTURE|DIRECTORY...

The captures (the shared corpus and the crafted ones of tests/diff: well-
formed, truncated, malformed, mutated) are joined into one. Each query below
runs over it offline twice, with the fast walk and without it
(HDRQ_NO_FAST=1), and the two outputs must be the same, byte for byte. So
must a script of all the queries of FAST together.

The test also checks that the fast walk is there at all: each query of
FAST must have it in its program (the full walk's block name in --emit ir),
and each query of NOT_FAST must be left to the full walk alone. The
scripts are FAST's queries that do not log, SCRIPT of them at a time, with
the fast walk, then all of them at once (a program too large for the fast
walk, which hdrq then builds without it: codegen.c).
"""
import difflib
import os
import subprocess
import sys
import tempfile

HDRQ = os.environ.get("HDRQ", "hdrq")

# queries the fast walk serves: it lets packets go on a layer it can walk
# to and a where clause of fixed fields, or runs queries that read what it
# can read (fixed fields, metadata, the walker outputs it gives)
FAST = [
    "tcp where flags.rst group by dst_port",
    "tcp where flags.syn and not flags.ack group by ip.dst",
    "tcp where tcp.window == 0 log ip.src, ip.dst, src_port, dst_port",
    "tcp where ip.src in 192.0.2.0/24 and dst_port in {80, 443, 8000..8100} log *",
    "tcp where dst_port == 80 or src_port == 80 group by ip.src, ip.dst",
    "tcp where tcp.hdr_len > 20 and ip.ttl < 128 group by tcp.flags",
    "udp where dst_port == 53 log ip.src, dns.qname, dns.qtype",
    "udp where udp.len < 20 group by ip.src",
    "ip where ip.dscp != 0 group by ip.dscp, ip.src",
    "ip where ip.mf or ip.frag_off != 0 group by ip.src",
    "ip where ip.len > 1000 group by ip.proto",
    "ip where ip.hdr_len > 20 group by ip.dst",
    "inet where ttl < 64 group by inet.src",
    "icmp where icmp.type == 3 group by icmp.code",
    "icmp group by icmp.type, icmp.code",
    "arp log arp.op, arp.sha, arp.spa, arp.tpa",
    "arp where arp.op == 2 group by arp.spa",
    "eth where eth.type == 0x0806 group by eth.src",
    "eth where eth.len > 0 group by eth.len",
    "vlan group by vlan.id select count(), sum(pkt.len)",
    "ip6 where ip6.hlim == 255 group by ip6.src",
    "tcp where ip6.src == 2001:db8::1 group by dst_port",
    "dns where dns.qtype == 28 group by dns.qname",
    "dns group by dns.qtype, dns.qclass",
    "dns where dns.qr log dns.id, dns.qtype, udp.payload_len",
    "udp group by udp.payload_len",
    "http log ip.src, http.method, http.path",
    "http group by http.method, tcp.dst_port",
    "http where http.method == \"GET\" or http.method == \"OPTIONS\" log ip.src, http.method",
    "tcp where dst_port in {80, 8080} and http group by src_port",
    "http where http.path startswith \"/\" group by http.path, http.method",
    "eth where http.method == \"GET\" log eth.src, eth.len",
    "eth where http.path == \"/\" or eth.len > 1000 log eth.src, http.path",
    "tcp where dst_port == 80 and not http group by ip.src, tcp.flags",
    "icmp6 group by icmp6.type",
    "ip6 group by ip6.proto, ip6.next",
    "ip where ip.hdr_len > 20 group by ip.src, ip.dst",
    "tcp where flags.rst log ip.dst, dst_port",
    "tcp where flags.rst and ip6.plen > 20 group by ip6.dst, dst_port",
    "tcp where retransmit group by ip.dst, dst_port",
    "tcp where tcp.opt.mss > 1400 group by ip.src",
    "tcp where vlan.id == 5 or vlan.pcp > 0 group by dst_port",
    "udp where ip6.hlim == 64 or ip.ttl == 64 group by dst_port",
    "icmp6 where icmp6.type == 128 group by ip6.src",
    "arp where vlan.inner_id == 5 group by arp.op",
    "eth group by eth.type",
    "inet group by ip.src, ip.dst select sum(ip.len), count() top 10",
    "inet group by ttl select hist(ip.len)",
    "any group by ip.src",
    "ip log ip.len, ip.src, ip.dst",
    "pkt where pkt.len > 1000 group by ip.src",
    "tcp group by ip6.dst, dst_port select count(), min(tcp.window), max(pkt.len)",
    "udp where src_port == 53 group by ip.src select distinct(dst_port)",
    "vlan where ip.ttl > 0 log vlan.id, vlan.type, ip.dst, ip6.dst",
    "tcp log tcp.opt.mss, tcp.opt.wscale, tcp.opt.sack_perm, tcp.opt.sack, tcp.opt.ts_val, tcp.opt.ts_ecr",
    "tcp where tcp.options and ip.ttl > 1 group by tcp.options.len, ip.options, ip.options.len",
    "vlan log vlan.inner_id, vlan.inner_pcp, vlan.inner_dei, vlan.type",
    "ip6 log ip6.frag_off, ip6.mf, ip6.src",
    "tcp where dst_port == 80 log *",
]
# queries that read what the fast walk cannot (strings, most walker
# outputs) on every frame it could let go of: no fast walk
NOT_FAST = [
    "any log *",
    "eth where eth.type == 0x0800 or pkt.len > 100 log eth.src, dns.qname",
]
SAVED = ["dns-qtypes", "dscp-audit", "http-methods", "icmp-unreachables", "port-scan",
         "retransmissions", "rst-storm", "syn-flood", "top-talkers", "ttl-anomalies",
         "zero-windows"]


SCRIPT = 14  # queries per script


def hdrq(args, fast=True):
    env = dict(os.environ)
    env.pop("HDRQ_NO_FAST", None)
    if not fast:
        env["HDRQ_NO_FAST"] = "1"
    r = subprocess.run([HDRQ] + args, capture_output=True, text=True, env=env)
    return r.returncode, r.stdout, r.stderr


def has_fast(query):
    rc, out, err = hdrq(["--emit", "ir"] + ([query] if isinstance(query, str) else query))
    if rc != 0:
        sys.exit(f"--emit ir {query!r}: {err}")
    return "full_walk:" in out


def compare(args, what):
    a, b = hdrq(args, True), hdrq(args, False)
    if a[0] != 0 or b[0] != 0:
        return f"{what}: exit {a[0]} / {b[0]}: {a[2].strip()} / {b[2].strip()}"
    if a[1] != b[1]:
        diff = difflib.unified_diff(a[1].splitlines(), b[1].splitlines(), "fast walk",
                                    "HDRQ_NO_FAST=1", n=1, lineterm="")
        shown = "\n".join(list(diff)[:12])
        return f"{what}: output differs with and without the fast walk:\n{shown}"
    return None


def main():
    if os.geteuid() != 0:
        print("skip: BPF_PROG_TEST_RUN needs root")
        return 77
    caps = []
    for a in sys.argv[1:]:
        if os.path.isdir(a):
            caps += sorted(os.path.join(a, n) for n in os.listdir(a)
                           if n.endswith((".pcap", ".pcapng")))
        elif os.path.exists(a):
            caps.append(a)
    if not caps:
        print("skip: no capture")
        return 77
    failures = []
    runs = len(FAST) + len(NOT_FAST) + len(SAVED)
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, "all.pcap")
        subprocess.run(["mergecap", "-a", "-F", "pcap", "-w", cap] + caps, check=True)
        frames = int(subprocess.run(["capinfos", "-c", "-M", cap], capture_output=True,
                                    text=True, check=True).stdout.split()[-1])
        for q in FAST + NOT_FAST:
            if has_fast(q) != (q in FAST):
                failures.append(f"{q!r}: fast walk {'missing' if q in FAST else 'built'}")
            args = ["-r", cap, "-o", "json", q]
            failures.append(compare(args, repr(q)))
        for name in SAVED:
            failures.append(compare(["-r", cap, "-o", "json", name], name))
        plain = [q for q in FAST if "log" not in q]
        for i in range(0, len(plain) + 1, SCRIPT):  # the last one: all of them
            script = os.path.join(tmp, f"fast{i}.hq")
            part = plain[i:i + SCRIPT] if i < len(plain) else plain
            with open(script, "w") as f:
                f.write("\n".join(part) + "\n")
            if part is not plain and not has_fast(["-f", script]):
                failures.append(f"script of {len(part)} queries: fast walk missing")
            failures.append(compare(["-r", cap, "-o", "json", "-f", script], f"script {i}"))
            runs += 1
    failures = [f for f in failures if f]
    for f in failures:
        print("FAIL", f)
    print(f"fast walk: {runs} runs compared over "
          f"{frames} frames, {len(failures)} differences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
