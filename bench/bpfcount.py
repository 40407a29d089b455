#!/usr/bin/python3
"""bpfcount.py — BPF instructions an XDP program runs per frame, counted by
interpreting the object file's own instructions (before the kernel's
verifier rewrites them): a measure of a program's work that, unlike ns per
run, does not move with the machine's load.

    bpfcount.py OBJ SECTION FRAME.bin...

prints "NAME COUNT" per frame (each frame runs twice and the second run is
counted, so that a group a frame creates exists, as it does in the timed
loop of bpfbench) and "total COUNT". Maps come from the object's BTF
(bpftool); hash maps are dictionaries, arrays are zero-filled values. The
helpers the programs here call are modelled: map lookup/update/delete,
ktime, the XDP frame length and load_bytes, ring buffer
reserve/submit/discard, bpf_loop. Calls into subprograms (.text) are followed.
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

M64 = (1 << 64) - 1
ARRAY_TYPES = (2, 6)  # BPF_MAP_TYPE_ARRAY, PERCPU_ARRAY
EEXIST, ENOENT = 17, 2


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def signed(x, bits):
    x &= (1 << bits) - 1
    return x - (1 << bits) if x >> (bits - 1) else x


class Obj:
    """sections, relocations, symbols and maps of one BPF object file"""

    def __init__(self, path):
        self.path = path
        self.tmp = tempfile.mkdtemp(prefix="bpfcount.")
        self.sizes = {}
        for line in run("llvm-objdump-19", "-h", path).splitlines():
            f = line.split()
            if len(f) >= 3 and f[0].isdigit() and re.fullmatch(r"[0-9a-f]+", f[2]):
                self.sizes[f[1]] = int(f[2], 16)
        self.syms = {}  # name -> (section, value)
        for line in run("llvm-objdump-19", "-t", path).splitlines():
            f = line.split()
            if len(f) >= 5 and re.fullmatch(r"[0-9a-f]{16}", f[0]):
                self.syms[f[-1]] = (f[-3], int(f[0], 16))
        self.relocs = {}  # section -> {insn index: symbol}
        cur = None
        for line in run("llvm-objdump-19", "-r", path).splitlines():
            m = re.match(r"RELOCATION RECORDS FOR \[(.*)\]", line)
            if m:
                cur = m.group(1)
                continue
            m = re.match(r"([0-9a-f]+) (\S+)\s+(\S+)", line)
            if m and cur:
                self.relocs.setdefault(cur, {})[int(m.group(1), 16) // 8] = m.group(3)
        self.maps = btf_maps(path)

    def section(self, name):
        out = os.path.join(self.tmp, "s.bin")
        if os.path.exists(out):
            os.remove(out)
        subprocess.run(["llvm-objcopy-19", "-O", "binary", f"--only-section={name}",
                        self.path, out], check=True)
        data = open(out, "rb").read() if os.path.exists(out) else b""
        return bytearray(data.ljust(self.sizes.get(name, 0), b"\0"))

    def code(self, name):
        raw = self.section(name)
        return [struct.unpack_from("<BBhi", raw, 8 * i) for i in range(len(raw) // 8)]


def btf_maps(path):
    """{name: {key, value, array, table}} from the object's BTF map definitions"""
    types = json.loads(run("bpftool", "-j", "btf", "dump", "file", path))["types"]
    by_id = {t["id"]: t for t in types}

    def size(tid):
        t = by_id[tid]
        while t["kind"] in ("TYPEDEF", "CONST", "VOLATILE"):
            t = by_id[t["type_id"]]
        if t["kind"] == "ARRAY":
            return t["nr_elems"] * size(t["type_id"])
        return t.get("size", 0)

    maps = {}
    for t in types:
        if t["kind"] != "VAR" or by_id[t["type_id"]]["kind"] != "STRUCT":
            continue
        d = {}
        for m in by_id[t["type_id"]]["members"]:
            if m["name"] in ("type", "max_entries", "key_size", "value_size"):  # __uint(x, N)
                d[m["name"]] = by_id[by_id[m["type_id"]]["type_id"]]["nr_elems"]
            elif m["name"] in ("key", "value"):  # __type(x, T)
                d[m["name"] + "_size"] = size(by_id[m["type_id"]]["type_id"])
        if "type" in d:
            maps[t["name"]] = {"key": d.get("key_size", 4), "value": d.get("value_size", 0),
                               "array": d["type"] in ARRAY_TYPES, "table": {}}
    return maps


class Memory:
    """flat address space of byte regions; map values and globals persist
    across runs, the packet, context and stacks are made per run"""

    def __init__(self):
        self.regions = []
        self.next = 0x100000

    def alloc(self, buf):
        base = self.next
        self.next += (len(buf) + 0x1fff) & ~0xfff
        self.regions.append((base, buf))
        return base

    def at(self, addr, n):
        for base, buf in self.regions:
            if base <= addr and addr + n <= base + len(buf):
                return buf, addr - base
        raise RuntimeError(f"access outside every region: {addr:#x} + {n}")

    def load(self, addr, n):
        buf, o = self.at(addr, n)
        return int.from_bytes(buf[o:o + n], "little")

    def store(self, addr, n, v):
        buf, o = self.at(addr, n)
        buf[o:o + n] = (v & ((1 << (8 * n)) - 1)).to_bytes(n, "little")

    def bytes(self, addr, n):
        buf, o = self.at(addr, n)
        return bytes(buf[o:o + n])


class Machine:
    def __init__(self, obj, section):
        self.obj = obj
        self.mem = Memory()
        self.code = {s: obj.code(s) for s in (section, ".text") if obj.sizes.get(s)}
        self.globals = {}
        for name in obj.sizes:
            if name.startswith((".data", ".rodata", ".bss")) and not name.startswith(".debug"):
                self.globals[name] = self.mem.alloc(obj.section(name))
        self.section = section

    def address(self, sec, pc, imm):
        """the value of a 64-bit immediate load with a relocation"""
        sym = self.obj.relocs[sec][pc]
        if sym in self.obj.maps:
            return ("map", sym)
        if sym in self.code:  # a callback's address (bpf_loop)
            return ("func", sym, (imm & 0xffffffff) // 8)
        if sym in self.globals:
            return self.globals[sym] + (imm & 0xffffffff)
        s, value = self.obj.syms[sym]
        return self.globals[s] + value + (imm & 0xffffffff)

    def frame_run(self, frame):
        mem = self.mem
        self.pkt = mem.alloc(bytearray(frame) + bytearray(64))
        self.pkt_end = self.pkt + len(frame)
        ctx = mem.alloc(bytearray(struct.pack("<IIIIII", self.pkt, self.pkt_end, self.pkt, 1, 0, 0)))
        regs = [0] * 11
        regs[1] = ctx
        regs[10] = mem.alloc(bytearray(512)) + 512
        self.count = 0
        return self.execute(self.section, 0, regs) & 0xffffffff

    def execute(self, sec, pc, R):
        code = self.code[sec]
        while True:
            op, rr, off, imm = code[pc]
            dst, src = rr & 15, rr >> 4
            self.count += 1
            cls = op & 7
            if op == 0x18:  # 64-bit immediate
                if pc in self.obj.relocs.get(sec, {}):
                    R[dst] = self.address(sec, pc, imm)
                else:
                    R[dst] = (imm & 0xffffffff) | ((code[pc + 1][3] & 0xffffffff) << 32)
                pc += 2
            elif cls in (4, 7):
                R[dst] = alu(op, R[dst], R[src] if op & 8 else imm, imm, cls == 7)
                pc += 1
            elif op == 0x95:
                return R[0]
            elif op == 0x85:
                pc = self.call(sec, pc, src, imm, R)
            elif cls in (5, 6):
                pc += 1 + (off if branch(op, R[dst], R[src] if op & 8 else imm, cls == 5) else 0)
            elif cls == 1:
                R[dst] = self.mem.load(R[src] + off, width(op))
                pc += 1
            elif cls == 3 and op & 0xe0 == 0xc0:  # atomic add (fetch)
                if imm & ~1:
                    raise RuntimeError(f"atomic op {imm:#x}")
                addr, n = R[dst] + off, width(op)
                old = self.mem.load(addr, n)
                self.mem.store(addr, n, old + R[src])
                if imm & 1:
                    R[src] = old
                pc += 1
            elif cls in (2, 3):
                self.mem.store(R[dst] + off, width(op), R[src] if cls == 3 else imm)
                pc += 1
            else:
                raise RuntimeError(f"opcode {op:#x} at {sec}:{pc}")

    def call(self, sec, pc, src, imm, R):
        if src == 1:  # a subprogram: own frame, r6-r9 kept
            if pc in self.obj.relocs.get(sec, {}):  # into another section, as libbpf
                tsec, value = self.obj.syms[self.obj.relocs[sec][pc]]
                tpc = value // 8 + imm + 1
            else:
                tsec, tpc = sec, pc + imm + 1
            R[0] = self.subprogram(tsec, tpc, R[:6])
        else:
            R[0] = self.helper(imm, R) & M64
        for i in range(1, 6):
            R[i] = None  # clobbered
        return pc + 1

    def subprogram(self, sec, pc, args):
        """run a subprogram with arguments r1-r5 on a stack of its own"""
        regs = args + [0] * (11 - len(args))
        regs[10] = self.mem.alloc(bytearray(512)) + 512
        return self.execute(sec, pc, regs)

    def helper(self, h, R):
        if h in (1, 2, 3):
            return self.map_op(h, R)
        if h == 5:  # ktime_get_ns
            return 1_000_000_000
        if h == 188:  # xdp_get_buff_len
            return self.pkt_end - self.pkt
        if h == 189:  # xdp_load_bytes(ctx, off, buf, len)
            if R[2] + R[4] > self.pkt_end - self.pkt:
                return -14
            src = self.mem.bytes(self.pkt + R[2], R[4])
            buf, o = self.mem.at(R[3], R[4])
            buf[o:o + R[4]] = src
            return 0
        if h == 181:  # bpf_loop(n, callback, ctx, flags)
            _, sec, pc = R[2]
            for i in range(R[1]):
                if self.subprogram(sec, pc, [None, i, R[3]]) & 0xffffffff == 1:
                    return i + 1
            return R[1]
        if h == 131:  # ringbuf_reserve
            return self.mem.alloc(bytearray(R[2]))
        if h in (132, 133, 8):  # ringbuf_submit/discard, smp_processor_id
            return 0
        raise RuntimeError(f"helper {h} is not modelled")

    def map_op(self, h, R):
        m = self.obj.maps[R[1][1]]
        key = self.mem.bytes(R[2], 4 if m["array"] else m["key"])
        table = m["table"]
        if h == 1:
            if key not in table and m["array"]:
                table[key] = self.mem.alloc(bytearray(m["value"]))
            return table.get(key, 0)
        if h == 2:
            if key in table and R[4] == 1:  # BPF_NOEXIST
                return -EEXIST
            value = bytearray(self.mem.bytes(R[3], m["value"]))
            if key in table:
                buf, o = self.mem.at(table[key], m["value"])
                buf[o:o + m["value"]] = value
            else:
                table[key] = self.mem.alloc(value)
            return 0
        return 0 if table.pop(key, None) else -ENOENT


def width(op):
    return {0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8}[op & 0x18]


def alu(op, a, b, imm, wide):
    code = op & 0xf0
    if code == 0xb0:  # mov: may carry a map reference
        return b if isinstance(b, tuple) else b & (M64 if wide else 0xffffffff)
    bits = 64 if wide else 32
    mask = (1 << bits) - 1
    a &= mask
    b &= mask
    if code == 0xd0:  # byte swap (to big endian) or truncation
        if op & 8:
            return int.from_bytes((a & ((1 << imm) - 1)).to_bytes(imm // 8, "little"), "big")
        return a & ((1 << imm) - 1)
    shift = b & (bits - 1)
    r = {0x00: lambda: a + b, 0x10: lambda: a - b, 0x20: lambda: a * b,
         0x30: lambda: a // b if b else 0, 0x40: lambda: a | b, 0x50: lambda: a & b,
         0x60: lambda: a << shift, 0x70: lambda: a >> shift, 0x80: lambda: -a,
         0x90: lambda: a % b if b else a, 0xa0: lambda: a ^ b,
         0xc0: lambda: signed(a, bits) >> shift}[code]()
    return r & mask


def branch(op, a, b, wide):
    code = op & 0xf0
    if code == 0x00:
        return True
    bits = 64 if wide else 32
    a &= (1 << bits) - 1
    b &= (1 << bits) - 1
    sa, sb = signed(a, bits), signed(b, bits)
    return {0x10: a == b, 0x20: a > b, 0x30: a >= b, 0x40: a & b != 0, 0x50: a != b,
            0x60: sa > sb, 0x70: sa >= sb, 0xa0: a < b, 0xb0: a <= b, 0xc0: sa < sb,
            0xd0: sa <= sb}[code]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    machine = Machine(Obj(sys.argv[1]), sys.argv[2])
    total = 0
    for path in sys.argv[3:]:
        frame = open(path, "rb").read()
        machine.frame_run(frame)
        machine.frame_run(frame)
        total += machine.count
        print(os.path.basename(path).rsplit(".", 1)[0], machine.count)
    print("total", total)


if __name__ == "__main__":
    main()
