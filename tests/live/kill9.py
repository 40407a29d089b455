#!/usr/bin/python3
"""kill9.py — a killed hdrq leaves nothing attached (SPEC §5, issue 2).

For each hook (XDP ingress, TC ingress via --hook tc, TC egress via
`on IFACE egress`): start hdrq on the veth in namespace B, wait until its
program is attached, `kill -9` it, then check within a few seconds that
  - `ip link show` has no XDP program on the interface,
  - `tc filter show` has no BPF filter in ingress/egress,
  - `bpftool net show dev` lists nothing,
  - no BPF link holds one of hdrq's programs on that ifindex, and
  - every program, map and link the run held (its /proc/PID/fdinfo before
    the kill) is gone.
Also a clean stop (SIGINT, SIGTERM) detaches and exits 0.
"""

import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import hqnet  # noqa: E402

QUERY = "tcp where flags.rst group by dst_port"

SCENARIOS = [
    # name, args, query, signal, expected exit (None: killed)
    ("xdp-kill9", ["-i", hqnet.IF_B], QUERY, signal.SIGKILL, None),
    ("tc-ingress-kill9", ["-i", hqnet.IF_B, "--hook", "tc"], QUERY, signal.SIGKILL, None),
    ("tc-egress-kill9", [], f"on {hqnet.IF_B} egress " + QUERY, signal.SIGKILL, None),
    ("xdp-sigint", ["-i", hqnet.IF_B], QUERY, signal.SIGINT, 0),
    ("tc-egress-sigterm", [], f"on {hqnet.IF_B} egress " + QUERY, signal.SIGTERM, 0),
]


def prog_name(prog_id):
    r = hqnet.sh(["bpftool", "-j", "prog", "show", "id", str(prog_id)], check=False)
    return json.loads(r.stdout).get("name", "?") if r.returncode == 0 else "?"


def entry_checks(name, held):
    """Each hook runs an entry program (runtime/entry.h) whose array holds
    one of the run's own programs once it counts."""
    fails = []
    entries = {l.prog_id for l in held["links"].values()}
    if any(not prog_name(p).startswith("hq_entry_") for p in entries):
        fails.append(f"{name}: linked programs {[prog_name(p) for p in entries]}, "
                     "want hq_entry_*")
    for p in entries:  # named and typed in BTF, as hdrq's own programs (SPEC)
        r = hqnet.sh(["bpftool", "-j", "prog", "show", "id", str(p)], check=False)
        if r.returncode or "btf_id" not in json.loads(r.stdout):
            fails.append(f"{name}: entry program {p} carries no BTF")
    slots = hqnet.entry_slots(held)
    if not slots or any(p not in held["progs"] or not prog_name(p).startswith(("hq_xdp", "hq_tc"))
                        for p in slots.values()):
        fails.append(f"{name}: entry slots {slots} do not hold the run's programs "
                     f"{sorted(held['progs'])}")
    return fails


def main():
    hqnet.require_root()
    hdrq = hqnet.hdrq_bin()
    fails = []
    with hqnet.NetnsPair() as pair:
        for name, args, query, sig, want_exit in SCENARIOS:
            cmd = [hdrq, "-o", "json", "-d", "60"] + args + [query]
            print(f"== {name}: ip netns exec {pair.b} {' '.join(cmd)}")
            proc = pair.popen("B", cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
            att = hqnet.wait_attached(pair, "B", proc)
            if att is None:
                out, err = proc.communicate(timeout=10) if proc.poll() is not None else ("", "")
                fails.append(f"{name}: hdrq never attached (exit {proc.poll()}): {err.strip()[-300:]}")
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                continue
            held = hqnet.held_bpf(proc.pid)  # this run's own, not other runs'
            print(f"   attached: {att}; programs {sorted(held['progs'])}, "
                  f"links {sorted(held['links'])}")
            if not held["progs"]:
                fails.append(f"{name}: hdrq holds no BPF program")
            fails += entry_checks(name, held)
            os.kill(proc.pid, sig)
            try:
                out, err = proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                fails.append(f"{name}: hdrq ignored {sig.name} for 15 s")
            if want_exit is not None and proc.returncode != want_exit:
                fails.append(f"{name}: exit {proc.returncode} after {sig.name}, expected "
                             f"{want_exit}; stderr: {err.strip()[-300:]}")
            # links, programs and maps are released when the last fd closes;
            # the kernel frees them asynchronously (bpf_gone polls for 5 s)
            alive = hqnet.bpf_gone(held)
            left = pair.attachments("B")
            if left:
                fails.append(f"{name}: still attached after {sig.name}: {left}")
            if alive:
                fails.append(f"{name}: still in the kernel after {sig.name}: {alive}")
            if not left and not alive:
                print(f"   {sig.name}: exit {proc.returncode}, nothing left attached or loaded")
    if fails:
        print("FAIL kill9:")
        for f in fails:
            print("  - " + f)
        return 1
    print("PASS kill9")
    return 0


if __name__ == "__main__":
    sys.exit(main())
