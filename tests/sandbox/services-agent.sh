#!/bin/bash
# init's services through the agent: porthole-init as PID 1 of a sandbox with
# two small services (busybox sh), porthole-agent in the same sandbox asking
# init's control socket (docs/control.md), and the porthole CLI on the host:
# services listed with their states, a line a service printed in its logs, a
# restart giving a new pid, an unknown name's error, the kernel's log, the
# services in porthole-health and their events.
#
# Needs init's side (init.sock and /etc/porthole/services/*.conf): when the
# socket does not appear within 10 s of init's ready line, every case is
# skipped, saying so.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"
sandbox_require

work=$(mktemp -d /tmp/porthole-services.XXXXXX)
agent_pid=
cleanup() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	sandbox_cleanup
	rm -rf "$work"
}
trap cleanup EXIT

CASES=("services lists both with their states" "logs NAME shows what the service printed"
	"restart NAME gives a new pid" "an unknown name is init's error" "logs kernel -n 5"
	"health lists init's services" "events carry the restart")

# Two services: one that prints a line and stays, one that writes to stderr
# every second and comes after the first.
add_services() {
	install -m 755 "$BIN/porthole-agent" "$1/usr/bin/porthole-agent"
	mkdir -p "$1/etc/porthole/services"
	cat >"$1/etc/porthole/services/svc-one.conf" <<'EOF'
[service]
description = porthole test service one
command = /bin/sh -c 'echo "svc-one says hello, pid $$"; exec sleep 100000'
restart = always
EOF
	cat >"$1/etc/porthole/services/svc-two.conf" <<'EOF'
[service]
description = porthole test service two
command = /bin/sh -c 'while :; do echo "svc-two tick" >&2; sleep 1; done'
after = svc-one
EOF
}

if ! SB_PREPARE=add_services sandbox_start "log = debug
hostname = sandbox-services"; then
	not_ok "init comes up with two services"
	exit 1
fi
ok "init comes up with two services"

initsock=/proc/$SB_PID/root/run/porthole/init.sock
if ! wait_for 10 test -S "$initsock"; then
	for c in "${CASES[@]}"; do
		skip "$c" "init's control socket /run/porthole/init.sock did not appear within 10 s (init's side not there yet?)"
	done
	exit 0
fi

# the agent in the sandbox's namespaces and root, as init would run it, on a
# unix socket the host reaches through /proc/PID/root
sock=/proc/$SB_PID/root/run/porthole/t.sock
# (its sanitizer options, when the sandbox-san tier runs it, name the
# sandbox's /san: the host's log directory is not there)
nsenter -t "$SB_PID" -m -n -p -u -r -w /usr/bin/env "${SB_SAN_ENV[@]}" /usr/bin/porthole-agent --unix /run/porthole/t.sock \
	--no-vsock --no-serial --config /dev/null --cmdline "" --log debug 2>"$work/agent.log" &
agent_pid=$!
if ! wait_for 10 test -S "$sock"; then
	not_ok "the agent listens in the sandbox"
	sed 's/^/# /' "$work/agent.log"
	exit 1
fi
CLI="$BIN/porthole --connect unix:$sock --timeout 10"

# state_of NAME / pid_of NAME: from porthole --json services
field_of() {
	$CLI --json services 2>/dev/null | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["name"] == sys.argv[1]:
        print(s.get(sys.argv[2]))' "$1" "$2"
}
running() { [ "$(field_of "$1" state)" = running ]; }

# --- services: both listed, with a state init documents
check "services lists both with their states" eval 'wait_for 10 running svc-one &&
	$CLI --json services | python3 -c "
import json, sys
l = {s[\"name\"]: s for s in json.load(sys.stdin)}
states = {\"waiting\", \"starting\", \"running\", \"stopping\", \"backoff\", \"stopped\", \"failed\", \"disabled\"}
assert {\"svc-one\", \"svc-two\"} <= set(l), l.keys()
for n in (\"svc-one\", \"svc-two\"):
    assert l[n][\"state\"] in states, l[n]
assert isinstance(l[\"svc-one\"][\"pid\"], int) and l[\"svc-one\"][\"pid\"] > 1, l[\"svc-one\"]
assert l[\"svc-two\"][\"after\"] == [\"svc-one\"], l[\"svc-two\"]
" && $CLI services | grep -q "^NAME  *STATE  *PID  *SINCE  *RESTARTS  *READY  *MEMORY  *CPU" &&
	$CLI services | grep -q "^svc-one  *running "'

# --- logs: the line svc-one printed, with its stream
check "logs NAME shows what the service printed" \
	wait_for 10 eval '$CLI logs svc-one | grep -q " stdout svc-one says hello, pid [0-9]"'

# --- restart: a new pid
old=$(field_of svc-one pid)
if $CLI restart svc-one >"$work/restart.out" 2>&1; then
	check "restart NAME gives a new pid" wait_for 10 eval '
		new=$(field_of svc-one pid); [ -n "$new" ] && [ "$new" != None ] && [ "$new" != "$old" ] &&
		[ "$(field_of svc-one state)" = running ]'
else
	not_ok "restart NAME gives a new pid"
	sed 's/^/# /' "$work/restart.out"
fi

# --- an unknown name: init's error, exit status 1
out=$($CLI restart no-such-svc 2>&1)
rc=$?
out2=$($CLI logs no-such-svc 2>&1)
rc2=$?
check "an unknown name is init's error" eval '[ $rc = 1 ] && [ $rc2 = 1 ] &&
	[[ "$out" == *"no service named \"no-such-svc\""* ]] && [[ "$out2" == *"no-such-svc"* ]]'

# --- the kernel's log, read by the agent from /dev/kmsg
klines=$($CLI logs kernel -n 5 2>"$work/kernel.err")
n=$(grep -c " kernel " <<<"$klines")
if [ "$n" -ge 1 ] && [ "$n" -le 5 ]; then ok "logs kernel -n 5"; else
	not_ok "logs kernel -n 5 ($n lines)"
	sed 's/^/# /' "$work/kernel.err"
fi

# --- health: init's services, not the agent alone
check "health lists init's services" eval '$CLI --json health | python3 -c "
import json, sys
h = json.load(sys.stdin)
assert \"services_error\" not in h, h.get(\"services_error\")
names = [s[\"name\"] for s in h[\"services\"]]
assert \"svc-one\" in names and \"svc-two\" in names, names
"'

# --- events: the restart above is among init's service events
check "events carry the restart" eval '$CLI --json events | python3 -c "
import json, sys
r = json.load(sys.stdin)
assert \"service_error\" not in r, r.get(\"service_error\")
assert any(e[\"service\"] == \"svc-one\" for e in r[\"service_events\"]), r
"'

# --- boot: init's steps in order, each service once with its restart
# counted, and no kernel (a sandbox's boot clock is the host's)
check "boot: init's steps, the services, no kernel" eval '$CLI --json boot | python3 -c "
import json, sys
r = json.load(sys.stdin)
kinds = [e[\"kind\"] for e in r[\"boot\"]]
assert \"kernel\" not in kinds, kinds
steps = [e[\"name\"] for e in r[\"boot\"] if e[\"kind\"] == \"step\"]
assert steps == [\"early\", \"modules\", \"storage\", \"network\", \"services\"], steps
svc = {e[\"name\"]: e for e in r[\"boot\"] if e[\"kind\"] == \"service\"}
assert svc[\"svc-one\"][\"runs\"] >= 2 and svc[\"svc-one\"][\"end_ns\"] is None, svc
assert svc[\"svc-one\"][\"start_ns\"] <= svc[\"svc-one\"][\"ready_ns\"] <= r[\"now_ns\"], svc
"'

kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
agent_pid=
sandbox_stop TERM
check "init shuts down cleanly" test "$SB_STATUS" = 0
