#!/usr/bin/python3
"""alone.py — every field asked for alone decodes as it does among all fields.

The differential tests compare `any log *`, where every field is read, with
tshark. A program compiled for fewer fields leaves out the parsing nobody
reads, and a field that depends on another one's parsing (the DNS
question's type lies after its name) could go missing there and nowhere
else. So, for each capture given and every field of `hdrq -l`:
`hdrq -r CAP -o json 'any log FIELD'` must give, packet by packet, the
value that one query logging every field by name gives (absent where it is
absent); by name, because `log *` leaves out the generic inet.* fields.

    alone.py CAPTURE...          (HDRQ: the binary; root: BPF_PROG_TEST_RUN)
"""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import hqnet  # noqa: E402


def field_names(hdrq):
    out = subprocess.run([hdrq, "-l"], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines()
            if line.startswith("  ") and "." in line.split()[0]]


def log_values(hdrq, cap, what):
    """one dict per packet: field -> value, for `any log WHAT`"""
    r = subprocess.run([hdrq, "-r", cap, "-o", "json", "any log " + what],
                       capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise RuntimeError(f"hdrq -r {cap} 'any log {what}': {r.stderr.strip()}")
    return [rec for rec in map(json.loads, r.stdout.splitlines()) if rec.get("type") == "log"]


def compare(hdrq, cap, field, every):
    """disagreements of FIELD alone against all fields logged (every)"""
    alone = log_values(hdrq, cap, field)
    if len(alone) != len(every):
        return [f"{field}: {len(alone)} records alone, {len(every)} with all fields"]
    bad = []
    for n, (a, e) in enumerate(zip(alone, every), 1):
        if a.get(field) != e.get(field):
            bad.append(f"{field}: packet {n}: alone {a.get(field)!r}, with all {e.get(field)!r}")
    return bad


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if os.geteuid() != 0:
        print("SKIP: hdrq -r runs BPF programs (BPF_PROG_TEST_RUN): needs root")
        return hqnet.SKIP
    hdrq = hqnet.hdrq_bin()
    fields = field_names(hdrq)
    failed = 0
    for cap in sys.argv[1:]:
        every = log_values(hdrq, cap, ", ".join(fields))
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda f: (f, compare(hdrq, cap, f, every)), fields))
        present = sum(1 for f in fields if any(f in rec for rec in every))
        bad = [line for _, lines in results for line in lines]
        bad_fields = sorted({f for f, lines in results if lines})
        print(f"{os.path.basename(cap)}: {len(fields)} fields alone over {len(every)} packets "
              f"({present} of them present somewhere): "
              f"{len(bad_fields)} differ from all fields logged{': ' + ', '.join(bad_fields) if bad_fields else ''}")
        for line in bad[:20]:
            print("  " + line)
        failed += len(bad_fields)
    print("FAIL" if failed else "ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
