#!/usr/bin/python3
"""startup.py — start-up cost of a whole live run, hdrq beside bpftrace.

Runs the two one-liners alternately (so that whatever else the machine does
falls on both), each for the same DURATION once attached, and times every
run from fork to exit with a monotonic clock; peak RSS comes from wait4()
for that child alone. Start-up is wall time minus DURATION: compiling,
verifying, attaching, detaching and printing, the part a user waits for
beyond the run asked for.

usage: startup.py RUNS DURATION HDRQ IFACE QUERY [BPFTRACE_PROGRAM]
Prints the markdown section of bench/RESULTS.md on stdout.
"""
import os
import statistics
import subprocess
import sys
import time


def run_once(argv):
    """(wall seconds, peak RSS MiB, exit status) of one run of argv"""
    devnull = subprocess.DEVNULL
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=devnull, stderr=devnull)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024.0, p.returncode


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    runs, duration = int(sys.argv[1]), float(sys.argv[2])
    hdrq, iface, query = sys.argv[3:6]
    bt_prog = sys.argv[6] if len(sys.argv) == 7 else None
    tools = {"hdrq": [hdrq, "-i", iface, "-d", str(duration), query]}
    if bt_prog:
        tools["bpftrace"] = ["bpftrace", "-e", bt_prog]
    res = {name: [] for name in tools}
    for _ in range(runs):
        for name, argv in tools.items():
            wall, rss, rc = run_once(argv)
            if rc != 0:
                sys.exit(f"startup.py: {name} exited with {rc}: {' '.join(argv)}")
            res[name].append((wall, rss))

    print(f"Each tool ran {runs} times, alternately, attached for {duration:g} s "
          "per run (hdrq `-d`, bpftrace an `interval` probe that exits). "
          "Wall time from fork to exit; start-up = wall − "
          f"{duration:g} s. Peak RSS of that process (wait4).")
    print()
    print("| tool | command | wall ms (each run) | median wall ms | "
          "median start-up ms | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    med = {}
    for name, argv in tools.items():
        walls = [w for w, _ in res[name]]
        rss = max(r for _, r in res[name])
        mw = statistics.median(walls)
        med[name] = (mw, mw - duration, rss)
        cmd = " ".join(a if " " not in a else f"'{a}'" for a in argv[:-1])
        cmd += f" '{argv[-1]}'"
        each = " ".join(f"{w * 1000:.0f}" for w in walls)
        print(f"| {name} | `{cmd}` | {each} | {mw * 1000:.0f} | "
              f"{(mw - duration) * 1000:.0f} | {rss:.0f} |")
    if "bpftrace" not in med:
        return
    h, b = med["hdrq"], med["bpftrace"]
    print()
    print(f"hdrq's start-up is **{h[1] / b[1] * 100:.0f}%** of bpftrace's "
          f"({h[1] * 1000:.0f} ms against {b[1] * 1000:.0f} ms; whole runs "
          f"{h[0] / b[0] * 100:.0f}%): the target of at most a fifth is "
          f"**{'met' if h[1] <= b[1] / 5 else 'not met'}**. Its peak memory is "
          f"**{h[2] / b[2] * 100:.0f}%** of bpftrace's ({h[2]:.0f} MiB against "
          f"{b[2]:.0f} MiB): the target of at most half is "
          f"**{'met' if h[2] <= b[2] / 2 else 'not met'}**.")


if __name__ == "__main__":
    main()
