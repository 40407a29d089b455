#!/usr/bin/env python3
"""check_csv.py — the CSV streams of test_output must parse with Python's csv
module (strict UTF-8, RFC 4180 quoting) and carry the values given.

usage: check_csv.py TEST_OUTPUT_BINARY
"""
import csv
import io
import subprocess
import sys


def rows(binary, mode):
    raw = subprocess.run([binary, "--emit", mode], check=True, stdout=subprocess.PIPE).stdout
    text = raw.decode("utf-8")  # strict: the output must be valid UTF-8
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


def expect(cond, what):
    if not cond:
        print(f"check_csv: {what}", file=sys.stderr)
        sys.exit(1)


def check_log(binary):
    r = rows(binary, "csv-log")
    header = r[0]
    expect(header[:3] == ["ts", "query", "ip.src"], f"log header {header}")
    expect(len(r) == 4, f"log: 4 rows expected, got {len(r)}")
    for row in r[1:]:
        expect(len(row) == len(header), f"log row width {row}")
    rec = [dict(zip(header, row)) for row in r[1:]]
    expect(rec[0]["http.path"] == '/a b"c,d\ne\u00ff\u00e9', f"nasty path {rec[0]['http.path']!r}")
    expect(rec[1]["http.path"] == '"quoted"\r\nline,2', f"quoted path {rec[1]['http.path']!r}")
    expect(rec[2]["http.path"] == "", "absent path must be empty")
    expect(rec[0]["ip6.src"] == "", "absent ip6.src must be empty")
    expect(rec[0]["ts"] == "2026-11-29T07:53:00.123456789Z", f"ts {rec[0]['ts']}")
    expect(rec[0]["tcp.flags"] == "18" and rec[0]["ip.df"] == "1", "flags/bool as numbers")


def check_group(binary):
    r = rows(binary, "csv-group")
    expect(r[0] == ["ts", "query", "inet.ttl", "avg(ip.len)", "hist(ip.len)"], f"group header {r[0]}")
    expect(len(r) == 4, f"group: 4 rows expected, got {len(r)}")
    expect(r[1][2:] == ["64", "2.5", "0-0:1;2-3:4"], f"group row {r[1]}")
    expect(r[2][2:] == ["", "", "0-0:1;2-3:4"], f"absent key/avg {r[2]}")
    expect(r[3][0] == "2026-11-29T07:53:01.123456789Z", f"second interval {r[3]}")


def main():
    check_log(sys.argv[1])
    check_group(sys.argv[1])
    print("check_csv: ok")


if __name__ == "__main__":
    main()
