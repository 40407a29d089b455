#!/usr/bin/python3
"""check_all.py — every SPEC §1 example, every stdlib saved query and every
examples/*.hq script passes the kernel verifier (`hdrq --check`). Owned by
tests/lang. Any failure, "not supported yet" included, fails the test."""
import os
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import langlib as L  # noqa: E402


def one(item):
    kind, what = item
    rc, out = L.check(query=what) if kind == "spec" else L.check(script=what)
    return kind, what, rc, out


def main():
    L.need_root()
    items = [("spec", q) for q in L.spec_examples()]
    items += [("stdlib", p) for p in L.stdlib_queries()]
    items += [("example", p) for p in L.examples()]
    with ThreadPoolExecutor(2) as ex:
        res = list(ex.map(one, items))
    bad = 0
    for kind, what, rc, out in res:
        print("%-4s %-7s %s" % ("ok" if rc == 0 else "FAIL", kind, what))
        if rc:
            bad += 1
            print("    " + "\n    ".join(out.strip().splitlines()[-15:]))
    counts = {k: sum(1 for i in items if i[0] == k) for k in ("spec", "stdlib", "example")}
    print("check_all: %d spec examples, %d stdlib queries, %d examples; %d failed"
          % (counts["spec"], counts["stdlib"], counts["example"], bad))
    return 1 if bad or counts["spec"] < 15 or counts["stdlib"] < 11 else 0


if __name__ == "__main__":
    sys.exit(main())
