#!/usr/bin/env python3
"""check_ws_names.py — every Wireshark name in stdlib/proto exists in tshark.

Usage: check_ws_names.py TEST_PROTO WS_FIELDS_TSV

Loads the stdlib through the real loader (`TEST_PROTO dump`, which reads
$HDRQ_STDLIB) and checks against `tshark -G fields`:
  - every field's `ws` name is a tshark field (or protocol item, for the
    presence booleans tcp.options.sack_perm / tcp.options.sack) whose tshark
    type fits the hdrq type (uint -> FT_UINT*, ip4 -> FT_IPv4, ...);
  - every layer's `ws` name is a tshark protocol;
  - tests/proto/ws_fields.tsv has exactly one row per stdlib field, names
    only existing tshark fields, and compares a field that has ws names with
    its first one.
Exits 77 (ctest SKIP) when tshark is not installed.
"""
import shutil
import subprocess
import sys

FT_FOR = {
    "uint": ("FT_UINT8", "FT_UINT16", "FT_UINT24", "FT_UINT32", "FT_UINT64", "FT_FRAMENUM"),
    "bool": ("FT_BOOLEAN", "FT_PROTOCOL", "FT_NONE"),
    "ip4": ("FT_IPv4",),
    "ip6": ("FT_IPv6",),
    "mac": ("FT_ETHER",),
    "str": ("FT_STRING", "FT_STRINGZ"),
}


def tshark_names():
    out = subprocess.run(["tshark", "-G", "fields"], capture_output=True, text=True,
                         check=True).stdout
    fields, protos = {}, set()
    for line in out.splitlines():
        cols = line.split("\t")
        if cols[0] == "F" and len(cols) > 3:
            fields[cols[2]] = cols[3]
        elif cols[0] == "P" and len(cols) > 2:
            protos.add(cols[2])
            fields.setdefault(cols[2], "FT_PROTOCOL")
    return fields, protos


def stdlib(test_proto):
    out = subprocess.run([test_proto, "dump"], capture_output=True, text=True, check=True).stdout
    layers, fields = [], {}
    for line in out.splitlines():
        c = line.split("\t")
        if c[0] == "L":
            layers.append((c[1], c[2]))
        elif c[0] == "F":
            fields[c[1]] = {"type": c[2], "ws": [] if c[13] == "-" else c[13].split(",")}
    return layers, fields


def read_tsv(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or line.startswith("hdrq_field\t") or not line.strip():
                continue
            rows.append(line.rstrip("\n").split("\t"))
    return rows


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    if not shutil.which("tshark"):
        print("SKIP: tshark is not installed; Wireshark names cannot be checked")
        sys.exit(77)
    ts_fields, ts_protos = tshark_names()
    layers, fields = stdlib(sys.argv[1])
    errors = []
    for name, ws in layers:
        if ws != "-" and ws not in ts_protos:
            errors.append(f"layer {name}: ws {ws} is not a tshark protocol")
    for full, f in fields.items():
        for w in f["ws"]:
            ft = ts_fields.get(w)
            if ft is None:
                errors.append(f"{full}: ws {w} is not a tshark field")
            elif ft not in FT_FOR.get(f["type"], ()):
                errors.append(f"{full}: ws {w} is {ft}, which does not fit hdrq type {f['type']}")
    rows = read_tsv(sys.argv[2])
    seen = set()
    for r in rows:
        if len(r) != 7:
            errors.append(f"ws_fields.tsv: {r[0]}: {len(r)} columns, want 7")
            continue
        field, tshark = r[0], r[1]
        if field in seen:
            errors.append(f"ws_fields.tsv: {field} listed twice")
        seen.add(field)
        if field not in fields:
            errors.append(f"ws_fields.tsv: {field} is not a stdlib field")
            continue
        names = [] if tshark == "-" else [n.partition("@")[0] for n in tshark.split(",")]
        for n in names:
            if n not in ts_fields:
                errors.append(f"ws_fields.tsv: {field}: {n} is not a tshark field")
        ws = fields[field]["ws"]
        if ws and ws[0] not in names:
            errors.append(f"ws_fields.tsv: {field} should compare with its ws name {ws[0]}")
    for full in fields:
        if full not in seen:
            errors.append(f"ws_fields.tsv: no row for {full}")
    for e in errors:
        print(e)
    n_ws = sum(len(f["ws"]) for f in fields.values())
    print(f"{len(fields)} fields, {n_ws} Wireshark names, {len(rows)} tsv rows: "
          f"{len(errors)} problem(s)")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
