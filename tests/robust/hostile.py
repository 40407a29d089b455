#!/usr/bin/python3
"""hostile.py — hostile frames through every query offline (hdrq -r).

Writes one capture of hostile frames: random bytes of every length from 0 to
1,600 (every fourth one with an IPv4, IPv6, 802.1Q or ARP EtherType so the
parsers past Ethernet run too), and bit flips of real frames from the
captures in $HQ_CORPUS (read there, never copied into the repository). Then
runs every SPEC §1 example and every stdlib saved query over it with
`hdrq -r FILE -o json`, each bounded in time, and fails on a crash (signal),
a hang (timeout), an exit status other than 0, or a sanitizer report.
Where tshark decodes the frames, tests/diff/difftest.py (imported machinery,
run as a program) judges every logged field against it.

    hostile.py [--seed N] [--no-tshark]      (env: HDRQ, HQ_SRC, HQ_CORPUS)
"""
import argparse
import os
import random
import struct
import subprocess
import sys

import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

SPEC = [
    "tcp where flags.rst group by dst_port",
    "tcp where flags.syn and not flags.ack group by ip.dst every 1s",
    "tcp where flags.syn and not flags.ack group by ip.src select distinct(dst_port) having distinct(dst_port) > 20",
    "inet group by ip.src, ip.dst select sum(ip.len), count() top 10",
    "tcp where tcp.window == 0 log ip.src, ip.dst, src_port, dst_port",
    "tcp where retransmit group by ip.dst, dst_port",
    "udp where dst_port == 53 log ip.src, dns.qname, dns.qtype",
    "http log ip.src, http.method, http.path",
    "icmp group by icmp.type, icmp.code",
    "inet group by ttl select hist(ip.len)",
    "ip where ip.dscp != 0 group by ip.dscp, ip.src",
    "ip where ip.mf or ip.frag_off != 0 group by ip.src",
    "arp log arp.op, arp.sha, arp.spa, arp.tpa",
    "vlan group by vlan.id select count(), sum(pkt.len)",
    "tcp where ip.src in 10.0.0.0/8 and dst_port in {80, 443, 8000..8100} log *",
    "any log *",
]
TYPES = [b"\x08\x00", b"\x86\xdd", b"\x81\x00", b"\x08\x06", b"\x88\xa8"]
SANITIZER = ("AddressSanitizer", "UndefinedBehaviorSanitizer", "runtime error:", "LeakSanitizer")


def read_pcap(path):
    """Frames of a classic pcap with Ethernet link type (others skipped)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return []  # pcapng: not needed for the mutations
    if struct.unpack(e + "I", data[20:24])[0] != 1:
        return []
    out, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000, (i % 1000) * 1000, len(fr), len(fr)))
            f.write(fr)


def hostile_frames(rng, corpus):
    frames = []
    for n in range(0, 1601):
        b = bytearray(rng.getrandbits(8) for _ in range(n))
        if n >= 14 and n % 4 == 0:
            b[12:14] = TYPES[(n // 4) % len(TYPES)]
            if b[12:14] == b"\x08\x00" and n >= 15:
                b[14] = 0x40 | (b[14] & 0x0F)  # version 4, random IHL
            if b[12:14] == b"\x86\xdd" and n >= 15:
                b[14] = 0x60 | (b[14] & 0x0F)
        frames.append(bytes(b))
    real = []
    if corpus and os.path.isdir(corpus):
        for name in sorted(os.listdir(corpus)):
            if name.endswith(".pcap"):
                real += [fr for fr in read_pcap(os.path.join(corpus, name))[:40] if fr]
    for fr in real:
        for _ in range(4):
            b = bytearray(fr)
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(b))
                b[i] ^= 1 << rng.randrange(8)
            if rng.random() < 0.3:
                b = b[:rng.randrange(len(b) + 1)]
            frames.append(bytes(b))
    return frames


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--no-tshark", action="store_true")
    ap.add_argument("--timeout", type=float, default=90)
    ap.add_argument("--keep", help="also write the hostile capture here (to reproduce a failure)")
    a = ap.parse_args()
    hdrq = os.environ.get("HDRQ", "hdrq")
    src = os.environ.get("HQ_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
    rng = random.Random(a.seed)
    frames = hostile_frames(rng, os.environ.get("HQ_CORPUS"))
    queries = list(SPEC)
    qdir = os.path.join(src, "stdlib", "queries")
    if os.path.isdir(qdir):
        queries += sorted(f[:-3] for f in os.listdir(qdir) if f.endswith(".hq"))
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, "hostile.pcap")
        write_pcap(cap, frames)
        if a.keep:
            write_pcap(a.keep, frames)
        print(f"hostile.py: {len(frames)} frames, {len(queries)} queries")
        for q in queries:
            try:
                p = subprocess.run([hdrq, "-r", cap, "-o", "json", q], capture_output=True,
                                   text=True, errors="replace", timeout=a.timeout)
            except subprocess.TimeoutExpired:
                print(f"FAIL (hang > {a.timeout}s): {q}")
                fails += 1
                continue
            san = [ln for ln in p.stderr.splitlines() if any(s in ln for s in SANITIZER)]
            unsupported = p.returncode == 2 and "not supported yet" in p.stderr
            if p.returncode < 0 or san or (p.returncode != 0 and not unsupported):
                print(f"FAIL (exit {p.returncode}): {q}\n  " + "\n  ".join(p.stderr.splitlines()[-6:]))
                fails += 1
            else:
                note = " (not supported yet)" if unsupported else ""
                print(f"ok   {q}{note}: {len(p.stdout.splitlines())} output lines")
        if not a.no_tshark:
            diff = os.path.join(src, "tests", "diff", "difftest.py")
            budget = os.path.join(HERE, "hostile_budget.json")
            p = subprocess.run([sys.executable, diff, "--name", "hostile", "--budget", budget, cap],
                               capture_output=True, text=True, errors="replace", timeout=600)
            print(p.stdout[-3000:])
            if p.returncode != 0:
                print("FAIL: difftest.py disagrees with tshark on hostile frames\n" + p.stderr[-2000:])
                fails += 1
    print(f"hostile.py: {fails} failure(s)")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
