#!/bin/bash
# porthole forward ports and porthole-relay on this host. The "guest" is a
# network namespace of its own, where porthole-relay (--vsock-port 0
# --listen-unix) and the servers run; the forward, in the host's namespace,
# reaches them only through the relay's unix socket (--relay unix:PATH: the
# relay's protocol itself, without the vsock hop the VM tier has). Fixed
# ports (--port): a page from python3 -m http.server over 127.0.0.1 and ::1,
# 1 MiB each way with half-close, UDP echo with the datagram boundaries kept
# (empty and 65000-byte datagrams), peers kept apart, a peer's flow ended when
# idle (--udp-idle) and the oldest when there are too many, a guest port where
# nothing listens (the client's connection closed, the reason said), a host
# port another program has (said, not fatal), forward docker refused by the
# relay, SIGTERM. Then, when the agent has porthole-ports, the guest's ports
# followed: a server that stops is stopped on the host (the agent, in a
# namespace without the proc connector, notices within its 30 s backstop),
# and the forwards end once the agent has been away 10 s.
. "$(dirname "$0")/../lib.sh"
need_root "forward"

RELAY=$BIN/porthole-relay
PORTHOLE=$BIN/porthole
AGENT=$BIN/porthole-agent
PEER="python3 $REPO/tests/helpers/forward-peer.py"
G=$(mktemp -d /tmp/porthole-forward.XXXXXX)
pids=()
relay_pid= fwd_pid=
cleanup() {
	local p
	for p in "${pids[@]}" $fwd_pid $relay_pid; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}" $fwd_pid $relay_pid; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$G"
}
trap cleanup EXIT

if [ ! -x "$RELAY" ] || [ ! -x "$PORTHOLE" ]; then
	not_ok "forward: $RELAY or $PORTHOLE not built"
	exit 1
fi
if ! unshare --net true 2>/dev/null; then
	skip "forward" "this machine gives no network namespace (unshare --net)"
	exit 0
fi

# Ports free on the host's loopback; the guest's namespace has its own.
for _ in 1 2 3 4 5; do
	base=$((20000 + RANDOM % 30000))
	P_HTTP=$base P_HALF=$((base + 1)) P_UDP=$((base + 2)) P_BUSY=$((base + 3)) P_NONE=$((base + 4))
	free=yes
	for p in $P_HTTP $P_HALF $P_BUSY $P_NONE; do
		[ "$($PEER bindable 127.0.0.1 $p)" = yes ] || free=no
	done
	[ $free = yes ] && break
done
v6=no
[ "$($PEER bindable ::1 0)" = yes ] && v6=yes
echo "# ports: http $P_HTTP, half-close $P_HALF, udp $P_UDP, busy $P_BUSY, none $P_NONE; ::1 on the host: $v6"

# --- the guest: a network namespace with the relay, then its servers
unshare --net sh -c 'ip link set lo up && exec "$@"' sh \
	"$RELAY" --vsock-port 0 --listen-unix "$G/relay.sock" --log-level debug 2>"$G/relay.log" &
relay_pid=$!
if wait_for 10 test -S "$G/relay.sock"; then ok "porthole-relay --vsock-port 0 --listen-unix, in a namespace of its own"; else
	not_ok "porthole-relay --vsock-port 0 --listen-unix, in a namespace of its own"
	sed 's/^/# /' "$G/relay.log"
	exit 1
fi
# (nsenter -n execs the command: $! is the server's own pid)
in_guest() { nsenter -t "$relay_pid" -n -- "$@"; }
mkdir "$G/www"
echo "a page from the guest" >"$G/www/index.html"
nsenter -t "$relay_pid" -n -- python3 -m http.server --bind 127.0.0.1 --directory "$G/www" $P_HTTP >"$G/http.log" 2>&1 &
http_pid=$!
pids+=($http_pid)
nsenter -t "$relay_pid" -n -- $PEER serve-halfclose 127.0.0.1 $P_HALF &
pids+=($!)
nsenter -t "$relay_pid" -n -- $PEER serve-halfclose 127.0.0.1 $P_BUSY &
pids+=($!)
nsenter -t "$relay_pid" -n -- $PEER serve-udp-echo 127.0.0.1 $P_UDP &
pids+=($!)
guest_ready() { [ "$(in_guest $PEER http 127.0.0.1 $P_HTTP /index.html)" = "a page from the guest" ] &&
	[[ $(in_guest $PEER udp 127.0.0.1 $P_UDP 1) == ok* ]]; }
if ! wait_for 20 guest_ready; then
	not_ok "the guest's servers answer in its namespace"
	exit 1
fi
check "the host's loopback does not reach the guest's servers but through the forward" \
	eval '[[ $($PEER http 127.0.0.1 $P_HTTP /index.html) == error* ]]'

# --- fixed ports: a host program has 127.0.0.1:P_BUSY
$PEER serve-tcp 127.0.0.1 $P_BUSY &
busy_pid=$!
pids+=($busy_pid)
wait_for 10 eval '[ "$($PEER listening 127.0.0.1 $P_BUSY)" = yes ]'
: >"$G/fwd.out"
"$PORTHOLE" forward ports --relay "unix:$G/relay.sock" --port $P_HTTP --port tcp:$P_HALF \
	--port udp:$P_UDP --port $P_BUSY --port tcp:$P_NONE --udp-idle 2 >"$G/fwd.out" 2>"$G/fwd.err" &
fwd_pid=$!
check "forward ports --port: says what it forwards, and where" \
	wait_for 10 grep -q "^porthole: forwarding 5 fixed port(s) through unix:$G/relay.sock, on 127.0.0.1, ::1" "$G/fwd.out"
for want in "tcp $P_HTTP -> guest 127.0.0.1:$P_HTTP" "tcp $P_HALF -> guest 127.0.0.1:$P_HALF" \
	"udp $P_UDP -> guest 127.0.0.1:$P_UDP" "tcp $P_NONE -> guest 127.0.0.1:$P_NONE"; do
	check "one line per forward: $want" wait_for 10 grep -qx "porthole: forward: $want" "$G/fwd.out"
done
check "a host port in use is said, with the reason ($(grep " $P_BUSY " "$G/fwd.err"))" \
	grep -qx "porthole: forward: tcp $P_BUSY on 127.0.0.1: Address already in use (another program on the host has it)" "$G/fwd.err"
check "...and is not fatal" kill -0 $fwd_pid
# once serving, under its seccomp filter (host/forward-seccomp.c); what it
# refuses is the unit test's (test-host-forward-seccomp)
check "forward ports serves under a seccomp filter ($(grep -E '^(Seccomp|NoNewPrivs):' /proc/$fwd_pid/status | tr '\n\t' '  '))" \
	wait_for 10 eval 'grep -qx "Seccomp:[[:space:]]*2" /proc/$fwd_pid/status && grep -qx "NoNewPrivs:[[:space:]]*1" /proc/$fwd_pid/status'

out=$($PEER http 127.0.0.1 $P_HTTP /index.html)
check "tcp over 127.0.0.1: python3 -m http.server's page ($out)" test "$out" = "a page from the guest"
out=$($PEER halfclose 127.0.0.1 $P_HALF 1048576)
check "tcp: 1 MiB, then half-close: the EOF reaches the guest, its answer and EOF come back ($out)" \
	test "$out" = "ok 1048576 bytes there, the digest back"
out=$($PEER udp 127.0.0.1 $P_UDP 5 0 1400 65000 1)
check "udp over 127.0.0.1: datagrams of 5, 0, 1400, 65000 and 1 bytes, each its own echo ($out)" \
	test "$out" = "ok 5 datagrams, each its own echo"
out=$($PEER udp-peers 127.0.0.1 $P_UDP 8)
check "udp: 8 peers at once, each answered its own ($out)" test "$out" = "ok 8 peers, each answered its own"
check "udp: a peer's flow (its relay connection) ends after --udp-idle 2 s without a datagram" \
	wait_for 10 grep -q "unix client: 1 datagrams to the target, 1 back, 0 dropped" "$G/relay.log"
out=$($PEER udp-seq 127.0.0.1 $P_UDP 140)
check "udp: 140 peers in turn, each answered ($out)" test "$out" = "ok 140 peers in turn, each answered its own"
check "...the 129th closing the least recently used flow, said once" \
	eval '[ "$(grep -c "UDP flows: each new one closes the least recently used" "$G/fwd.out")" = 1 ]'
if [ $v6 = yes ]; then
	out=$($PEER http ::1 $P_HTTP /index.html)
	check "tcp over ::1 to the guest's 127.0.0.1 ($out)" test "$out" = "a page from the guest"
	out=$($PEER udp ::1 $P_UDP 3 1000)
	check "udp over ::1 ($out)" test "$out" = "ok 2 datagrams, each its own echo"
	out=$($PEER halfclose ::1 $P_BUSY 1000)
	check "the busy port is served on ::1, which was free ($out)" test "$out" = "ok 1000 bytes there, the digest back"
	check "...and announced" grep -qx "porthole: forward: tcp $P_BUSY -> guest 127.0.0.1:$P_BUSY" "$G/fwd.out"
else
	skip "tcp and udp over ::1" "the host has no IPv6 loopback"
fi
out=$($PEER closed 127.0.0.1 $P_NONE)
check "a guest port where nothing listens: the host's connection is closed ($out)" test "$out" = closed
check "...and the relay's reason said ($(grep "tcp $P_NONE:" "$G/fwd.err"))" \
	wait_for 10 grep -q "porthole: forward: tcp $P_NONE: unix:$G/relay.sock: the relay answered \"ERR Connection refused\"" "$G/fwd.err"
check "udp still answered after all that" eval '[[ $($PEER udp 127.0.0.1 $P_UDP 10) == ok* ]]'
kill $fwd_pid
wait $fwd_pid
rc=$?
fwd_pid=
check "SIGTERM ends it (status $rc), with its counts" \
	eval '[ $rc = 0 ] && grep -q "^porthole: forward: stopped: [0-9]* TCP connections served, 1 failed, [0-9]* UDP flows" "$G/fwd.err"'
out=$($PEER bindable 127.0.0.1 $P_HTTP)
check "...and its ports are the host's again ($out)" test "$out" = yes
kill $busy_pid

# --- forward docker through the same relay, which serves no unix socket
: >"$G/docker.err"
"$PORTHOLE" forward docker --relay "unix:$G/relay.sock" --socket "$G/docker.sock" >"$G/docker.out" 2>"$G/docker.err" &
fwd_pid=$!
wait_for 10 test -S "$G/docker.sock"
out=$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
# the forward may close it before the request is written: EPIPE says so too
try:
    s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
    print("closed" if s.recv(100) == b"" else "data")
except (BrokenPipeError, ConnectionResetError):
    print("closed")
' "$G/docker.sock" 2>&1)
check "forward docker: a connection the relay refuses is closed ($out)" test "$out" = closed
check "forward docker serves under its seccomp filter" \
	wait_for 10 grep -qx "Seccomp:[[:space:]]*2" /proc/$fwd_pid/status
check "...and the reason said" \
	wait_for 10 grep -q "unix:/run/docker.sock through unix:$G/relay.sock: the relay answered \"ERR that unix socket is not one the relay serves (--allow-unix)\"" "$G/docker.err"
kill $fwd_pid
wait $fwd_pid
fwd_pid=
check "forward docker: SIGTERM ends it, its socket gone" \
	eval '[ ! -e "$G/docker.sock" ] && grep -q "stopped: 0 connections served, 1 failed" "$G/docker.err"'

# --- the guest's ports followed, with the agent's porthole-ports
if [ ! -x "$AGENT" ]; then
	skip "forward ports following the agent" "$AGENT not built"
	exit 0
fi
nsenter -t "$relay_pid" -n -- "$AGENT" --unix "$G/agent.sock" --no-vsock --no-serial --config /dev/null --cmdline "" \
	2>"$G/agent.log" &
agent_pid=$!
pids+=($agent_pid)
wait_for 10 test -S "$G/agent.sock"
out=$("$PORTHOLE" --connect "unix:$G/agent.sock" call porthole-ports 2>&1)
if grep -q CommandNotFound <<<"$out"; then
	skip "forward ports following the agent" "this agent has no porthole-ports"
	exit 0
fi
: >"$G/fwd.out"
: >"$G/fwd.err"
"$PORTHOLE" --connect "unix:$G/agent.sock" forward ports --relay "unix:$G/relay.sock" \
	>"$G/fwd.out" 2>"$G/fwd.err" &
fwd_pid=$!
check "forward ports: follows the guest's ports through the agent" \
	wait_for 10 grep -qx "porthole: forward: following the guest's ports through unix:$G/agent.sock" "$G/fwd.out"
for want in "tcp $P_HTTP -> guest 127.0.0.1:$P_HTTP" "tcp $P_HALF -> guest 127.0.0.1:$P_HALF" \
	"udp $P_UDP -> guest 127.0.0.1:$P_UDP"; do
	check "the guest's listener forwarded: $want" wait_for 10 grep -qx "porthole: forward: $want" "$G/fwd.out"
done
check "...and only those: the relay's and the agent's are unix sockets" \
	test "$(grep -c " -> guest " "$G/fwd.out")" = 4
out=$($PEER http 127.0.0.1 $P_HTTP /index.html)
check "the page through it ($out)" test "$out" = "a page from the guest"
out=$($PEER udp 127.0.0.1 $P_UDP 7 700)
check "udp through it ($out)" test "$out" = "ok 2 datagrams, each its own echo"
kill $http_pid
check "the guest's server stops: its port stops on the host (within the agent's 30 s backstop)" \
	wait_for 40 grep -qx "porthole: forward: tcp $P_HTTP -> guest 127.0.0.1:$P_HTTP stopped" "$G/fwd.out"
out=$($PEER bindable 127.0.0.1 $P_HTTP)
check "...and is the host's again ($out)" test "$out" = yes
kill $agent_pid
check "the agent gone: said, and retried" \
	wait_for 10 grep -q "porthole: forward: the agent at unix:$G/agent.sock: .*; trying again (every 10 s at most)" "$G/fwd.err"
check "...and after 10 s away, its ports are forwarded no more" \
	wait_for 20 grep -qx "porthole: forward: udp $P_UDP -> guest 127.0.0.1:$P_UDP stopped" "$G/fwd.out"
out=$($PEER bindable 127.0.0.1 $P_HALF)
check "...the host's again ($out)" test "$out" = yes
kill $fwd_pid
wait $fwd_pid
rc=$?
fwd_pid=
check "SIGTERM while the agent is away: status 0 ($rc)" test $rc = 0

# The relay's own bound on connections: with --max-connections 2, two
# clients still sending their line hold both places; a third is told why
# and closed, and a place freed is taken again
"$RELAY" --vsock-port 0 --listen-unix "$G/relay2.sock" --max-connections 2 2>"$G/relay2.log" &
relay2_pid=$!
wait_for 10 test -S "$G/relay2.sock"
out=$(python3 - "$G/relay2.sock" <<'PY'
import socket, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    return s
a, b = conn(), conn()
time.sleep(0.3)
c = conn()
third = c.recv(100).decode().strip()
a.close()
time.sleep(0.3)
d = conn()
d.sendall(b"HELLO\n")
fourth = d.recv(100).decode().strip()
print(f"{third}|{fourth}")
PY
)
check "relay --max-connections 2: the third is refused, saying why ($out)" \
	eval '[ "${out%%|*}" = "ERR too many connections" ]'
check "...and a place freed is served again (its line answered: ${out#*|})" \
	eval '[[ ${out#*|} == "ERR expected"* ]]'
kill "$relay2_pid"
wait "$relay2_pid" 2>/dev/null
