"""sender.py — one traffic step of a live test, run inside a namespace.

    ip netns exec NS /usr/bin/python3 sender.py STEP_JSON

STEP_JSON is an object with one of
    "scapy":  a Python expression over scapy's names and the fixture's
              variables (MAC_B, IP4_B, …) giving a packet or list of packets;
              sent with sendp() on "iface", "count" times (default 1)
    "python": Python statements (sockets and the like); `V` holds the
              fixture's variables, which are also plain globals
    "shell":  a shell command
and "vars" (the fixture's variables). The step is prepared first (scapy is
slow to import, packets are built), then the script prints "ready" and
waits for one line on stdin before it sends (a background step, "wait":
false, runs at once and must print "ready" itself when it is serving), so that a test can start hdrq
only after its senders are ready and still keep hdrq's run short. It prints
"sent N" (packets sent by a scapy step) at the end.

Every step is bounded: at most MAX_PACKETS packets and the test's timeout.
"""

import json
import subprocess
import sys

MAX_PACKETS = 10000


def main():
    step = json.loads(sys.argv[1])
    v = step.get("vars", {})
    g = dict(v)
    g["V"] = v
    action = None
    if "scapy" in step:
        import logging
        logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        from scapy import all as scapy_all  # noqa: F401
        exec("from scapy.all import *", g)
        pkts = eval("(" + step["scapy"] + "\n)", g)
        if not isinstance(pkts, (list, tuple)):
            pkts = [pkts]
        pkts = list(pkts)
        count = int(step.get("count", 1))
        n = len(pkts) * count
        if n > MAX_PACKETS:
            raise SystemExit(f"sender: {n} packets is more than the bound {MAX_PACKETS}")
        iface = step["iface"]

        def action():
            g["sendp"](pkts * count, iface=iface, verbose=0)
            return n
    elif "python" in step:
        code = compile(step["python"], "<step>", "exec")

        def action():
            exec(code, g)
            return g.get("SENT", 0)
    elif "shell" in step:
        def action():
            subprocess.run(["bash", "-c", step["shell"]], check=True)
            return 0
    else:
        raise SystemExit("sender: step has no scapy/python/shell")

    if step.get("wait", True):
        print("ready", flush=True)
        sys.stdin.readline()
    # a background step (wait false) prints "ready" itself once it serves
    n = action()
    print(f"sent {n}", flush=True)


if __name__ == "__main__":
    main()
