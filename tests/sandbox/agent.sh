#!/bin/bash
# porthole-agent on a unix socket on the host: the protocol's framing,
# resync and errors byte for byte, bad input, every command, and 10,000
# clients that misbehave.
. "$(dirname "$0")/../lib.sh"

AGENT=$BIN/porthole-agent
RAW="python3 $REPO/tests/helpers/rawclient.py"
dir=$(mktemp -d /tmp/porthole-agent-test.XXXXXX)
sock=$dir/agent.sock
agent_pid=
cleanup() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

if [ ! -x "$AGENT" ]; then
	not_ok "agent: $AGENT not built"
	exit 1
fi
"$AGENT" --unix "$sock" --no-vsock --no-serial --config /dev/null --cmdline "" \
	--enable-exec --log debug 2>"$dir/agent.log" &
agent_pid=$!
if wait_for 10 test -S "$sock"; then ok "agent listens on its unix socket"; else
	not_ok "agent listens on its unix socket"; cat "$dir/agent.log"; exit 1; fi

# expect NAME BYTES REPLY: the reply's repr() is exactly REPLY
expect() {
	local got
	got=$($RAW "$sock" send "$2")
	if [ "$got" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   sent:     $2"; echo "#   expected: $3"; echo "#   got:      $got"; fi
}
expect "guest-ping" '{"execute":"guest-ping"}' "b'{\"return\": {}}\\n'"
expect "id echoed, last" '{"execute":"guest-ping","id":"abc"}' "b'{\"return\": {}, \"id\": \"abc\"}\\n'"
expect "two requests in one write" '{"execute":"guest-ping","id":1}{"execute":"guest-ping","id":2}' \
	"b'{\"return\": {}, \"id\": 1}\\n{\"return\": {}, \"id\": 2}\\n'"
expect "newlines inside a request" '{"execute":\n"guest-ping",\n"id":\n4}' "b'{\"return\": {}, \"id\": 4}\\n'"
expect "a brace inside a string" '{"execute":"guest-ping","id":"}"}' "b'{\"return\": {}, \"id\": \"}\"}\\n'"
expect "guest-sync-delimited: 0xFF before the reply" \
	'{"execute":"guest-sync-delimited","arguments":{"id":123}}' "b'\\xff{\"return\": 123}\\n'"
expect "resync after garbage and a half request" \
	'{"execute":"guest-pi\xffgarbage{"execute":"guest-sync-delimited","arguments":{"id":9}}' \
	"b'{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray \\'\\\\uFFFD\\'\"}}\\n\\xff{\"return\": 9}\\n'"
expect "malformed JSON: error, then the next request answered" \
	'{"execute":}{"execute":"guest-ping","id":2}' \
	"b'{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, unexpected token near \\'}\\'\"}}\\n{\"return\": {}, \"id\": 2}\\n'"
expect "not an object" '[1,2]' "b'{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input must be a JSON object\"}}\\n'"
expect "unknown command, with its id" '{"execute":"guest-nope","id":7}' \
	"b'{\"id\": 7, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command guest-nope has not been found\"}}\\n'"
expect "missing argument" '{"execute":"guest-sync"}' \
	"b'{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter \\'id\\' is missing\"}}\\n'"
expect "wrong argument type" '{"execute":"guest-sync","arguments":{"id":"x"}}' \
	"b'{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for \\'id\\', expected: integer\"}}\\n'"
expect "unexpected argument" '{"execute":"guest-ping","arguments":{"x":1}}' \
	"b'{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter \\'x\\' is unexpected\"}}\\n'"

# --- every command, through the CLI (the result shapes are checked by the
# unit tests against qemu-ga's schema)
CLI="$BIN/porthole --connect unix:$sock --timeout 20"
for cmd in guest-info guest-get-time guest-get-osinfo guest-get-host-name guest-get-timezone \
	guest-get-load guest-get-users guest-network-get-interfaces guest-get-fsinfo porthole-health \
	porthole-memory; do
	check "$cmd answers" eval "$CLI --json call $cmd >/dev/null"
done
# an agent on a host (PID 1 is not porthole-init) leaves the host's memory alone
out=$($CLI call porthole-memory-reclaim '{"full": true}' 2>&1)
check "porthole-memory-reclaim: refused outside its VM ($out)" grep -q "not in its VM" <<<"$out"
check "porthole-memory: no idle reclaim outside its VM" \
	eval "$CLI --json call porthole-memory | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"reclaim\"][\"auto\"] is not False)'"
check "guest-set-time: a time before 1970 is refused" eval "! $CLI call guest-set-time '{\"time\": -5}' 2>/dev/null"
check "guest-shutdown: a bad mode is refused" eval "! $CLI call guest-shutdown '{\"mode\": \"sideways\"}' 2>/dev/null"
# hostile and careless arguments: a null, a text cut inside a character
out=$($CLI call guest-shutdown '{"mode": null}' 2>&1)
check "a null argument is a type error ($out)" grep -q "Invalid parameter type for 'mode', expected: string" <<<"$out"
out=$($CLI call porthole-time-adjust '{"offset_ns": 0, "mode": null}' 2>&1)
check "a null argument is a type error, every command" grep -q "Invalid parameter type for 'mode'" <<<"$out"
check "the agent survived them" kill -0 "$agent_pid"
out=$($CLI call "$(python3 -c 'print("\u20ac" * 200)')" 2>&1)
check "an error text cut to fit is still sent (200 euro signs)" grep -q "CommandNotFound" <<<"$out"
out=$($CLI dns set "a$(python3 -c 'print("\u00e9" * 300)')" 2>&1)
check "a quoted argument cut to fit is still sent" grep -q "Invalid name server" <<<"$out"
check "...and cut between characters" eval '! grep -q $'"'"'\xef\xbf\xbd'"'"' <<<"$out"'
# 200 requests in one write: 200 replies, whatever fills the output meanwhile
n=$(timeout 30 $RAW "$sock" pipeline 200)
check "200 pipelined requests in one write: 200 replies (got $n)" test "$n" = 200
out=$($CLI exec /bin/sh -c 'echo out; echo err >&2; exit 3' 2>&1)
rc=$?
check "guest-exec: output captured and exit status passed on" eval '[ $rc = 3 ] && grep -q out <<<"$out" && grep -q err <<<"$out"'
skip "guest-fstrim" "it would trim this host's file systems; the vm tier runs it in the guest"

# --- over the size limit: an error, the input dropped, the connection usable
big=$($RAW "$sock" send "{\"execute\":\"$(head -c 70000 /dev/zero | tr '\0' x)\"}{\"execute\":\"guest-ping\"}")
if [[ "$big" == *"longer than 65536 bytes"*'{"return": {}}'* ]]; then
	ok "request over 64 KiB: error, then the next request answered"
else
	not_ok "request over 64 KiB: error, then the next request answered (got ${big:0:200})"
fi

rss() { awk '/^VmRSS/ { print $2 }' /proc/"$agent_pid"/status; }
fds() { ls /proc/"$agent_pid"/fd | wc -l; }
echo "# idle: $(rss) KiB RSS, $(fds) fds"
flood=$($RAW "$sock" flood 10)
check "10 MB of malformed input, then resync: answered" test "$flood" = "b'\\xff{\"return\": 4242}\\n'"
r=$(rss)
echo "# after 10 MB of malformed input: $r KiB RSS (qemu-ga 7.2: about 200 MB)"
if under_san; then
	skip "10 MB of malformed input: RSS stays under 8 MB ($r KiB)" "ASan's memory, not the agent's"
else
	check "10 MB of malformed input: RSS stays under 8 MB ($r KiB)" test "$r" -lt 8192
fi

# --- 10,000 clients: silent, half a request and gone, never reading replies
# the first batch warms the allocator up; the second must leave nothing behind
$RAW "$sock" clients 10000 >/dev/null
sleep 0.5
fd0=$(fds) rss0=$(rss)
out=$($RAW "$sock" clients 10000)
echo "# $out"
sleep 1
fd1=$(fds) rss1=$(rss)
echo "# after 10,000 clients: fds $fd0 -> $fd1, RSS $rss0 -> $rss1 KiB"
check "10,000 misbehaving clients: no fd left behind" test "$fd1" -le "$fd0"
if under_san; then
	skip "10,000 misbehaving clients: memory does not grow (within 1 MiB)" "ASan's quarantine holds what was freed"
else
	check "10,000 misbehaving clients: memory does not grow (within 1 MiB)" test "$rss1" -le $((rss0 + 1024))
fi
expect "after 10,000 clients: still answering" '{"execute":"guest-ping"}' "b'{\"return\": {}}\\n'"

# --- a client that never reads does not hold up another
python3 - "$sock" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.setblocking(False)
try:
    for _ in range(20000):
        s.send(b'{"execute":"guest-info"}')
except BlockingIOError:
    pass
time.sleep(3)
PY
hog=$!
sleep 0.5
expect "a client that never reads its replies does not block another" '{"execute":"guest-ping","id":"other"}' \
	"b'{\"return\": {}, \"id\": \"other\"}\\n'"
kill $hog 2>/dev/null; wait $hog 2>/dev/null
check "the agent is still running" kill -0 "$agent_pid"

# --- a silent client is closed after the idle time-out (here 1 s; the agent
# looks every 5 s)
"$AGENT" --unix "$dir/idle.sock" --no-vsock --no-serial --config /dev/null --cmdline "" \
	--idle-timeout 1 2>"$dir/idle.log" &
idle_pid=$!
wait_for 10 test -S "$dir/idle.sock"
closed=$(timeout 30 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(25)
t = time.monotonic(); d = s.recv(1)
print("closed" if d == b"" else "data")' "$dir/idle.sock")
check "a silent client is closed after agent.idle_timeout" test "$closed" = closed
kill $idle_pid; wait $idle_pid 2>/dev/null

# --- the client limit holds: past agent.max_clients a connection is closed at
# once, and a place that frees up is taken again
"$AGENT" --unix "$dir/few.sock" --no-vsock --no-serial --config /dev/null --cmdline "" \
	--max-clients 2 2>"$dir/few.log" &
few_pid=$!
wait_for 10 test -S "$dir/few.sock"
limit=$(timeout 30 python3 -c '
import socket, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5); return s
def ping(s):
    s.sendall(b"{\"execute\":\"guest-ping\"}")
    return s.recv(100)
a, b = conn(), conn()
print("a", ping(a) == b"{\"return\": {}}\n", "b", ping(b) == b"{\"return\": {}}\n")
c = conn()
said = b""
while True:
    d = c.recv(4096)
    if not d: break
    said += d
print("third told", b"too many clients" in said, "and closed")
a.close(); time.sleep(0.3)
d = conn()
print("after one left", ping(d) == b"{\"return\": {}}\n")' "$dir/few.sock")
echo "# $limit" | tr '\n' ' '; echo
check "max_clients 2: two clients served" grep -q "a True b True" <<<"$limit"
check "max_clients 2: the third is told why and closed" grep -q "third told True and closed" <<<"$limit"
check "max_clients 2: a freed place is taken again" grep -q "after one left True" <<<"$limit"
# 500 clients that send and close without waiting: those gone do not hold
# places against the next live client
burst=$(timeout 60 python3 -c '
import socket, sys
for i in range(500):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    s.sendall(b"{\"execute\":\"guest-ping\"}"); s.close()
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(b"{\"execute\":\"guest-ping\"}")
print("after the burst", s.recv(100) == b"{\"return\": {}}\n")' "$dir/few.sock" 2>&1)
check "max_clients 2: after 500 short clients a live one is served ($burst)" \
	grep -q "after the burst True" <<<"$burst"
check "max_clients 2: the refusal is logged" grep -q "refused, 2 clients already" "$dir/few.log"
kill $few_pid; wait $few_pid 2>/dev/null

# --- a long poll owed when the agent is stopped is answered, not dropped
"$AGENT" --unix "$dir/poll.sock" --no-vsock --no-serial --config /dev/null --cmdline "" \
	2>"$dir/poll.log" &
poll_pid=$!
wait_for 10 test -S "$dir/poll.sock"
timeout 30 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(20)
s.sendall(b"{\"execute\":\"porthole-events\",\"arguments\":{\"since\":1000,\"timeout_ms\":60000},\"id\":7}")
time.sleep(0.5)
open(sys.argv[2], "w").write("waiting")
buf = b""
while True:
    d = s.recv(4096)
    if not d: break
    buf += d
print(buf.decode(errors="replace"))' "$dir/poll.sock" "$dir/poll.ready" >"$dir/poll.out" 2>&1 &
poller=$!
wait_for 10 test -e "$dir/poll.ready"
kill -TERM $poll_pid; wait $poll_pid 2>/dev/null
wait $poller
check "a long poll owed at stop is answered before the close ($(head -c 80 "$dir/poll.out"))" \
	grep -q '"events": \[\].*"id": 7' "$dir/poll.out"

# --- guest-shutdown: no reply; the agent asks init and stops. Here PID 1 is
# not porthole-init, so nothing is signalled (this host keeps running).
got=$($RAW "$sock" send '{"execute":"guest-shutdown"}' --quiet-ms 1000)
check "guest-shutdown: no reply, as qemu-ga" test "$got" = "b''"
if wait_for 10 eval '! kill -0 $agent_pid 2>/dev/null'; then ok "guest-shutdown: the agent stops"; else not_ok "guest-shutdown: the agent stops"; fi
wait "$agent_pid" 2>/dev/null; agent_pid=
check "guest-shutdown: PID 1 of a host is left alone" grep -q 'PID 1 is not porthole-init' "$dir/agent.log"
