"""hqnet.py — shared helpers for hdrq's live and differential tests.

NetnsPair is the Python twin of tests/lib/netns.sh: two namespaces joined by
a veth pair,

    namespace  A (hqt<pid>a)        B (hqt<pid>b)
    interface  hqa0                 hqb0
    IPv4       192.0.2.1/24         192.0.2.2/24
    IPv6       2001:db8::1/64       2001:db8::2/64

always deleted on exit (context manager + atexit + SIGTERM/SIGINT handlers),
and stale ones from killed runs (PID gone) reaped on start. Only these
documentation prefixes and 198.51.100.0/24 are ever used, and traffic stays
between the two namespaces.

Also: running hdrq, waiting until it has attached, checking that nothing is
left attached, parsing its JSON lines; UDP datagrams from one end that a
receiver on the other takes (udp_exchange: when it returns, every hook on
the way has seen them); the BPF programs, maps and links a process holds
(held_bpf, from /proc/PID/fdinfo: exact while other hdrq runs load
programs of the same names) and whether they are gone (bpf_gone).
"""

import ast
import atexit
import collections
import ctypes
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time

IP4_A, IP4_B = "192.0.2.1", "192.0.2.2"
IP6_A, IP6_B = "2001:db8::1", "2001:db8::2"
IF_A, IF_B = "hqa0", "hqb0"

# Exit code that ctest maps to "skipped" (SKIP_RETURN_CODE in CMakeLists).
SKIP = 77

PYTHON = "/usr/bin/python3"  # Debian's, where python3-scapy lives


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def require_root():
    if os.geteuid() != 0:
        print("SKIP: live tests need root (network namespaces, BPF)")
        sys.exit(SKIP)


def hdrq_bin():
    b = os.environ.get("HDRQ")
    if not b or not os.access(b, os.X_OK):
        print(f"FAIL: $HDRQ is not an executable: {b!r}")
        sys.exit(1)
    return b


def sh(cmd, check=True, **kw):
    """Run a command (list), return CompletedProcess with text output."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> {r.returncode}: {r.stderr.strip()}")
    return r


_live_pairs = []


def _cleanup_all():
    for p in list(_live_pairs):
        p.down()


def _on_signal(sig, frame):
    _cleanup_all()
    sys.exit(128 + sig)


atexit.register(_cleanup_all)
for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_s, _on_signal)


def reap_stale():
    r = sh(["ip", "netns", "list"], check=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(r"hqt(\d+)[ab]", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            sh(["ip", "netns", "del", name], check=False)


class NetnsPair:
    def __init__(self, tag=""):
        self.pid = os.getpid()
        # tag lets one process hold several pairs; it must stay digits-free
        # at the end so reap_stale's pattern (hqt<pid>[ab]) only matches ours
        self.a = f"hqt{self.pid}a"
        self.b = f"hqt{self.pid}b"
        self.up_done = False

    def __enter__(self):
        self.up()
        return self

    def __exit__(self, *exc):
        self.down()

    def up(self):
        reap_stale()
        self.down()
        if subprocess.run(["mountpoint", "-q", "/sys/fs/bpf"]).returncode != 0:
            sh(["mount", "-t", "bpf", "bpf", "/sys/fs/bpf"], check=False)
        _live_pairs.append(self)
        for ns in (self.a, self.b):
            sh(["ip", "netns", "add", ns])
            sh(["ip", "netns", "exec", ns, "sysctl", "-qw",
                "net.ipv6.conf.default.accept_dad=0",
                "net.ipv6.conf.all.accept_dad=0",
                "net.ipv6.conf.default.router_solicitations=0"])
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        sh(["ip", "-n", self.a, "link", "add", IF_A, "type", "veth", "peer", "name", IF_B,
            "netns", self.b])
        sh(["ip", "-n", self.a, "addr", "add", f"{IP4_A}/24", "dev", IF_A])
        sh(["ip", "-n", self.b, "addr", "add", f"{IP4_B}/24", "dev", IF_B])
        sh(["ip", "-n", self.a, "addr", "add", f"{IP6_A}/64", "dev", IF_A, "nodad"])
        sh(["ip", "-n", self.b, "addr", "add", f"{IP6_B}/64", "dev", IF_B, "nodad"])
        sh(["ip", "-n", self.a, "link", "set", IF_A, "up"])
        sh(["ip", "-n", self.b, "link", "set", IF_B, "up"])
        self.mac_a = self.read(self.a, f"/sys/class/net/{IF_A}/address")
        self.mac_b = self.read(self.b, f"/sys/class/net/{IF_B}/address")
        self.ifindex_a = int(self.read(self.a, f"/sys/class/net/{IF_A}/ifindex"))
        self.ifindex_b = int(self.read(self.b, f"/sys/class/net/{IF_B}/ifindex"))
        # static neighbours: no ARP/ND noise in front of the first packet
        sh(["ip", "-n", self.a, "neigh", "replace", IP4_B, "lladdr", self.mac_b, "dev", IF_A,
            "nud", "permanent"])
        sh(["ip", "-n", self.b, "neigh", "replace", IP4_A, "lladdr", self.mac_a, "dev", IF_B,
            "nud", "permanent"])
        sh(["ip", "-n", self.a, "neigh", "replace", IP6_B, "lladdr", self.mac_b, "dev", IF_A,
            "nud", "permanent"])
        sh(["ip", "-n", self.b, "neigh", "replace", IP6_A, "lladdr", self.mac_a, "dev", IF_B,
            "nud", "permanent"])
        for _ in range(100):
            if "state UP" in sh(["ip", "-n", self.b, "link", "show", IF_B]).stdout:
                break
            time.sleep(0.05)
        self.up_done = True

    def down(self):
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        if self in _live_pairs:
            _live_pairs.remove(self)

    @staticmethod
    def read(ns, path):
        return sh(["ip", "netns", "exec", ns, "cat", path]).stdout.strip()

    def ns(self, which):
        return {"A": self.a, "B": self.b}[which]

    def iface(self, which):
        return {"A": IF_A, "B": IF_B}[which]

    def ifindex(self, which):
        return {"A": self.ifindex_a, "B": self.ifindex_b}[which]

    def vars(self):
        """Names a test case may use in its strings ({IF_B}) and scapy code."""
        return dict(NS_A=self.a, NS_B=self.b, IF_A=IF_A, IF_B=IF_B, MAC_A=self.mac_a,
                    MAC_B=self.mac_b, IP4_A=IP4_A, IP4_B=IP4_B, IP6_A=IP6_A, IP6_B=IP6_B,
                    IFINDEX_A=self.ifindex_a, IFINDEX_B=self.ifindex_b)

    def exec(self, which, cmd, **kw):
        return sh(["ip", "netns", "exec", self.ns(which)] + cmd, **kw)

    def popen(self, which, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.ns(which)] + cmd, **kw)

    # --- traffic ------------------------------------------------------------
    def udp_sender(self, port, n, interval=0.0, frm="A"):
        """Start sending n UDP datagrams (n <= 10000) from `frm` to the other
        end's IPv4 address, `interval` seconds apart; returns the Popen."""
        assert n <= 10000
        dst = IP4_B if frm == "A" else IP4_A
        code = ("import socket, time\n"
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                f"for i in range({n}):\n"
                f"    s.sendto(b'hq%d' % i, ({dst!r}, {port}))\n"
                f"    time.sleep({interval})\n")
        return self.popen(frm, [PYTHON, "-c", code], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)

    def udp_exchange(self, sends, frm="A", timeout=15.0):
        """Send {port: n} UDP datagrams from `frm` to a receiver bound on the
        other end, and return {port: datagrams received}. The receiver gets
        them after XDP and TC ingress have seen them, so when this returns
        every hook on the way has counted them: no sleeping needed."""
        to = "B" if frm == "A" else "A"
        dst = IP4_B if frm == "A" else IP4_A
        code = ("import select, socket, time\n"
                f"want = {dict(sends)!r}\n"
                "socks = {}\n"
                "for port in want:\n"
                "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                f"    s.bind(({dst!r}, port))\n"
                "    socks[s] = port\n"
                "got = dict.fromkeys(want, 0)\n"
                "print('ready', flush=True)\n"
                f"end = time.time() + {timeout}\n"
                "while got != want and time.time() < end:\n"
                "    for s in select.select(list(socks), [], [], 0.1)[0]:\n"
                "        s.recv(2048)\n"
                "        got[socks[s]] += 1\n"
                "print(repr(got), flush=True)\n")
        rx = self.popen(to, [PYTHON, "-c", code], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
        try:
            if rx.stdout.readline().strip() != "ready":
                raise RuntimeError(f"udp receiver failed: {rx.stderr.read().strip()}")
            for port, n in sends.items():
                tx = self.udp_sender(port, n, frm=frm)
                _, err = tx.communicate(timeout=timeout)
                if tx.returncode != 0:
                    raise RuntimeError(f"udp sender failed: {err.strip()}")
            out, _ = rx.communicate(timeout=timeout + 5)
        finally:
            if rx.poll() is None:
                rx.kill()
                rx.wait()
        return ast.literal_eval(out.strip().splitlines()[-1])

    # --- what is attached ------------------------------------------------
    def attachments(self, which):
        """Every BPF attachment on the interface, as text lines (empty: none).

        Looks at all three mechanisms: XDP (ip link), tc clsact filters, and
        BPF links whose ifindex is the interface (XDP links, tcx links)."""
        ns, ifc, idx = self.ns(which), self.iface(which), self.ifindex(which)
        found = []
        r = sh(["ip", "-n", ns, "-d", "-j", "link", "show", "dev", ifc], check=False)
        try:
            for l in json.loads(r.stdout or "[]"):
                if "xdp" in l:
                    found.append(f"xdp: {json.dumps(l['xdp'])}")
        except ValueError:
            pass
        for d in ("ingress", "egress"):
            r = sh(["ip", "netns", "exec", ns, "tc", "filter", "show", "dev", ifc, d],
                   check=False)
            for line in r.stdout.splitlines():
                if "bpf" in line:
                    found.append(f"tc {d}: {line.strip()}")
        r = sh(["bpftool", "-j", "link", "show"], check=False)
        hq_ids = {p.get("id") for p in hq_progs()}
        try:
            for l in json.loads(r.stdout or "[]"):
                if l.get("ifindex") == idx and l.get("prog_id") in hq_ids:
                    found.append(f"link: {json.dumps(l)}")
        except ValueError:
            pass
        r = sh(["ip", "netns", "exec", ns, "bpftool", "net", "show", "dev", ifc], check=False)
        for line in r.stdout.splitlines():
            if re.search(r"\bid \d+", line) and line.strip() not in " ".join(found):
                found.append(f"bpftool net: {line.strip()}")
        return found


def hq_progs():
    """hdrq's programs loaded anywhere (name hq_*): list of dicts from bpftool."""
    r = sh(["bpftool", "-j", "prog", "show"], check=False)
    try:
        return [p for p in json.loads(r.stdout or "[]") if str(p.get("name", "")).startswith("hq_")]
    except ValueError:
        return []


HeldLink = collections.namedtuple("HeldLink", "type prog_id ifindex")
"""a BPF link a process holds: its type (xdp, tcx...), program and the
index of the interface it is on (in that interface's namespace)"""


# The bpf(2) commands the checks below use, and x86-64's syscall numbers.
BPF_MAP_LOOKUP_ELEM, BPF_PROG_GET_NEXT_ID, BPF_MAP_GET_NEXT_ID, BPF_LINK_GET_NEXT_ID = 1, 11, 12, 31
SYS_BPF, SYS_PIDFD_GETFD = 321, 438
_libc = ctypes.CDLL(None, use_errno=True)


def bpf_syscall(cmd, attr):
    """bpf(cmd, attr) with attr as bytes: (return value, attr as the kernel
    left it); the return value is -errno on failure."""
    buf = ctypes.create_string_buffer(attr, len(attr))
    r = _libc.syscall(SYS_BPF, cmd, buf, len(attr))
    return (r if r >= 0 else -ctypes.get_errno()), buf.raw


def bpf_id_exists(kind, i):
    """Whether the kernel still has the BPF object ("prog", "map" or "link")
    of id i: the next id after i - 1 is i. Opens nothing, on purpose. Opening a
    program array by id (`bpftool map show id`) once its last user fd is
    closed makes the kernel schedule the array's deferred clear again; if the
    first one has not run yet, the reference the second takes is never put
    and the array stays for good (6.18's prog_array_map_clear: bpf_map_inc,
    then schedule_work, which queues a pending work only once). Polling hdrq's
    exit that way leaked its entry arrays now and then."""
    cmd = {"prog": BPF_PROG_GET_NEXT_ID, "map": BPF_MAP_GET_NEXT_ID,
           "link": BPF_LINK_GET_NEXT_ID}[kind]
    r, out = bpf_syscall(cmd, struct.pack("=III", i - 1, 0, 0))
    return r == 0 and struct.unpack_from("=I", out, 4)[0] == i


def held_bpf(pid):
    """The BPF programs, maps and links a process holds open, from
    /proc/PID/fdinfo (exact even while other hdrq runs load programs of the
    same names): {"pid": pid, "progs": {prog_id, ...}, "maps": {map_id, ...},
    "links": {link_id: HeldLink}, "arrays": {map_id: fd, ...}}; arrays are
    the program arrays among the maps (hdrq's entry programs,
    runtime/entry.h), with the number of the process's fd to each."""
    held = {"pid": pid, "progs": set(), "maps": set(), "links": {}, "arrays": {}}
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return held
    for fd in fds:
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            continue
        info = {k.strip(): v.strip() for k, v in info.items()}
        if "link_id" in info:
            held["links"][int(info["link_id"])] = HeldLink(
                info.get("link_type", "?"), int(info.get("prog_id", 0)),
                int(info.get("ifindex", 0)))
        elif "prog_id" in info:
            held["progs"].add(int(info["prog_id"]))
        elif "map_id" in info:
            held["maps"].add(int(info["map_id"]))
            if info.get("map_type") == "3":  # BPF_MAP_TYPE_PROG_ARRAY
                held["arrays"][int(info["map_id"])] = int(fd)
    return held


def entry_slots(held):
    """{array_id: prog_id or None}: what each entry program's array (slot 0)
    runs; None while the slot is empty or once the process has gone. Reads
    through a copy of the process's own fd (pidfd_getfd), not by id, for
    the reason bpf_id_exists gives."""
    slots = {i: None for i in held["arrays"]}
    try:
        pidfd = os.pidfd_open(held["pid"])
    except OSError:
        return slots
    try:
        for i, fd in held["arrays"].items():
            mine = _libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
            if mine < 0:
                continue
            key, value = ctypes.c_uint32(0), ctypes.c_uint32(0)
            attr = struct.pack("=IIQQQ", mine, 0, ctypes.addressof(key),
                               ctypes.addressof(value), 0)
            if bpf_syscall(BPF_MAP_LOOKUP_ELEM, attr)[0] == 0:
                slots[i] = value.value
            os.close(mine)
    finally:
        os.close(pidfd)
    return slots


def armed(held):
    """Whether every entry program of held_bpf() runs hdrq's own program,
    i.e. hdrq counts: an entry is attached before the program it tail-calls
    is loaded, and passes packets uncounted until its slot 0 is set."""
    return None not in entry_slots(held).values()


def wait_own_link(proc, timeout=30.0):
    """Wait until hdrq (proc, the process itself: `ip netns exec` and
    setpriv exec it) holds a BPF link, i.e. has attached through XDP or tcx,
    and counts (armed()).
    Returns held_bpf() then, or None if it exited or never attached."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            return None
        held = held_bpf(proc.pid)
        if held["links"] and armed(held):
            return held
        time.sleep(0.05)
    return None


def bpf_gone(held, timeout=5.0):
    """Programs, maps and links of held_bpf() that are still in the kernel
    after `timeout` seconds (the kernel frees them asynchronously): list of
    text. A map outlives its run only while something still uses it, e.g. a
    program left attached."""
    left = []
    for _ in range(int(timeout / 0.1)):
        left = [f"{kind} {i}" for kind in ("prog", "map", "link")
                for i in sorted(held[kind + "s"]) if bpf_id_exists(kind, i)]
        if not left:
            break
        time.sleep(0.1)
    return left


def own_attachments(pair, which, pid):
    """What process pid has attached to the interface, as text lines: its
    BPF links there (XDP, tcx; /proc/PID/fdinfo names each link's interface)
    and tc filters running a program it holds (clsact has no links). Other
    runs' attachments, on this interface or elsewhere, are not counted, and
    none until the run counts (armed())."""
    held = held_bpf(pid)
    if not armed(held):
        return []
    idx = pair.ifindex(which)
    found = [f"link {i}: {l.type}" for i, l in sorted(held["links"].items())
             if l.ifindex == idx]
    for d in ("ingress", "egress"):
        r = sh(["ip", "netns", "exec", pair.ns(which), "tc", "filter", "show", "dev",
                pair.iface(which), d], check=False)
        for line in r.stdout.splitlines():
            m = re.search(r"\bid (\d+)", line)
            if "bpf" in line and m and int(m.group(1)) in held["progs"]:
                found.append(f"tc {d}: {line.strip()}")
    return found


def wait_attached(pair, which, proc, timeout=20.0):
    """Wait until hdrq (proc, the process itself: `ip netns exec` execs it)
    has attached to the interface. Returns own_attachments(), or None if
    hdrq exited or attached nothing there in time."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            return None
        a = own_attachments(pair, which, proc.pid)
        if a:
            time.sleep(0.2)
            return a
        time.sleep(0.1)
    return None


def parse_json_lines(text):
    """Every line of hdrq's stdout that is a JSON object; other lines are
    returned separately (they are a formatter bug in -o json mode)."""
    objs, junk = [], []
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        try:
            o = json.loads(s)
        except ValueError:
            junk.append(line)
            continue
        if isinstance(o, dict):
            objs.append(o)
        else:
            junk.append(line)
    return objs, junk


def flatten(o, prefix=""):
    """{"tcp": {"dst_port": 80}} -> {"tcp.dst_port": 80}; flat dicts unchanged."""
    out = {}
    for k, v in o.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and not k.endswith(")"):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out
