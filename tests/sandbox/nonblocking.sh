#!/bin/bash
# The agent's loop never blocks: porthole-agent on a unix socket on the host,
# its init control socket a listener that takes connections and never
# answers (a hung init). While one client's porthole-services waits the 2 s
# the agent gives init, and while a porthole-service-restart does too,
# another client's guest-pings are answered, all of them before the slow
# reply, which comes afterwards with init's time-out. The pings' latencies
# are printed as figures (no threshold: the assertion is the order).
# Then 40 slow requests at once: the agent's workers take 32, the rest are
# refused with a reply that says why, and pings are still answered. Last,
# guest-shutdown: a ping is answered while it waits for init; and the agent
# stopped with a command outstanding exits at once.
. "$(dirname "$0")/../lib.sh"

AGENT=$BIN/porthole-agent
dir=$(mktemp -d /tmp/porthole-nonblocking.XXXXXX)
sock=$dir/agent.sock
initsock=$dir/init.sock
agent_pid=
hung_pid=
cleanup() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	[ -n "$hung_pid" ] && kill "$hung_pid" 2>/dev/null && wait "$hung_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

if [ ! -x "$AGENT" ]; then
	not_ok "agent: $AGENT not built"
	exit 1
fi

# A hung init: listens (so connect succeeds), accepts, never reads or
# answers. Up to 64 connections are held open.
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(64)
held = []
s.settimeout(1)
end = time.monotonic() + 600
while time.monotonic() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
' "$initsock" &
hung_pid=$!
if ! wait_for 10 test -S "$initsock"; then
	not_ok "a hung init's socket listens"
	exit 1
fi

"$AGENT" --unix "$sock" --no-vsock --no-serial --config /dev/null --cmdline "" \
	--init-socket "$initsock" --log debug 2>"$dir/agent.log" &
agent_pid=$!
if wait_for 10 test -S "$sock"; then ok "agent listens on its unix socket"; else
	not_ok "agent listens on its unix socket"
	sed 's/^/#   /' "$dir/agent.log"
	exit 1
fi

# probe REQUEST: REQUEST on one connection, pings on another
# (tests/helpers/pingprobe.py); 60 s without the slow reply is a hang.
probe() {
	timeout 90 python3 "$REPO/tests/helpers/pingprobe.py" "unix:$sock" "unix:$sock" "$1" --timeout 60
}

# porthole-health, porthole-events (with service_after) and porthole-boot ask init too:
# their answers then say init did not answer, and why
for req in porthole-services porthole-service-restart porthole-health porthole-events porthole-boot; do
	args='{}'
	[ "$req" = porthole-service-restart ] && args='{"name": "dockerd"}'
	[ "$req" = porthole-events ] && args='{"service_after": 0}'
	if ! out=$(probe "{\"execute\": \"$req\", \"arguments\": $args}" 2>&1); then
		not_ok "$req to a hung init: the probe ran ($out)"
		continue
	fi
	read -r before after median p99 max slow_s <<<"$(head -n 1 <<<"$out")"
	reply=$(tail -n 1 <<<"$out")
	echo "# $req: $before pings answered while it waited ${slow_s} s for init, $after after; ping latency median $median ms, p99 $p99 ms, max $max ms"
	check "$req: pings are answered while it waits for a hung init ($before of them)" \
		test "$before" -ge 10
	check "$req: its reply comes afterwards, init's time-out" \
		grep -q "no answer within 2000 ms" <<<"$reply"
done

# 40 slow requests at once, each on a connection of its own: 32 are taken,
# the others refused at once, saying why; pings go on meanwhile.
out=$(timeout 60 python3 -c '
import json, socket, sys, time
path = sys.argv[1]
conns = []
for i in range(40):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b"{\"execute\": \"porthole-services\"}")
    conns.append(s)
ping = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ping.connect(path)
ping.settimeout(10)
ping.sendall(b"{\"execute\": \"guest-ping\"}")
pinged = ping.recv(4096)
busy = timedout = other = 0
for s in conns:
    s.settimeout(30)
    buf = b""
    while b"\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    t = buf.decode()
    if "the agent is busy" in t:
        busy += 1
    elif "no answer within 2000 ms" in t:
        timedout += 1
    else:
        other += 1
        print("other:", t, file=sys.stderr)
print(busy, timedout, other, json.loads(pinged) == {"return": {}})
' "$sock" 2>&1)
read -r busy timedout other pinged <<<"$(tail -n 1 <<<"$out")"
echo "# 40 slow requests at once: $timedout waited for init, $busy refused as busy, $other otherwise"
check "40 slow requests at once: 32 taken, 8 refused as busy ($out)" \
	test "$busy" = 8 -a "$timedout" = 32 -a "$other" = 0
check "...and a ping among them is answered" test "$pinged" = True
check "the agent survived it all" kill -0 "$agent_pid"

# guest-shutdown asks init from a worker: while it waits for the hung init,
# a ping is answered (before the agent has given up on init); then the
# agent, whose PID 1 here is not porthole-init, signals nothing and stops.
out=$(timeout 30 python3 -c '
import socket, sys
path = sys.argv[1]
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
a.connect(path)
b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
b.connect(path)
b.settimeout(20)
a.sendall(b"{\"execute\": \"guest-shutdown\"}")
# the shutdown is acted on at the loop turn after its request: a sync
# behind it on the same connection says that turn has come
a.sendall(b"{\"execute\": \"guest-sync\", \"arguments\": {\"id\": 5}}")
a.settimeout(20)
print(a.recv(4096).decode().strip())
b.sendall(b"{\"execute\": \"guest-ping\"}")
print(b.recv(4096).decode().strip())
' "$sock" 2>&1)
gave_up_yet=$(grep -c "signalling init instead" "$dir/agent.log")
check "guest-shutdown waiting on a hung init: a ping is answered meanwhile ($(tr '\n' ' ' <<<"$out"))" \
	grep -q '^{"return": {}}$' <<<"$out"
check "...before the agent gave up on init (its log: $gave_up_yet lines saying so)" test "$gave_up_yet" = 0
agent_gone() { ! kill -0 "$agent_pid" 2>/dev/null; }
if wait_for 20 agent_gone; then
	wait "$agent_pid"
	rc=$?
	agent_pid=
	check "then the agent gives up on init and stops (status $rc)" \
		grep -q "no answer within 2000 ms; signalling init instead" "$dir/agent.log"
else
	not_ok "then the agent gives up on init and stops"
fi

# The agent stopped (SIGTERM, as init stops it) while a command waits on a
# worker for the hung init: it exits without waiting for that command.
"$AGENT" --unix "$sock" --no-vsock --no-serial --config /dev/null --cmdline "" \
	--init-socket "$initsock" --log debug 2>"$dir/agent2.log" &
agent_pid=$!
if ! wait_for 10 test -S "$sock"; then
	not_ok "the agent listens again"
	exit 1
fi
out=$(timeout 60 python3 -c '
import os, signal, socket, sys, time
path, pid = sys.argv[1], int(sys.argv[2])
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
a.connect(path)
a.sendall(b"{\"execute\": \"porthole-services\"}")
# a ping on the same connection is read only once the slow reply is sent:
# one on another connection, answered, says the loop has turned
b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
b.connect(path)
b.settimeout(10)
b.sendall(b"{\"execute\": \"guest-ping\"}")
b.recv(4096)
t = time.monotonic()
os.kill(pid, signal.SIGTERM)
a.settimeout(30)
try:
    got = a.recv(4096)
except OSError:
    got = b""
print("%.3f" % (time.monotonic() - t), "reply" if got else "closed")
' "$sock" "$agent_pid" 2>&1)
if wait_for 20 agent_gone; then
	wait "$agent_pid"
	rc=$?
	agent_pid=
	echo "# SIGTERM with porthole-services waiting on a hung init: its connection ended ${out% *} s later (${out#* })"
	check "SIGTERM with a command waiting on a worker: the agent exits (status $rc)" test "$rc" = 0
	check "...without answering that command later ($out)" grep -q closed <<<"$out"
else
	not_ok "SIGTERM with a command waiting on a worker: the agent exits"
fi
