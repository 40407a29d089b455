#!/usr/bin/python3
"""selftest.py — checks the differential harness itself, without hdrq.

Acts as a stand-in for `hdrq -r FILE -o json 'any log *'`: it decodes the
capture with tshark and writes, for each frame, the record a perfect hdrq
would write — in hdrq's forms, deliberately unlike tshark's (decimal where
tshark prints 0x-hex, true/false for booleans, fully expanded IPv6
addresses, upper-case MACs, nanosecond timestamps, ihl in words, strings
cut at hdrq's size). Fields the mapping's filter leaves out are written
too (the harness must not judge them). difftest.py must then report 100% agreement: this proves
that every conversion in tests/proto/ws_fields.tsv undoes tshark's form,
and that the tshark names in it exist.

    selftest.py CAPTURE...   (runs difftest.py with itself as $HDRQ)
"""
import ipaddress
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import difftest  # noqa: E402


def fake(path, mpath):
    maps, _, _ = difftest.load_mapping(mpath)
    fields = sorted({fl for m in maps.values() for fl in m.fields + m.filt_fields})
    for num, f in sorted(difftest.run_tshark(path, fields).items()):
        rec = {"pkt.num": num}
        for hq, m in maps.items():
            v, fl = difftest.tshark_value(m, f)
            if v is difftest.ABSENT:
                continue
            k = m.kind
            try:
                if k == "present":
                    rec[hq] = True
                elif k in ("ip4", "ip6"):
                    rec[hq] = ipaddress.ip_address(v).exploded
                elif k == "mac":
                    rec[hq] = v.upper()
                elif k == "str":
                    t = v if m.fields[0] == "dns.qry.name" else difftest.unescape_tshark(v)
                    if m.fields[0] == "dns.qry.name" and t == "<Root>":
                        t = ""
                    if m.max_len:
                        t = t.encode("utf-8", "surrogateescape")[:m.max_len - 1].decode(
                            "utf-8", "surrogateescape")
                    rec[hq] = t
                elif k == "ns_epoch":
                    rec[hq] = difftest.epoch_ns(v)
                elif k == "bool":
                    rec[hq] = bool(difftest.to_int(v))
                elif k == "num_div":
                    rec[hq] = difftest.to_int(v) // int(m.arg)
                elif k == "expr":
                    rec[hq] = int(eval(m.arg, {"__builtins__": {}}, {"v": difftest.to_int(v)}))
                elif k in ("first_of", "last_of"):
                    g = difftest.generic(v)
                    rec[hq] = ipaddress.ip_address(g).exploded if isinstance(g, str) and ":" in g and "/" not in g and not g.startswith("HTTP") else g
                else:
                    rec[hq] = difftest.to_int(v)
            except ValueError:
                rec[hq] = v  # let the harness report it
        print(json.dumps(rec))


def main():
    if "-r" in sys.argv:  # called by difftest.py as $HDRQ
        fake(sys.argv[sys.argv.index("-r") + 1], os.environ["HQ_SELFTEST_MAPPING"])
        return 0
    src = os.environ.get("HQ_SRC", os.path.join(HERE, "..", ".."))
    mpath = os.environ.get("HQ_SELFTEST_MAPPING") or os.path.join(src, "tests", "proto", "ws_fields.tsv")
    if not os.path.exists(mpath):
        print(f"FAIL: no field mapping at {mpath}")
        return 1
    env = dict(os.environ, HDRQ=os.path.abspath(__file__), HQ_SELFTEST_MAPPING=mpath,
               HQ_DIFF_NOROOT="1")
    return subprocess.run([sys.executable, os.path.join(HERE, "difftest.py"), "--name",
                           "harness-selftest", "--mapping", mpath] + sys.argv[1:], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
