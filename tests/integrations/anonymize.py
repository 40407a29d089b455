"""anonymize.py — `--anonymize KEYFILE` end to end over a crafted capture.

2,000 IPv4 and 1,000 IPv6 packets with addresses drawn from a few shared
prefixes (so prefixes matter) run offline through a script that logs the
addresses, groups by them, and writes the matching packets with -w, in text
and JSON, with --metrics serving labels too. Checks:
  - no original address appears in stdout, in the /metrics exposition, or
    in any packet of the -w capture (read back with scapy);
  - every address printed is the Crypto-PAn image that test_anon computes
    with the same key (hex key file), so log fields, group keys, labels and
    packets agree;
  - two originals sharing exactly n leading bits have images sharing exactly
    n bits (checked over all printed pairs of a sample);
  - the IPv4 header checksums of the written packets are valid.
"""

import ipaddress
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import hqnet  # noqa: E402

N4, N6 = 2000, 1000
SCRIPT = """ip log ip.src, ip.dst as v4
ip6 log ip6.src, ip6.dst as v6
inet group by inet.src select count() as by_src
"""


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def addresses():
    rnd = random.Random(7)
    p4 = [0xC0000200, 0xC6336400, 0x0A000000, 0x0A010000]  # 192.0.2/24, 198.51.100/24, 10/16, 10.1/16
    p6 = [0x20010DB8 << 96, (0x20010DB8 << 96) | (1 << 80), 0xFD00 << 112]
    v4 = sorted({str(ipaddress.IPv4Address(rnd.choice(p4) | rnd.getrandbits(12)))
                 for _ in range(N4)})
    v6 = sorted({str(ipaddress.IPv6Address(rnd.choice(p6) | rnd.getrandbits(40)))
                 for _ in range(N6)})
    return v4, v6


def write_capture(path, v4, v6):
    code = r"""
import logging, sys, json
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, IPv6, UDP, TCP, wrpcap
v4, v6 = json.load(open(sys.argv[2]))
pk = []
E = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")  # no ARP lookups
for i, a in enumerate(v4):
    b = v4[(i * 7 + 3) % len(v4)]
    pk.append(E/IP(src=a, dst=b)/(UDP(sport=i % 60000 + 1, dport=53) if i % 2 else TCP(dport=80)))
for i, a in enumerate(v6):
    b = v6[(i * 5 + 1) % len(v6)]
    pk.append(E/IPv6(src=a, dst=b)/UDP(sport=1000, dport=53))
for n, p in enumerate(pk):
    p.time = 1700000000 + n / 1000
wrpcap(sys.argv[1], pk)
"""
    import json
    lst = path + ".json"
    with open(lst, "w") as f:
        json.dump([v4, v6], f)
    subprocess.run([hqnet.PYTHON, "-c", code, path, lst], check=True)


def anon_map(tool, key, addrs):
    r = subprocess.run([tool, "map", key], input="\n".join(addrs) + "\n", text=True,
                       capture_output=True, check=True)
    return dict(zip(addrs, r.stdout.split()))


def common_bits(a, b):
    x, y = int(ipaddress.ip_address(a)), int(ipaddress.ip_address(b))
    n = 32 if ipaddress.ip_address(a).version == 4 else 128
    d = x ^ y
    return n - d.bit_length()


TOKEN = re.compile(r"[0-9A-Fa-f.:]+")


def printed(text):
    """Every address in text: tokens of hex digits, dots and colons, also
    with a :PORT cut off (192.0.2.1:53 in text log lines)."""
    out = set()
    for tok in TOKEN.findall(text):
        for cand in (tok.strip(":."), tok.rsplit(":", 1)[0]):
            try:
                out.add(str(ipaddress.ip_address(cand)))
                break
            except ValueError:
                pass
    return out


def read_pcap(path):
    code = r"""
import logging, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import rdpcap, IP, IPv6, raw
for p in rdpcap(sys.argv[1]):
    if IP in p:
        ip = p[IP]; ok = IP(raw(ip)).chksum
        ip2 = IP(raw(ip)); del ip2.chksum; good = IP(raw(ip2)).chksum == ok
        print(ip.src, ip.dst, "ok" if good else "bad")
    elif IPv6 in p:
        print(p[IPv6].src, p[IPv6].dst, "ok")
"""
    r = subprocess.run([hqnet.PYTHON, "-c", code, path], capture_output=True, text=True,
                       check=True)
    return [l.split() for l in r.stdout.splitlines()]


def main():
    hqnet.require_root()
    hdrq = hqnet.hdrq_bin()
    tool = os.environ.get("HQ_TEST_ANON")
    if not tool:
        fail("HQ_TEST_ANON (the test_anon binary) is not set")
    tmp = tempfile.mkdtemp(prefix="hq-anon-")
    try:
        key = os.path.join(tmp, "key.hex")
        # a fresh key each run; HQ_ANON_TEST_KEY (hex) runs one again
        key_hex = os.environ.get("HQ_ANON_TEST_KEY") or os.urandom(32).hex()
        print(f"key {key_hex}")
        with open(key, "w") as f:
            f.write(key_hex + "\n")
        script = os.path.join(tmp, "q.hq")
        with open(script, "w") as f:
            f.write(SCRIPT)
        cap = os.path.join(tmp, "in.pcap")
        v4, v6 = addresses()
        write_capture(cap, v4, v6)
        originals = set(v4) | set(v6)
        amap = anon_map(tool, key, sorted(originals))
        images = set(amap.values())
        # an original that is also another address's image may be printed
        # (about one key in 300 maps part of 10.0/16 onto itself)
        hidden = originals - images
        outs = {}
        for fmt in ("text", "json"):
            wout = os.path.join(tmp, f"out-{fmt}.pcap")
            err = open(os.path.join(tmp, f"{fmt}.err"), "w+")
            p = subprocess.Popen([hdrq, "-r", cap, "-o", fmt, "--anonymize", key, "-w", wout,
                                  "--metrics", "127.0.0.1:0", "--linger", "3", "-f", script],
                                 stdout=subprocess.PIPE, stderr=err, text=True)
            port = None
            for _ in range(100):
                err.seek(0)
                m = re.search(r":(\d+)/metrics", err.read())
                if m:
                    port = m.group(1)
                    break
                time.sleep(0.1)
            time.sleep(1.0)
            expo = subprocess.run(["curl", "-s", "--max-time", "5",
                                   f"http://127.0.0.1:{port}/metrics"],
                                  capture_output=True, text=True).stdout if port else ""
            out, _ = p.communicate(timeout=60)
            if p.returncode != 0:
                err.seek(0)
                fail(f"hdrq -o {fmt} exited {p.returncode}: {err.read()}")
            outs[fmt] = (out, expo, read_pcap(wout))
        for fmt, (out, expo, pk) in outs.items():
            if "by_src_count_total" not in expo:
                fail(f"-o {fmt}: no metrics scraped: {expo[:300]}")
            for where, text in (("stdout", out), ("/metrics", expo)):
                seen = printed(text)
                leaked = seen & hidden
                if leaked:
                    fail(f"-o {fmt} {where}: original addresses printed: {sorted(leaked)[:5]}")
                stray = seen - images
                if stray:
                    fail(f"-o {fmt} {where}: addresses that are no image: {sorted(stray)[:5]}")
            if len(pk) != len(v4) + len(v6):
                fail(f"-w wrote {len(pk)} packets, want {len(v4) + len(v6)}")
            for src, dst, ck in pk:
                if src in hidden or dst in hidden:
                    fail(f"-w capture holds an original address: {src} {dst}")
                if src not in images or dst not in images:
                    fail(f"-w capture: {src} {dst} are no images")
                if ck != "ok":
                    fail(f"-w capture: bad IPv4 header checksum on {src} > {dst}")
        rnd = random.Random(3)
        for fam in (v4, v6):
            for _ in range(3000):
                a, b = rnd.choice(fam), rnd.choice(fam)
                if common_bits(a, b) != common_bits(amap[a], amap[b]):
                    fail(f"{a} {b}: {common_bits(a, b)} shared bits, images "
                         f"{amap[a]} {amap[b]} share {common_bits(amap[a], amap[b])}")
        print(f"ok: {len(v4)} IPv4 + {len(v6)} IPv6 addresses, none printed or written; "
              f"images agree across formats, metrics and -w")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
