#!/usr/bin/python3
"""faults.py — hdrq live when something else holds the interface, when two
runs share it, when it is signalled, and with only the capabilities it needs.

Each scenario gets its own netns pair (tests/lib/hqnet.py): hdrq watches
hqb0 in namespace B; traffic is UDP datagrams from A to 192.0.2.2 that a
receiver in B takes (hqnet.udp_exchange), so every hook on the way has seen
them before a count is checked. hdrq's own programs and links are read from
its /proc/PID/fdinfo, so other hdrq runs on the machine do not confuse the
checks. After every run: the programs, maps and links hdrq held are all
gone from the kernel (so no program of its is left loaded anywhere), and
nothing is attached to hqb0 (ip link, tc, bpftool net) but what the scenario
put there itself.

  foreign_xdp   an XDP_PASS program (assembled with llvm-mc, attached by
                `ip link set dev hqb0 xdpdrv obj`) is on hqb0: hdrq warns
                naming its id, watches ingress through a tcx link instead,
                counts exactly the datagrams sent to the port it asks for;
                afterwards the foreign program is still attached, same id.
  two_runs      two hdrq with different queries, the second started once the
                first is attached: the first holds the XDP link; the second
                warns that hqb0 already has an XDP program (the first's id)
                and uses tcx; both count batch 1; the first stops (SIGINT)
                and prints its counts; the second still counts batch 2, then
                stops with the sum.
  two_runs_together  the same two runs started at the same moment: both
                must attach and count (one takes XDP, the other TC), neither
                may fail because the other took XDP while it was compiling.
  signals       SIGHUP and SIGTERM on a live XDP run after known traffic:
                the counts are printed, exit 0, nothing left (kill9.py covers
                SIGKILL, SIGINT, and SIGTERM on an idle egress run). SIGPIPE:
                `hdrq 'udp log ip.src' | head -1` while datagrams flow: head
                prints a log line from 192.0.2.1, hdrq exits by itself within
                2 s of head, with status 0 (a reader that goes away is not an
                error, as offline in tests/runtime/cli.sh).
  privs         as uid 65534 with exactly CAP_BPF, CAP_NET_ADMIN and
                CAP_PERFMON (setpriv: inheritable, ambient and bounding sets),
                a live XDP run counts the datagrams sent and detaches; with one
                of them missing, or none, a live run exits 1 naming the missing
                capability and attaches nothing.

Usage: faults.py [SCENARIO...] (default: all). Exit 0 pass, 1 fail, 77 when
not root (or, for privs, when uid 65534 cannot run $HDRQ).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import hqnet  # noqa: E402

IF_B = hqnet.IF_B
HDRQ = None  # set in main
TAKEN = ("{} already has an XDP program (id {}); leaving it in place and watching "
         "ingress with TC instead")


class Checks:
    """Every check is printed; failures are collected."""

    def __init__(self):
        self.fails = []

    def __call__(self, ok, what, detail=None):
        if ok:
            print(f"   ok: {what}")
        else:
            print(f"   FAIL: {what}" + (f" — got {detail}" if detail is not None else ""))
            self.fails.append(what)
        return ok


class Run:
    """One hdrq -o json on hqb0 in namespace B (pre: a command prefix such
    as setpriv, which execs hdrq: proc.pid is hdrq's pid)."""

    live = []

    def __init__(self, pair, query, pre=()):
        cmd = list(pre) + [HDRQ, "-o", "json", "-d", "60", "-i", IF_B, query]
        print(f"$ ip netns exec {pair.b} {' '.join(cmd)}")
        self.proc = pair.popen("B", cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        self.pair, self.held, self.out, self.err = pair, None, "", ""
        Run.live.append(self)

    def attach(self, c):
        self.held = hqnet.wait_own_link(self.proc)
        if not c(self.held is not None, "hdrq attached (holds a BPF link)"):
            rc = self.stop(signal.SIGKILL)
            print(f"   hdrq ({self.proc.args[-1]!r}) exit {rc}, stderr: {self.err.strip()[-400:]}")
            return None
        print(f"   attached: links {self.held['links']}; XDP program on hqb0: "
              f"{xdp_id(self.pair)}")
        return self.held

    def link_types(self):
        return sorted(l.type for l in self.held["links"].values())

    def xdp_prog(self):
        return [l.prog_id for l in self.held["links"].values() if l.type == "xdp"]

    def stop(self, sig=signal.SIGINT, timeout=15):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            self.out, self.err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.out, self.err = self.proc.communicate()
            self.err += f"\n(test: killed, ignored {sig.name} for {timeout} s)"
        return self.proc.returncode

    def results(self):
        """{"count": N} for a counting query, {dst_port: count()} for
        `udp group by dst_port`; non-JSON lines on stdout are a failure."""
        objs, junk = hqnet.parse_json_lines(self.out)
        res = {}
        for o in objs:
            if o.get("type") == "count":
                res["count"] = res.get("count", 0) + o["count"]
            elif o.get("type") == "group":
                res[o["udp.dst_port"]] = res.get(o["udp.dst_port"], 0) + o["count()"]
        return res, junk

    @classmethod
    def kill_all(cls):
        for r in cls.live:
            if r.proc.poll() is None:
                r.proc.kill()
                r.proc.wait()
        cls.live = []


def check_stopped(c, run, sig, want):
    """hdrq stopped by `sig` exited 0 and printed `want`."""
    rc = run.stop(sig)
    c(rc == 0, f"{sig.name}: exit 0", f"{rc}; stderr {run.err.strip()[-300:]!r}")
    c("error" not in run.err, f"{sig.name}: no error on stderr", run.err.strip()[-300:])
    res, junk = run.results()
    c(not junk, "stdout is JSON lines only", junk[:3])
    if not c(res == want, f"{sig.name}: results printed, {want}", res):
        print("   hdrq stdout: " + run.out.strip()[-600:])


def check_clean(c, pair, held, keep=()):
    """Nothing of hdrq's (held: hqnet.held_bpf() while it ran) is left;
    keep: ids of programs and links that may stay attached to hqb0 (a
    foreign XDP program, another run's)."""
    if held is None:
        return
    left = hqnet.bpf_gone(held)
    c(not left, f"hdrq's programs {sorted(held['progs'])}, maps {sorted(held['maps'])} and "
                f"links {sorted(held['links'])} are gone", left)
    att = [a for a in pair.attachments("B")
           if not any(re.search(rf"\b{i}\b", a) for i in keep)]
    c(not att, "nothing of hdrq's attached to hqb0 (ip link, tc, bpftool net)", att)


def exchange(c, pair, sends):
    got = pair.udp_exchange(sends)
    c(got == sends, f"datagrams sent and received in B: {sends}", got)


def xdp_id(pair):
    """Id of the XDP program on hqb0 (None: none)."""
    r = hqnet.sh(["ip", "-n", pair.b, "-d", "-j", "link", "show", "dev", IF_B])
    x = json.loads(r.stdout)[0].get("xdp")
    return x["prog"]["id"] if x and "prog" in x else None


# --- scenarios -------------------------------------------------------------------

PASS_ASM = """\
	.section	xdp,"ax",@progbits
	.globl	hqt_foreign
	.type	hqt_foreign,@function
hqt_foreign:
	r0 = 2
	exit
	.size	hqt_foreign, .-hqt_foreign
	.section	license,"aw",@progbits
	.asciz	"GPL"
"""


def xdp_pass_obj(tmp):
    """An ELF object with one XDP program returning XDP_PASS (2), named
    hqt_foreign (not hq_*), assembled by LLVM's llvm-mc: no clang needed."""
    cfg = os.environ.get("HQ_LLVM_CONFIG") or shutil.which("llvm-config")
    mc = os.path.join(hqnet.sh([cfg, "--bindir"]).stdout.strip(), "llvm-mc") if cfg else None
    if not mc or not os.access(mc, os.X_OK):
        mc = shutil.which("llvm-mc")
    if not mc:
        raise RuntimeError("no llvm-mc (set HQ_LLVM_CONFIG)")
    asm, obj = os.path.join(tmp, "pass.s"), os.path.join(tmp, "pass.o")
    with open(asm, "w") as f:
        f.write(PASS_ASM)
    hqnet.sh([mc, "-triple", "bpf", "-filetype=obj", "-o", obj, asm])
    return obj


def foreign_xdp(c, pair, tmp):
    obj = xdp_pass_obj(tmp)
    hqnet.sh(["ip", "-n", pair.b, "link", "set", "dev", IF_B, "xdpdrv", "obj", obj, "sec", "xdp"])
    fid = xdp_id(pair)
    if not c(fid is not None, "foreign XDP_PASS program attached by ip link", fid):
        return
    print(f"   foreign program id {fid}")
    run = Run(pair, "udp where dst_port == 7001")
    if not run.attach(c):
        return
    c(run.link_types() == ["tcx"], "hdrq attached through a tcx link, no XDP link",
      run.link_types())
    c(xdp_id(pair) == fid, "the foreign XDP program stays attached while hdrq runs", xdp_id(pair))
    exchange(c, pair, {7001: 9, 7002: 4})
    check_stopped(c, run, signal.SIGINT, {"count": 9})
    c(TAKEN.format(IF_B, fid) in run.err, "warning names the foreign program and TC",
      run.err.strip())
    c(xdp_id(pair) == fid, f"foreign program {fid} still attached after hdrq exits", xdp_id(pair))
    check_clean(c, pair, run.held, keep=[fid])


def two_run_checks(c, pair, r1, r2):
    """r1 (`udp group by dst_port`) and r2 (`udp where dst_port == 7002`)
    are attached: one through XDP, the other through tcx with the warning."""
    xdp, tc = (r1, r2) if r1.xdp_prog() else (r2, r1)
    c(xdp.link_types() == ["xdp"] and tc.link_types() == ["tcx"],
      "one run holds the XDP link, the other a tcx link",
      (r1.link_types(), r2.link_types()))
    exchange(c, pair, {7001: 5, 7002: 7})
    check_stopped(c, r1, signal.SIGINT, {7001: 5, 7002: 7})
    check_clean(c, pair, r1.held, keep=list(r2.held["progs"]) + list(r2.held["links"]))
    print("   first run stopped; batch 2 for the second")
    exchange(c, pair, {7001: 4, 7002: 3})
    check_stopped(c, r2, signal.SIGINT, {"count": 7 + 3})
    if xdp.xdp_prog():
        c(TAKEN.format(IF_B, xdp.xdp_prog()[0]) in tc.err,
          "the TC run's warning names the XDP run's program", tc.err.strip())
    check_clean(c, pair, r2.held)


def two_runs(c, pair, tmp):
    r1 = Run(pair, "udp group by dst_port")
    if not r1.attach(c):
        return
    r2 = Run(pair, "udp where dst_port == 7002")
    if not r2.attach(c):
        return
    c(r1.xdp_prog() and r2.link_types() == ["tcx"],
      "first run on XDP, second on tcx", (r1.link_types(), r2.link_types()))
    two_run_checks(c, pair, r1, r2)


def two_runs_together(c, pair, tmp):
    r1 = Run(pair, "udp group by dst_port")
    r2 = Run(pair, "udp where dst_port == 7002")
    a1, a2 = r1.attach(c), r2.attach(c)
    if a1 and a2:
        two_run_checks(c, pair, r1, r2)
        return
    for r in (r1, r2):  # the one that did attach still stops cleanly
        if r.held:
            c(r.stop() == 0, "the other run stops with exit 0", r.err.strip()[-300:])
            check_clean(c, pair, r.held)


def signals(c, pair, tmp):
    for sig, port in ((signal.SIGHUP, 7003), (signal.SIGTERM, 7004)):
        print(f"   -- {sig.name}")
        run = Run(pair, "udp group by dst_port")
        if not run.attach(c):
            continue
        c(run.link_types() == ["xdp"], "attached through XDP", run.link_types())
        exchange(c, pair, {port: 6})
        check_stopped(c, run, sig, {port: 6})
        check_clean(c, pair, run.held)
    print("   -- SIGPIPE: hdrq -i hqb0 'udp log ip.src' | head -1")
    hq = pair.popen("B", [HDRQ, "-i", IF_B, "-d", "60", "udp log ip.src"],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    head = subprocess.Popen(["head", "-1"], stdin=hq.stdout, stdout=subprocess.PIPE, text=True)
    hq.stdout.close()  # head is the only reader
    tx = None
    try:
        held = hqnet.wait_own_link(hq)
        if not c(held is not None, "hdrq attached (holds a BPF link)"):
            return
        tx = pair.udp_sender(7005, 300, interval=0.05)  # at most 15 s of traffic
        try:
            line, _ = head.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            line = ""
        t_head = time.time()
        if c(hqnet.IP4_A in line, "head printed a log line from 192.0.2.1", line.strip()):
            try:
                hq.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            took = time.time() - t_head
            c(hq.poll() is not None and took <= 2.0, "hdrq exited by itself within 2 s of head",
              f"{took:.2f} s, running: {hq.poll() is None}")
            c(tx.poll() is None, "traffic was still flowing when hdrq exited")
    finally:
        for p in (tx, head, hq):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    err = hq.stderr.read()
    c(hq.returncode == 0, "exit status 0 after its reader went away", f"{hq.returncode}: {err}")
    c("error" not in err, "no error on stderr", err.strip()[-300:])
    check_clean(c, pair, held)


CAPS = ["bpf", "net_admin", "perfmon"]
CAP_BITS = {"net_admin": 12, "perfmon": 38, "bpf": 39}


def setpriv(caps):
    """setpriv prefix: uid/gid 65534, no groups, exactly `caps` (also the
    bounding set, so nothing else can be gained)."""
    plus = ",".join("+" + x for x in caps)
    pre = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if not caps:
        return pre + ["--inh-caps=-all", "--bounding-set=-all"]
    return pre + [f"--inh-caps=-all,{plus}", f"--ambient-caps={plus}",
                  f"--bounding-set=-all,{plus}"]


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(l.split(":\t", 1) for l in f.read().splitlines() if ":\t" in l)


def privs(c, pair, tmp):
    stdlib = os.environ.get("HDRQ_STDLIB", "")
    r = pair.exec("B", setpriv([]) + ["test", "-x", HDRQ, "-a", "-r", stdlib + "/proto"],
                  check=False)
    if r.returncode != 0:
        print(f"SKIP privs: uid 65534 cannot run {HDRQ} or read {stdlib}")
        return hqnet.SKIP
    run = Run(pair, "udp group by dst_port", pre=setpriv(CAPS))
    if run.attach(c):
        st = proc_status(run.proc.pid)
        mask = sum(1 << b for b in CAP_BITS.values())
        c(st["Uid"].split()[:2] == ["65534", "65534"], "hdrq runs as uid 65534", st["Uid"])
        c(int(st["CapEff"], 16) == mask and int(st["CapBnd"], 16) == mask,
          "its effective and bounding sets are exactly CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON",
          (st["CapEff"], st["CapBnd"]))
        c(run.link_types() == ["xdp"], "attached through XDP", run.link_types())
        exchange(c, pair, {7006: 8, 7007: 2})
        check_stopped(c, run, signal.SIGINT, {7006: 8, 7007: 2})
        check_clean(c, pair, run.held)
    for caps, missing in (([], "CAP_BPF (needed to load BPF programs)"),
                          (["bpf", "perfmon"], f"CAP_NET_ADMIN (needed to attach to {IF_B})"),
                          (["bpf", "net_admin"], "CAP_PERFMON (needed by the verifier"),
                          (["net_admin", "perfmon"], "CAP_BPF (needed to load BPF programs)")):
        r = pair.exec("B", setpriv(caps) + [HDRQ, "-i", IF_B, "-d", "5", "udp"], check=False,
                      timeout=30)
        c(r.returncode == 1 and f"missing capability {missing}" in r.stderr,
          f"uid 65534 with {caps or 'no capabilities'}: exit 1, 'missing capability "
          f"{missing}'", f"{r.returncode}: {r.stderr.strip()}")
        att = pair.attachments("B")
        c(not att, "  and nothing attached to hqb0", att)


SCENARIOS = {"foreign_xdp": foreign_xdp, "two_runs": two_runs,
             "two_runs_together": two_runs_together, "signals": signals, "privs": privs}


def main():
    global HDRQ
    hqnet.require_root()
    HDRQ = hqnet.hdrq_bin()
    names = sys.argv[1:] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
        return 2
    fails, skipped = [], []
    for name in names:
        print(f"== {name}")
        c = Checks()
        t0 = time.time()
        tmp = tempfile.mkdtemp(prefix=f"hq-faults-{name}-")
        try:
            with hqnet.NetnsPair() as pair:
                if SCENARIOS[name](c, pair, tmp) == hqnet.SKIP:
                    skipped.append(name)
        except Exception as e:  # a broken fixture step is a failure, not a crash
            c(False, f"scenario ran to the end ({type(e).__name__}: {e})")
        finally:
            Run.kill_all()
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"   {name}: {len(c.fails)} failure(s), {time.time() - t0:.1f} s")
        fails += [f"{name}: {f}" for f in c.fails]
    if fails:
        print("FAIL faults:")
        for f in fails:
            print("  - " + f)
        return 1
    if skipped and len(skipped) == len(names):
        return hqnet.SKIP
    print("PASS faults" + (f" (skipped: {', '.join(skipped)})" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
