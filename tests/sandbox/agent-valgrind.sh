#!/bin/bash
# porthole-agent under valgrind's memcheck, on a unix socket on the host:
# its commands, bad input, connections abandoned mid-request, a request over
# the size limit, the commands answered later (guest-exec, a long poll, a
# trim in the worker, init's socket, a shell session), then SIGTERM. Any
# memory error, and any definite or indirect leak at exit, fails (valgrind's
# exit status and its summary); "still reachable" is only reported.
. "$(dirname "$0")/../lib.sh"

AGENT=$BIN/porthole-agent
RAW="python3 $REPO/tests/helpers/rawclient.py"
SHELLC="python3 $REPO/tests/helpers/shellclient.py"
# valgrind's own status for an error or leak: not one the agent exits with
VG_STATUS=99
dir=$(mktemp -d /tmp/porthole-agent-valgrind.XXXXXX)
sock=$dir/agent.sock
agent_pid= pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

if ! command -v valgrind >/dev/null; then
	skip "agent under valgrind" "valgrind is not installed (scripts/deps installs it)"
	exit 0
fi
if [ ! -x "$AGENT" ] || [ ! -x "$BIN/porthole" ]; then
	not_ok "agent under valgrind: $AGENT or $BIN/porthole not built"
	exit 1
fi
# vg_start NAME SOCKET AGENT_OPTION...: the agent under valgrind on SOCKET;
# one log a process, NAME.PID.log: the agent's (valgrind runs it as its own
# pid) and those of the processes it forks (guest-exec's launcher, children
# up to their exec). valgrind makes system calls of its own that an
# allow-list does not know: the agent's filter, where it has one, is off.
seccomp_off=()
if "$AGENT" --help 2>&1 | grep -q -- '--seccomp'; then seccomp_off=(--seccomp off); fi
vg_start() {
	local name=$1 s=$2
	shift 2
	valgrind --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=$VG_STATUS \
		--log-file="$dir/$name.%p.log" "$AGENT" --unix "$s" --no-vsock --no-serial \
		--config /dev/null --cmdline "" --log debug "${seccomp_off[@]}" "$@" \
		2>"$dir/$name.agent.log" &
	agent_pid=$!
	vglog=$dir/$name.$agent_pid.log
	# bounded: valgrind starts a program in seconds, even on a loaded machine
	if wait_for 120 test -S "$s"; then ok "$name: the agent under valgrind listens on its unix socket"; else
		not_ok "$name: the agent under valgrind listens on its unix socket"
		sed 's/^/# /' "$dir/$name.agent.log" "$vglog"
		exit 1
	fi
}

# vg_verdict NAME: SIGTERM, a clean stop, then valgrind's verdict on the
# agent and on what it forked
vg_verdict() {
	local name=$1 status=timeout errors bad
	kill -TERM "$agent_pid"
	if wait_for 120 eval '! kill -0 $agent_pid 2>/dev/null'; then
		wait "$agent_pid"
		status=$?
	fi
	agent_pid=
	echo "# $name: the agent at exit:"
	sed -n '/HEAP SUMMARY/,/ERROR SUMMARY/p' "$vglog" | grep -v '^==[0-9]*== *$' | sed 's/^==[0-9]*== */#   /'
	check "$name: SIGTERM: the agent exits with status 0, not valgrind's $VG_STATUS ($status)" test "$status" = 0
	errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$vglog" | tail -n 1)
	check "$name: valgrind: no memory error in the agent (${errors:-no summary})" test "${errors:-x}" = 0
	bad=$(grep -l 'ERROR SUMMARY: [1-9]' "$dir/$name".*[0-9].log | grep -vxF "$vglog" | tr '\n' ' ')
	check "$name: valgrind: no memory error or leak in the processes it forked (${bad:-none})" test -z "$bad"
	check "$name: valgrind: nothing definitely lost ($(lost definitely) bytes)" test "$(lost definitely)" = 0
	check "$name: valgrind: nothing indirectly lost ($(lost indirectly) bytes)" test "$(lost indirectly)" = 0
	if [ "$status" != 0 ] || [ "${errors:-x}" != 0 ] || [ -n "$bad" ]; then
		echo "# valgrind's logs:"
		# shellcheck disable=SC2086 # one word a file
		sed 's/^/#   /' "$vglog" $bad | head -n 300
		echo "# the agent's log (end):"
		tail -n 30 "$dir/$name.agent.log" | sed 's/^/#   /'
	fi
}
lost() { # lost KIND: bytes of that kind at exit (0 when valgrind prints no summary: all freed)
	local b
	b=$(sed -n "s/.*$1 lost: \([0-9,]*\) bytes.*/\1/p" "$vglog" | tail -n 1)
	echo "${b:-0}" | tr -d ,
}

# --- the agent with guest-exec and porthole-shell (which keep it unfiltered)
vg_start full "$sock" --enable-exec --enable-shell

# (every wait is generous: under valgrind the agent runs tens of times slower)
CLI="$BIN/porthole --connect unix:$sock --timeout 60"
expect() {
	local got
	got=$($RAW "$sock" send "$2" --quiet-ms 3000)
	if [[ "$got" == *"$3"* ]]; then ok "$1"; else not_ok "$1 (got ${got:0:200})"; fi
}

# --- the protocol's framing and errors
expect "guest-ping with an id" '{"execute":"guest-ping","id":"abc"}' '{"return": {}, "id": "abc"}'
expect "two requests in one write" '{"execute":"guest-ping","id":1}{"execute":"guest-ping","id":2}' \
	'"id": 1}\n{"return": {}, "id": 2}'
expect "resync after garbage" '{"execute":"guest-pi\xffgarbage{"execute":"guest-sync-delimited","arguments":{"id":9}}' \
	'\xff{"return": 9}'
expect "malformed JSON, then an answer" '{"execute":}{"execute":"guest-ping","id":2}' \
	'{"return": {}, "id": 2}'
expect "not an object" '[1,2]' 'QMP input must be a JSON object'
expect "unknown command" '{"execute":"guest-nope","id":7}' 'CommandNotFound'
expect "missing argument" '{"execute":"guest-sync"}' 'is missing'
expect "wrong argument type" '{"execute":"guest-sync","arguments":{"id":"x"}}' 'expected: integer'
expect "unexpected argument" '{"execute":"guest-ping","arguments":{"x":1}}' 'is unexpected'
expect "a null argument" '{"execute":"guest-shutdown","arguments":{"mode":null}}' \
	'Invalid parameter type for'

# --- the commands that answer at once
for cmd in guest-info guest-get-time guest-get-osinfo guest-get-host-name guest-get-timezone \
	guest-get-load guest-get-users guest-network-get-interfaces guest-get-fsinfo porthole-health \
	porthole-time porthole-network porthole-mounts; do
	check "$cmd answers" eval "$CLI --json call $cmd >/dev/null"
done
check "guest-set-time: a time before 1970 is refused" eval "! $CLI call guest-set-time '{\"time\": -5}' 2>/dev/null"
check "porthole-dns-set: a bad server is refused" eval "! $CLI dns set 'a$(printf 'é%.0s' {1..300})' 2>/dev/null"
out=$($CLI call "$(printf '€%.0s' {1..200})" 2>&1)
check "an error text cut to fit (200 euro signs)" grep -q CommandNotFound <<<"$out"

# --- the commands answered later: init's control socket (not there on this
# host: an error, through the same path), guest-exec and its status, a trim
# in the worker, a long poll, a shell session
out=$($CLI call porthole-services 2>&1)
check "porthole-services without init: an error ($out)" test -n "$out"
out=$($CLI exec /bin/sh -c 'echo out; echo err >&2; exit 3' 2>&1)
rc=$?
check "guest-exec: output and status ($rc)" eval '[ $rc = 3 ] && grep -q out <<<"$out" && grep -q err <<<"$out"'
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	# a tmpfs has no discard: the worker's answer is an error, and nothing of the host is trimmed
	out=$($CLI call porthole-trim '{"path": "/dev/shm"}' 2>&1)
	check "porthole-trim in the worker: tmpfs says not supported ($out)" grep -q "not supported" <<<"$out"
else
	skip "porthole-trim in the worker" "/dev/shm is not a tmpfs here: a trim would reach this host's disk"
fi
out=$(echo 'echo "in a session"; exit 4' | timeout 120 $CLI exec -t -- sh 2>&1)
rc=$?
check "a shell session (exec -t): its output and status ($rc)" eval '[ $rc = 4 ] && grep -q "in a session" <<<"$out"'
pid=$(timeout 120 $SHELLC "$sock" hangup "$dir/pid")
check "a session whose host hangs up: its command ($pid) ends" wait_for 60 eval '! kill -0 "$pid" 2>/dev/null'
ev=$($CLI --json call porthole-events '{"since": 0, "timeout_ms": 0}' 2>&1)
check "porthole-events answers at once with timeout_ms 0" grep -q '"events"' <<<"$ev"

# --- abandoned: a long poll, a guest-exec whose status nobody asks, half
# requests, a session, and clients that never read
timeout 60 python3 -c '
import socket, sys
for req in (b"{\"execute\":\"porthole-events\",\"arguments\":{\"since\":1000,\"timeout_ms\":60000}}",
            b"{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/sh\",\"arg\":[\"-c\",\"echo x\"],\"capture-output\":true}}",
            b"{\"execute\":\"porthole-shell\",\"arguments\":{\"argv\":[\"sh\"]}}",
            b"{\"execute\":\"guest-in"):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(req); s.close()
' "$sock"
out=$($RAW "$sock" clients 300)
check "300 clients, some gone mid-request, some never reading ($out)" grep -q "done 300" <<<"$out"
n=$(timeout 120 $RAW "$sock" pipeline 50)
check "50 pipelined requests in one write: 50 replies ($n)" test "$n" = 50

# --- over the size limit: an error, the input dropped, the connection usable
big=$($RAW "$sock" send "{\"execute\":\"$(head -c 70000 /dev/zero | tr '\0' x)\"}{\"execute\":\"guest-ping\"}" --quiet-ms 3000)
if [[ "$big" == *"longer than 65536 bytes"*'{"return": {}}'* ]]; then
	ok "request over 64 KiB: error, then the next request answered"
else
	not_ok "request over 64 KiB: error, then the next request answered (got ${big:0:200})"
fi

# --- a long poll still owed at SIGTERM
timeout 120 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(100)
s.sendall(b"{\"execute\":\"porthole-events\",\"arguments\":{\"since\":1000,\"timeout_ms\":60000},\"id\":7}")
open(sys.argv[2], "w").write("sent")
buf = b""
while True:
    d = s.recv(4096)
    if not d: break
    buf += d
print(buf.decode(errors="replace"))' "$sock" "$dir/poll.ready" >"$dir/poll.out" 2>&1 &
pids+=($!)
wait_for 60 test -e "$dir/poll.ready"
sleep 1
check "the agent is still running" kill -0 "$agent_pid"

# --- SIGTERM: a clean stop, then valgrind's verdict
vg_verdict full
wait "${pids[@]}" 2>/dev/null
check "the long poll owed at SIGTERM was answered" grep -q '"id": 7' "$dir/poll.out"

# --- guest-exec alone: the agent trimmed, its commands spawned by the
# launcher it forks (agent/launcher.c), which valgrind follows too
vg_start exec "$dir/exec.sock" --enable-exec
CLI="$BIN/porthole --connect unix:$dir/exec.sock --timeout 60"
for i in 1 2 3; do
	out=$($CLI exec /bin/sh -c "echo run $i; exit $i" 2>&1)
	rc=$?
	check "exec $i through the launcher: output and status ($rc)" eval '[ $rc = $i ] && grep -q "run $i" <<<"$out"'
done
out=$($CLI --json call guest-exec '{"path": "/bin/cat", "input-data": "aW5wdXQK", "capture-output": true}' 2>&1)
check "exec with input through the launcher, its status never asked ($out)" grep -q '"pid"' <<<"$out"
timeout 60 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/sleep\",\"arg\":[\"1\"],\"capture-output\":true}}")
s.close()' "$dir/exec.sock"
check "the agent with guest-exec alone is still running" kill -0 "$agent_pid"
vg_verdict exec
