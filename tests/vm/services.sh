#!/bin/bash
# Services in the VM, where the cgroup controllers are real: a service's
# user, group, capability bounding set, oom_score_adj, rlimits, environment
# and directory; its cgroup limits (memory.max, pids.max, cpu.weight); an
# OOM kill under memory.max logged, counted and sent as an event; the CLI's
# services, logs and restart. The service files reach the guest in an extra
# initramfs archive (run-vm --overlay): they are the test's, not the image's.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require
overlay=$(mktemp -d "$BUILD/services-overlay.XXXXXX")
trap 'vm_cleanup; rm -rf "$overlay"' EXIT
mkdir -p "$overlay/etc/porthole/services"
cat >"$overlay/etc/porthole/services/limited.conf" <<'E'
[service]
description = runs as nobody with one capability
command = /bin/sh -c "echo $GREETING from $(pwd) as $(id -u):$(id -g); exec sleep 100000"
environment = GREETING=hello there
directory = /tmp
user = nobody
group = nogroup
capabilities = cap_net_bind_service
oom_score_adj = 500
[limits]
nofile = 1024:2048
[cgroup]
memory_max = 64M
pids_max = 20
cpu_weight = 50
E
cat >"$overlay/etc/porthole/services/hog.conf" <<'E'
[service]
description = doubles a string until memory.max stops it
command = /bin/sh -c "echo hog starts; x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done"
restart = never
[cgroup]
memory_max = 32M
E
cat >"$overlay/etc/porthole/services/forks.conf" <<'E'
[service]
description = forks more than pids.max lets it
command = /bin/sh -c "for i in 1 2 3 4 5 6 7 8; do sleep 100000 & done; echo forked; wait"
restart = never
[cgroup]
pids_max = 4
E

if ! vm_start services --overlay "$overlay"; then
	not_ok "boots with the test's services"
	exit 1
fi
ok "boots with the test's services"
C() { "$BUILD/bin/porthole" --connect "$(vm_agent)" --timeout 60 "$@"; }
svc() { C --json services | jq -r --arg n "$1" --arg f "$2" '.[] | select(.name == $n) | .[$f]'; }
running() { [ "$(svc limited state)" = running ]; }
check "limited is running" wait_for 30 running

pid=$(svc limited pid)
status=$(vm "cat /proc/$pid/status")
check "user and group: nobody, nogroup" eval 'grep -Eq "^Uid:\s+65534\s" <<<"$status" && grep -Eq "^Gid:\s+65534\s" <<<"$status"'
# bit 10: CAP_NET_BIND_SERVICE, and nothing else
check "the bounding set is cap_net_bind_service alone" grep -Eq "^CapBnd:\s+0000000000000400$" <<<"$status"
check "oom_score_adj 500" test "$(vm "cat /proc/$pid/oom_score_adj")" = 500
check "open files: soft 1024, hard 2048" eval "vm 'cat /proc/$pid/limits' | grep -Eq '^Max open files +1024 +2048 '"
check "environment, directory, ids: in its log" \
	eval "C logs limited | grep -q 'hello there from /tmp as 65534:65534'"
cg=/sys/fs/cgroup/porthole/limited
check "memory.max, pids.max, cpu.weight written" \
	test "$(vm "cat $cg/memory.max $cg/pids.max $cg/cpu.weight" | tr '\n' ' ')" = "67108864 20 50 "

oomed() { [ "$(svc hog oom_kills)" -ge 1 ] 2>/dev/null; }
check "hog: OOM-killed under memory.max 32M, counted" wait_for 60 oomed
check "hog: its last exit is SIGKILL" test "$(C --json services | jq -c '.[] | select(.name == "hog") | .last_exit')" = '{"signal":9}'
check "the OOM kill is in init's log" grep -aq "porthole-init: .*hog: 1 process(es) killed for running out of memory" "$VM_DIR/console.log"
check "the OOM kill is an event the host gets" \
	eval "C --json events 2>/dev/null | jq -e '.service_events | map(select(.service == \"hog\" and .type == \"oom_kill\")) | length == 1' >/dev/null"

check "forks: pids.max 4 holds" test "$(vm 'cat /sys/fs/cgroup/porthole/forks/pids.current')" -le 4
check "forks: the refused forks are counted in pids.events" \
	test "$(vm "awk '/^max/ { print \$2 }' /sys/fs/cgroup/porthole/forks/pids.events")" -ge 1

out=$(C services)
check "porthole services: a table with the agent and limited" \
	eval 'grep -Eq "^porthole-agent +running" <<<"$out" && grep -Eq "^limited +running" <<<"$out"'
echo "$out" | sed 's/^/# /'
check "porthole restart limited" C restart limited
new_pid() { p=$(svc limited pid); [ "$p" != null ] && [ "$p" != "$pid" ]; }
check "limited runs again with a new pid" wait_for 30 new_pid
err=$(C restart nosuch 2>&1)
check "porthole restart of an unknown service says so ($err)" grep -q 'no service named "nosuch"' <<<"$err"
check "porthole logs kernel -n 3: three lines" test "$(C logs kernel -n 3 | wc -l)" = 3

# The boot chart (docs/boot.md): the kernel, init's steps in order, every
# service started with start <= ready, limited's restart counted; and --svg
# a well-formed SVG with a bar for each.
C --json boot >"$overlay/boot.json" 2>&1
check "porthole boot --json: the kernel, init's steps, each service, in order" python3 - "$overlay/boot.json" <<'E'
import json, sys
r = json.load(open(sys.argv[1]))
e = {x["name"]: x for x in r["boot"]}
k = e["kernel"]
assert k["kind"] == "kernel" and k["start_ns"] == 0 and k["end_ns"] > 0, k
steps = [x for x in r["boot"] if x["kind"] == "step"]
names = [x["name"] for x in steps]
assert names[:1] == ["early"] and names[-1] == "services", names
for a in ("modules", "storage", "network"):
    assert a in names, names
for x in steps:
    assert x["start_ns"] >= k["end_ns"] and x["end_ns"] >= x["start_ns"], x
for a, b in zip(steps, steps[1:]):
    assert b["start_ns"] >= a["end_ns"], (a, b)
for n in ("porthole-agent", "limited"):
    s = e[n]
    assert s["kind"] == "service" and s["start_ns"] <= s["ready_ns"] <= r["now_ns"], s
    assert s["start_ns"] >= e["early"]["start_ns"], s
assert e["limited"]["runs"] >= 2, e["limited"]
E
sed 's/^/# /' "$overlay/boot.json" | cut -c1-400
out=$(C boot)
check "porthole boot: a row for the kernel and the summary line" \
	eval 'grep -Eq "^kernel +kernel +0.000 s" <<<"$out" && grep -q "last service ready at" <<<"$out"'
echo "$out" | sed 's/^/# /'
check "porthole boot --svg: written" C boot --svg "$overlay/boot.svg"
check "porthole boot --svg: well-formed SVG, a bar for each entry" python3 - "$overlay/boot.svg" "$overlay/boot.json" <<'E'
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
groups = root.findall("{http://www.w3.org/2000/svg}g")
assert len(groups) == len(json.load(open(sys.argv[2]))["boot"]), len(groups)
assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
E

check "power-off" vm_stop
check "shutdown: the services were stopped first" grep -aq "shutdown: services stopped after" "$VM_DIR/console.log"
