#!/usr/bin/python3
"""run_case.py — run one declarative live scenario (tests/live/cases/*.toml).

A case names a query, where hdrq runs, the traffic to send and the rows hdrq
must print. The driver:

  1. builds the netns pair (tests/lib/hqnet.py: A=192.0.2.1 <-veth-> B=192.0.2.2);
  2. runs the case's [[setup]] shell steps (a bridge, say: the namespace
     takes it away), starts its [[background]] steps (servers), prepares every
     [[send]] step (scapy imported, packets built) so that sending is quick;
  3. starts `hdrq -o json -d DURATION ARGS QUERY` in namespace `on`, waits
     until its program is attached, then runs the send steps in order;
  4. waits for hdrq to exit by itself (-d), and compares its JSON lines with
     [expect]; with `write = true` also re-reads the -w capture with tshark.

Case keys (TOML):
    description = "what it proves"
    query       = "tcp where flags.rst group by dst_port"
    on          = "B"                 # namespace hdrq runs in (default B)
    args        = ["-i", "{IF_B}"]    # default: -i the interface of `on`
    duration    = 4                   # -d seconds
    write       = false               # add -w OUT.pcap
    env         = { HDRQ_NO_TCX = "1" }  # added to hdrq's environment
    [[setup]]       on = "B", shell = "..."      # run to completion first (sh -e)
    [[background]]  from = "B", python = "..."   # started first, killed at end
    [[send]]        from = "A", scapy = "EXPR", count = N, iface = "{IF_A}"
                    from = "A", python = "..." | shell = "..."
    [expect]
    rows  = [ { "tcp.dst_port" = 80, "count()" = 3 }, ... ]
    mode  = "exact"      # exact: the rows equal exactly (as a multiset);
                         # contains: each expected row is there
    exit  = 0
    pcap  = { count = 5, filter = "tcp.flags.reset == 1" }
    stderr_contains = ["..."]

Comparison: every JSON object hdrq prints is projected onto the keys the
expected rows use (a key the object lacks becomes "ABSENT", so an expected
value of "ABSENT" asserts that a field is absent); objects that share no key
with the expectation (loss reports, interval markers) are ignored. Numbers
compare numerically, JSON true/false equal 1/0, addresses compare by value
(2001:db8::1 == 2001:0db8:0:0:0:0:0:1), MACs case-insensitively.

Strings in the case may use the fixture's variables: {IF_A} {IF_B} {MAC_A}
{MAC_B} {IP4_A} {IP4_B} {IP6_A} {IP6_B} {NS_A} {NS_B}; scapy and python
steps see them as plain names.
"""

import ipaddress
import os
import subprocess
import sys
import tempfile
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import hqnet  # noqa: E402

SENDER = os.path.join(HERE, "..", "lib", "sender.py")


def subst(x, v):
    if isinstance(x, str):
        for k, val in v.items():
            x = x.replace("{" + k + "}", str(val))
        return x
    if isinstance(x, list):
        return [subst(i, v) for i in x]
    if isinstance(x, dict):
        return {k: subst(i, v) for k, i in x.items()}
    return x


def norm(v):
    """Canonical form of one value for comparison (see module doc)."""
    if v is None:
        return "ABSENT"
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        s = v.strip()
        try:
            return str(ipaddress.ip_address(s))
        except ValueError:
            pass
        if len(s) == 17 and s.count(":") == 5:
            return s.lower()
        if s.lower() in ("true", "false"):
            return int(s.lower() == "true")
        try:
            return int(s, 0)
        except ValueError:
            return s
    return repr(v)


def project(objs, keys):
    rows = []
    for o in objs:
        f = hqnet.flatten(o)
        if not any(k in f for k in keys):
            continue
        rows.append(tuple((k, norm(f.get(k, "ABSENT"))) for k in keys))
    return rows


def start_step(pair, step, v, wait=True):
    who = step.get("from", "A")
    body = {k: step[k] for k in ("scapy", "python", "shell", "count") if k in step}
    if "scapy" in step:
        body["iface"] = subst(step.get("iface", "{IF_" + who + "}"), v)
    body["vars"] = v
    body["wait"] = wait
    import json
    p = pair.popen(who, [hqnet.PYTHON, SENDER, json.dumps(body)], stdin=subprocess.PIPE,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if line.strip() != "ready":
        err = p.stderr.read()
        raise RuntimeError(f"traffic step failed to prepare: {line!r} {err}")
    return p


def run(case_path):
    hqnet.require_root()
    dry = bool(os.environ.get("HQ_LIVE_DRY"))
    hdrq = None if dry else hqnet.hdrq_bin()
    with open(case_path, "rb") as f:
        case = tomllib.load(f)
    name = os.path.splitext(os.path.basename(case_path))[0]
    print(f"== {name}: {case.get('description', '')}")
    failures = []
    tmp = tempfile.mkdtemp(prefix=f"hq-live-{name}-")
    with hqnet.NetnsPair() as pair:
        v = pair.vars()
        on = case.get("on", "B")
        duration = int(case.get("duration", 4))
        args = subst(case.get("args", ["-i", "{IF_" + on + "}"]), v)
        query = subst(case["query"], v)
        out_pcap = os.path.join(tmp, "out.pcap")
        cmd = [hdrq, "-o", case.get("output", "json"), "-d", str(duration)] + args
        if case.get("write"):
            cmd += ["-w", out_pcap]
        cmd.append(query)
        if dry:  # check the traffic steps alone: tshark captures instead of hdrq
            cmd = ["tshark", "-q", "-n", "-i", pair.iface(on), "-a", f"duration:{duration}",
                   "-w", out_pcap]
        for step in case.get("setup", []):  # e.g. a bridge: gone with the namespace
            pair.exec(step.get("on", "B"), ["sh", "-ec", subst(step["shell"], v)])
        bg = [start_step(pair, s, v, wait=False) for s in case.get("background", [])]
        time.sleep(0.3 if bg else 0)
        senders = [start_step(pair, s, v) for s in case.get("send", [])]
        print("$ ip netns exec", pair.ns(on), " ".join(repr(c) if " " in c else c for c in cmd))
        t0 = time.time()
        held = {"progs": set(), "maps": set(), "links": {}}
        env = dict(os.environ, **case.get("env", {}))
        proc = pair.popen(on, cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env)
        try:
            if dry:
                time.sleep(1.5)
                att = ["(dry run)"]
            else:
                att = hqnet.wait_attached(pair, case.get("attach_wait", on), proc)
            # this run's own links (other hdrq runs on the machine have theirs)
            held = hqnet.held_bpf(proc.pid)
            if att is None:
                failures.append("hdrq never attached (or exited early)")
            else:
                print(f"attached after {time.time() - t0:.2f}s: {att}")
            for s in senders:
                if att is None:
                    s.kill()
                    continue
                s.stdin.write("go\n")
                s.stdin.flush()
                o, e = s.communicate(timeout=60)
                if s.returncode != 0:
                    failures.append(f"traffic step failed: {e.strip()[-500:]}")
                else:
                    print(f"step: {o.strip().splitlines()[-1] if o.strip() else ''}")
            t_sent = time.time()
            try:
                out, err = proc.communicate(timeout=duration + 30)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                failures.append(f"hdrq did not stop after -d {duration}")
            t_end = time.time()
            if t_end < t_sent:
                failures.append("hdrq exited before all traffic was sent (raise duration)")
        finally:
            for p in senders + bg:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        print(f"hdrq exit {proc.returncode} after {t_end - t0:.2f}s")
        print("--- stdout\n" + out.rstrip())
        if err.strip():
            print("--- stderr\n" + err.rstrip())
        if dry:
            r = subprocess.run(["tshark", "-n", "-r", out_pcap], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
            print("--- captured (dry run)\n" + r.stdout.rstrip())
            return 1 if failures else 0
        exp = case.get("expect", {})
        if proc.returncode != exp.get("exit", 0):
            failures.append(f"exit code {proc.returncode}, expected {exp.get('exit', 0)}")
        for s in exp.get("stderr_contains", []):
            if subst(s, v) not in err:
                failures.append(f"stderr lacks {s!r}")
        objs, junk = hqnet.parse_json_lines(out)
        if junk and case.get("output", "json") == "json":
            failures.append(f"non-JSON lines on stdout: {junk[:3]}")
        if "rows" in exp:
            want_rows = subst(exp["rows"], v)
            keys = []
            for r in want_rows:
                for k in r:
                    if k not in keys:
                        keys.append(k)
            want = sorted(tuple((k, norm(r.get(k, "ABSENT"))) for k in keys) for r in want_rows)
            got = sorted(project(objs, keys), key=repr)
            want = sorted(want, key=repr)
            mode = exp.get("mode", "exact")
            if mode == "exact":
                ok = got == want
            else:
                rest = list(got)
                ok = True
                for w in want:
                    if w in rest:
                        rest.remove(w)
                    else:
                        ok = False
            if not ok:
                failures.append("rows differ (" + mode + ")\n  expected: " +
                                "\n            ".join(map(fmt_row, want)) + "\n  got:      " +
                                "\n            ".join(map(fmt_row, got)))
        if "pcap" in exp:
            failures += check_pcap(out_pcap, exp["pcap"], len(objs))
        left = pair.attachments(on) + hqnet.bpf_gone(held)
        if left:
            failures.append(f"still attached after exit: {left}")
    if failures:
        print(f"FAIL {name}:")
        for f in failures:
            print("  - " + f)
        return 1
    print(f"PASS {name}")
    return 0


def fmt_row(r):
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in r) + "}"


def check_pcap(path, want, n_records):
    fails = []
    if not os.path.exists(path):
        return [f"-w wrote no file {path}"]
    r = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return [f"tshark cannot read the -w capture: {r.stderr.strip()}"]
    total = len(r.stdout.split())
    if "count" in want and total != want["count"]:
        fails.append(f"-w capture holds {total} frames, expected {want['count']}")
    if "filter" in want:
        r = subprocess.run(["tshark", "-n", "-r", path, "-Y", want["filter"], "-T", "fields",
                            "-e", "frame.number"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        match = len(r.stdout.split())
        if match != total:
            fails.append(f"-w capture: {total - match} of {total} frames fail "
                         f"tshark filter {want['filter']!r}")
    print(f"-w capture: {total} frames (tshark)")
    return fails


if __name__ == "__main__":
    sys.exit(run(sys.argv[1]))
