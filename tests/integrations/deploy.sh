#!/bin/bash
# deploy.sh — examples/deploy: the systemd unit passes `systemd-analyze
# verify` (with hdrq's path pointed at the binary under test), the
# Prometheus configurations pass `promtool check config`, and the
# Kubernetes manifest is valid YAML with a DaemonSet that runs hdrq with
# --metrics on the port the scrape configuration uses.
set -euo pipefail
D=${HQ_SRC:?}/examples/deploy
TMP=$(mktemp -d /tmp/hq-deploy.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (scripts/deps.sh installs systemd)"
command -v promtool >/dev/null || fail "promtool missing (scripts/deps.sh installs prometheus)"

# the unit names /usr/local/bin/hdrq; verify a copy that names the test binary
sed "s|/usr/local/bin/hdrq|${HDRQ:?}|g" "$D/systemd/hdrq.service" >"$TMP/hdrq.service"
if ! systemd-analyze verify --man=no "$TMP/hdrq.service" >"$TMP/v" 2>&1; then
	fail "systemd-analyze verify: $(cat "$TMP/v")"
fi
if grep -v -e 'Failed to connect' -e 'System has not been booted' "$TMP/v" | grep -q .; then
	fail "systemd-analyze verify warns: $(cat "$TMP/v")"
fi

promtool check config "$D/prometheus/prometheus-systemd.yml" >"$TMP/p" 2>&1 ||
	fail "promtool: $(cat "$TMP/p")"
# Debian's prometheus is built without Kubernetes service discovery, so
# promtool cannot check that file here: its shape is checked below instead.
/usr/bin/python3 - "$D/prometheus/prometheus-kubernetes.yml" <<'PY' || fail "prometheus-kubernetes.yml"
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
job = c["scrape_configs"][0]
assert job["kubernetes_sd_configs"][0]["role"] == "pod"
assert job["kubernetes_sd_configs"][0]["namespaces"]["names"] == ["hdrq"]
assert any(r.get("action") == "keep" for r in job["relabel_configs"])
PY

/usr/bin/python3 - "$D/kubernetes/hdrq-daemonset.yaml" <<'PY' || fail "DaemonSet manifest"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ds = [d for d in docs if d.get("kind") == "DaemonSet"]
assert len(ds) == 1, "one DaemonSet"
spec = ds[0]["spec"]["template"]["spec"]
assert spec.get("hostNetwork") is True, "hostNetwork"
c = spec["containers"][0]
args = " ".join(c.get("command", []) + c.get("args", []))
assert "--metrics" in args and ":9464" in args, args
ports = [p["containerPort"] for p in c.get("ports", [])]
assert 9464 in ports, ports
ann = ds[0]["spec"]["template"]["metadata"].get("annotations", {})
assert ann.get("prometheus.io/port") == "9464", ann
PY
echo "ok: systemd unit verified, Prometheus configs valid, DaemonSet consistent"
