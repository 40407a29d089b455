#!/usr/bin/python3
"""gen_queries.py — grammar-based random VALID queries, each compiled and
loaded through the kernel verifier (`hdrq --check`). Owned by tests/lang.

The grammar is SPEC §1's pipeline over the real field list (`hdrq -l` and
the bit widths in stdlib/proto/*.hdr): layers, predicates (comparisons,
`in` with sets / ranges / CIDR prefixes, and/or/not, `&` masks, named
constants, layer predicates, Wireshark names and bare names), `log`,
`group by` with every aggregate, `having`, `top`, `limit`, `every`, and
scripts with `let`. Seeded and reproducible: the same fixed seed
on every run unless `--seed S` (or HQ_GEN_SEED) picks another, `random`
draws a fresh one; the seed is printed, so a fresh draw that fails can be
rerun. CI runs the fixed seed: a landing fails for what it changed, not for
a new draw that finds an older bug.

Queries are checked in small scripts (several queries share one program)
by 2 workers; a failing script is re-checked query by query to
name the culprit.

Failures are never skipped: a program the verifier rejects is a compiler
bug, a "not supported yet" is a gap in the code generator, and a compile
error is a bug of this generator; each is listed and the test fails.
Usage: gen_queries.py [--seed S|random] [-n N] [--batch K] [--jobs J] [--print]
"""
import argparse
import os
import random
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import langlib as L  # noqa: E402

LAYERS = ["eth", "vlan", "arp", "ip", "ip6", "inet", "tcp", "udp", "icmp", "icmp6",
          "dns", "http", "any"]
# fields that make sense in a query on LAYER (others are legal, always absent)
NEAR = {
    "eth": "pkt eth", "vlan": "pkt eth vlan", "arp": "pkt eth vlan arp",
    "ip": "pkt eth vlan ip inet", "ip6": "pkt eth ip6 inet",
    "inet": "pkt eth ip ip6 inet", "tcp": "pkt ip ip6 inet tcp",
    "udp": "pkt ip ip6 inet udp", "icmp": "pkt ip inet icmp", "icmp6": "pkt ip6 inet icmp6",
    "dns": "pkt ip inet udp dns", "http": "pkt ip inet tcp http",
    "any": "pkt eth vlan arp ip ip6 inet tcp udp icmp icmp6 dns http",
}
# named constants of stdlib/constants.tbl, by field
CONSTS = {
    "eth.type": ["ipv4", "arp", "ipv6", "vlan", "qinq", "ip", "ip6"],
    "vlan.type": ["ipv4", "ipv6", "arp"],
    "ip.proto": ["tcp", "udp", "icmp", "gre", "esp", "ah", "sctp"],
    "ip6.proto": ["tcp", "udp", "icmp6", "sctp"], "ip6.next": ["tcp", "udp", "hopopt", "ipv6_frag"],
    "inet.proto": ["tcp", "udp", "icmp", "icmp6"],
    "icmp.type": ["echo_request", "echo_reply", "dest_unreach", "time_exceeded"],
    "icmp6.type": ["echo_request", "echo_reply", "neighbor_solicit", "router_advert"],
    "tcp.flags": ["syn", "ack", "rst", "fin", "psh"],
    "arp.op": ["request", "reply"], "dns.qtype": ["a", "AAAA", "ptr", "mx"],
    "dns.rcode": ["noerror", "nxdomain"],
}
STRINGS = os.environ.get("HQ_GEN_STRINGS", "1") == "1"  # string predicates (codegen c0761be)
WORDS = ["GET", "POST", "HTTP/1.1", "example.com", "www", "/index.html", "a", ".org"]


class Gen:
    def __init__(self, rng, fields):
        self.r = rng
        self.f = fields

    def pick(self, xs):
        return self.r.choice(xs)

    def chance(self, p):
        return self.r.random() < p

    def fields_for(self, layer, types=None):
        near = NEAR[layer].split()
        pool = [k for k, v in self.f.items()
                if (v["layer"] in near or self.chance(0.02)) and (types is None or v["type"] in types)]
        return pool or [k for k, v in self.f.items() if types is None or v["type"] in types]

    def name(self, full, layer):
        """Write a field by its full, Wireshark or (own layer) bare name."""
        v = self.f[full]
        if v["ws"] and self.chance(0.2):
            return self.pick(v["ws"])
        if v["layer"] == layer and self.chance(0.3):
            return v["name"]
        return full

    def num(self, full, lo=0):
        mx = self.f[full]["max"]
        mx = 255 if mx is None or mx > 1 << 32 else mx
        return self.r.randint(lo, mx) if lo <= mx else mx

    def ip4(self):
        return "%d.%d.%d.%d" % tuple(self.r.randint(0, 255) for _ in range(4))

    def ip6(self):
        return "2001:db8:%x::%x" % (self.r.randint(0, 0xffff), self.r.randint(1, 0xffff))

    def cidr(self, typ):
        if typ == "ip6" or (typ == "inet" and self.chance(0.5)):
            return "2001:db8::/%d" % self.pick([32, 48, 64])
        return self.pick(["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12", "192.0.2.0/24",
                          "198.51.100.128/25", "0.0.0.0/0", "192.0.2.1/32"])

    def mac(self):
        return ":".join("%02x" % self.r.randint(0, 255) for _ in range(6))

    def uint_set(self, full):
        items = []
        for _ in range(self.r.randint(1, 4)):
            if self.chance(0.3):
                a = self.num(full)
                items.append("%d..%d" % (a, self.num(full, a)))
            elif full in CONSTS and self.chance(0.3):
                items.append(self.pick(CONSTS[full]))
            else:
                items.append(str(self.num(full)))
        return "{%s}" % ", ".join(items)

    def cmp_uint(self, full, n):
        c = self.r.random()
        if full in CONSTS and c < 0.2:
            return "%s %s %s" % (n, self.pick(["==", "!="]), self.pick(CONSTS[full]))
        if c < 0.35:
            return "%s %s %s" % (n, self.pick(["in", "not in"]), self.uint_set(full))
        if c < 0.45:
            a = self.num(full)
            return "%s in %d..%d" % (n, a, self.num(full, a))
        if c < 0.55:
            mask = self.pick(CONSTS[full]) if full in CONSTS and full == "tcp.flags" else str(max(1, self.num(full)))
            return self.pick(["%s & %s" % (n, mask), "(%s & %s) != 0" % (n, mask),
                              "%s & %s == %s" % (n, mask, mask)])
        return "%s %s %d" % (n, self.pick(["==", "!=", "<", "<=", ">", ">="]), self.num(full))

    def atom(self, layer):
        types = ["uint", "bool", "ip4", "ip6", "inet", "mac"] + (["str"] if STRINGS else [])
        full = self.pick(self.fields_for(layer, types))
        t, n = self.f[full]["type"], self.name(full, layer)
        if t == "str":
            w = [x for x in WORDS if len(x) <= 16]
            op = self.pick(["==", "!=", "contains", "startswith", "in"])
            if op == "in":
                return "%s in {%s}" % (n, ", ".join('"%s"' % x for x in self.r.sample(w, 2)))
            return '%s %s "%s"' % (n, op, self.pick(w))
        if t == "bool":
            return self.pick([n, "%s == %d" % (n, self.r.randint(0, 1)), "not %s" % n])
        if t == "uint":
            return self.cmp_uint(full, n)
        if t == "mac":
            return "%s %s %s" % (n, self.pick(["==", "!="]), self.mac())
        if self.chance(0.4):
            return "%s %s %s" % (n, self.pick(["in", "not in"]), self.cidr(t))
        lits = [self.ip4() if t == "ip4" or (t == "inet" and self.chance(0.5)) else self.ip6()
                for _ in range(self.r.randint(1, 3))]
        if self.chance(0.5):
            return "%s %s %s" % (n, self.pick(["==", "!="]), lits[0])
        return "%s in {%s, %s}" % (n, ", ".join(lits), self.cidr(t))

    def pred(self, layer, depth=0):
        c = self.r.random()
        if depth < 2 and c < 0.35:
            return "%s %s %s" % (self.pred(layer, depth + 1), self.pick(["and", "or"]),
                                 self.pred(layer, depth + 1))
        if depth < 2 and c < 0.45:
            return "not (%s)" % self.pred(layer, depth + 1)
        if depth < 2 and c < 0.52:
            return "(%s)" % self.pred(layer, depth + 1)
        if c < 0.57:
            return self.pick([l for l in LAYERS if l not in ("any",)])
        return self.atom(layer)

    def agg(self, layer):
        k = self.pick(["count", "sum", "avg", "min", "max", "hist", "lhist", "distinct"])
        if k == "count":
            return "count()"
        if k == "distinct":
            full = self.pick(self.fields_for(layer, ["uint", "bool", "ip4", "ip6", "inet", "mac"]))
            return "distinct(%s)" % self.name(full, layer)
        full = self.pick(self.fields_for(layer, ["uint"]))
        n = self.name(full, layer)
        if k == "lhist":
            step = self.pick([1, 10, 100])
            return "lhist(%s, 0, %d, %d)" % (n, step * self.r.randint(1, 20), step)
        return "%s(%s)" % (k, n)

    def key(self, layer):
        full = self.pick(self.fields_for(layer))
        n = self.name(full, layer)
        if self.f[full]["type"] == "uint" and self.chance(0.1):
            return "%s & %d" % (n, max(1, self.num(full)))
        return n

    def group(self, layer):
        keys = list(dict.fromkeys(self.key(layer) for _ in range(self.r.randint(1, 3))))
        s = " group by " + ", ".join(keys)
        aggs = []
        if self.chance(0.7):
            aggs = list(dict.fromkeys(self.agg(layer) for _ in range(self.r.randint(1, 3))))
            s += " select " + ", ".join(aggs)
        if self.chance(0.3):
            a = self.pick(aggs) if aggs and not aggs[0].startswith(("hist", "lhist")) and self.chance(0.6) else "count()"
            if a.startswith(("hist", "lhist")):
                a = "count()"
            s += " having %s %s %d" % (a, self.pick([">", ">=", "<", "==", "!="]), self.r.randint(0, 100))
            if self.chance(0.3):
                s += " and count() > %d" % self.r.randint(0, 10)
        if self.chance(0.3):
            s += " every %s" % self.pick(["1s", "500ms", "2s", "1m"])
        if self.chance(0.3):
            s += " top %d" % self.r.randint(1, 50)
        return s

    def log(self, layer):
        if self.chance(0.1):
            s = " log *"
        else:
            fs = list(dict.fromkeys(self.name(self.pick(self.fields_for(layer)), layer)
                                    for _ in range(self.r.randint(1, 4))))
            s = " log " + ", ".join(fs)
        if self.chance(0.3):
            s += " limit %d" % self.r.randint(1, 1000)
        return s

    def query(self):
        layer = self.pick(LAYERS)
        s = ""
        if self.chance(0.05):
            s = "on lo %s " % self.pick(["ingress", "egress"])
        s += layer
        if self.chance(0.8):
            s += " where " + self.pred(layer)
        c = self.r.random()
        if c < 0.5:
            s += self.group(layer)
        elif c < 0.8:
            s += self.log(layer)
        elif self.chance(0.3):
            s += " every 1s"
        return s

    def script(self, k):
        """k queries, sometimes with a `let` used by the first one."""
        qs = [self.query() for _ in range(k)]
        if self.chance(0.3):
            layer = qs[0].split()[0]
            if layer in NEAR and " where " in qs[0]:
                let = "let p%d = %s" % (self.r.randint(0, 99), self.pred(layer))
                name = let.split()[1]
                head, tail = qs[0].split(" where ", 1)
                qs[0] = "%s where %s and (%s" % (head, name, tail)
                # close the paren before the first clause keyword
                for kw in (" group by", " log", " every", " top", " limit"):
                    if kw in qs[0]:
                        i = qs[0].index(kw)
                        qs[0] = qs[0][:i] + ")" + qs[0][i:]
                        break
                else:
                    qs[0] += ")"
                qs.insert(0, let)
        return qs


def check_script(lines):
    with tempfile.NamedTemporaryFile("w", suffix=".hq", delete=False) as f:
        f.write("# generated\n" + "\n".join(lines) + "\n")
        path = f.name
    try:
        return L.check(script=path)
    finally:
        os.unlink(path)


def classify(rc, out):
    if rc == 0:
        return "ok"
    if "not supported yet" in out:
        return "unsupported"
    if rc == 2:
        return "invalid"
    return "rejected"


def check_batch(lines):
    """[(kind, text, message)] for a failing script (query by query)."""
    rc, out = check_script(lines)
    if rc == 0:
        return []
    lets = [x for x in lines if x.startswith("let ")]
    bad = []
    for q in lines:
        if q.startswith("let "):
            continue
        rc1, out1 = check_script(lets + [q])
        if rc1:
            bad.append((classify(rc1, out1), "\n".join(lets + [q]), out1.strip()))
    if not bad:  # each passes alone, the shared program does not
        bad.append((classify(rc, out), "\n".join(lines), out.strip()))
    return bad


FIXED_SEED = 20261129


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", default=os.environ.get("HQ_GEN_SEED", str(FIXED_SEED)),
                    help="a number, or `random` for a fresh draw (default %d)" % FIXED_SEED)
    ap.add_argument("-n", type=int, default=int(os.environ.get("HQ_GEN_N", "1000")))
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--print", action="store_true", help="print the queries, check nothing")
    a = ap.parse_args()
    seed = random.SystemRandom().randint(1, 2**31) if a.seed == "random" else int(a.seed)
    print("gen_queries: seed %d (rerun: %s --seed %d -n %d)" % (seed, sys.argv[0], seed, a.n))
    g = Gen(random.Random(seed), L.fields())
    batches, n = [], 0
    while n < a.n:
        b = g.script(min(a.batch, a.n - n))
        n += sum(1 for x in b if not x.startswith("let "))
        batches.append(b)
    if a.print:
        for b in batches:
            print("\n".join(b))
        return 0
    L.need_root()
    with ThreadPoolExecutor(a.jobs) as ex:
        results = list(ex.map(check_batch, batches))
    bad = [x for r in results for x in r]
    kinds = {}
    for kind, text, msg in bad:
        kinds.setdefault(kind, []).append((text, msg))
    print("gen_queries: %d queries in %d scripts, %d failed" % (n, len(batches), len(bad)))
    for kind, items in sorted(kinds.items()):
        print("\n== %s: %d" % (kind, len(items)))
        for text, msg in items[:15]:
            print("--- query:\n%s\n--- hdrq says:\n%s" % (text, "\n".join(msg.splitlines()[-12:])))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
