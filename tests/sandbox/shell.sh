#!/bin/bash
# porthole shell and porthole exec -t / -i against porthole-agent on a unix
# socket on the host (the VM tier does it over vsock): a pty and the exit
# status, stdin streamed and stdout and stderr apart, the window size
# following the terminal's, Ctrl-C reaching the guest's command, signals, the
# host's hang-up, the bound on sessions, a host that does not read, bad
# frames, guest-exec beside the sessions, and the refusals: with agent.shell
# off, and over a virtio-serial port. Commands run on this host, as the
# agent's user.
. "$(dirname "$0")/../lib.sh"

AGENT=$BIN/porthole-agent
PORTHOLE=$BIN/porthole
HELPER="python3 $REPO/tests/helpers/shellclient.py"
dir=$(mktemp -d /tmp/porthole-shell-test.XXXXXX)
sock=$dir/agent.sock
agent_pid= off_pid=
cleanup() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	[ -n "$off_pid" ] && kill "$off_pid" 2>/dev/null && wait "$off_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

if [ ! -x "$AGENT" ] || [ ! -x "$PORTHOLE" ]; then
	not_ok "shell: $AGENT or $PORTHOLE not built"
	exit 1
fi
"$AGENT" --unix "$sock" --no-vsock --no-serial --config /dev/null --cmdline "" \
	--enable-shell --enable-exec --log debug 2>"$dir/agent.log" &
agent_pid=$!
if wait_for 10 test -S "$sock"; then ok "agent with agent.shell listens on its unix socket"; else
	not_ok "agent with agent.shell listens on its unix socket"; cat "$dir/agent.log"; exit 1; fi
CLI="$PORTHOLE --connect unix:$sock --timeout 20"

# --- exec -t: a pty, and the command's status as porthole's
out=$(timeout 30 $CLI exec -t -- sh -c 'tty; exit 7' </dev/null)
rc=$?
check "exec -t: the command has a pty ($(tr -d '\r' <<<"$out"))" grep -q '^/dev/pts/[0-9]' <<<"$out"
check "exec -t: its exit status is porthole's (7: $rc)" test "$rc" = 7
out=$(echo hello | timeout 30 $CLI exec -t -- sh -c 'read x; echo "got $x"; cat; echo cat-ended')
check "exec -t, stdin not a terminal: input, then its end (^D) reaches the command" \
	eval 'grep -q "got hello" <<<"$out" && grep -q cat-ended <<<"$out"'
out=$(timeout 30 $CLI exec -t -- sh -c 'kill -TERM $$' </dev/null 2>&1)
rc=$?
check "exec -t: killed by SIGTERM is 143 ($rc), and said" \
	eval '[ $rc = 143 ] && grep -q "killed by signal 15" <<<"$out"'

# --- exec -i: stdin streamed, no pty, stdout and stderr apart
head -c 1048576 /dev/urandom >"$dir/mb"
want=$(sha256sum <"$dir/mb" | cut -d' ' -f1)
got=$(timeout 60 $CLI exec -i -- sha256sum <"$dir/mb" | cut -d' ' -f1)
check "exec -i: 1 MiB of stdin through, checksum equal" test "$got" = "$want"
timeout 30 $CLI exec -i -- sh -c 'tty; echo out; echo err >&2; exit 4' </dev/null \
	>"$dir/out" 2>"$dir/err"
rc=$?
check "exec -i: no pty" grep -qx 'not a tty' "$dir/out"
check "exec -i: stdout apart" eval 'grep -qx out "$dir/out" && ! grep -q err "$dir/out"'
check "exec -i: stderr apart" eval 'grep -qx err "$dir/err" && ! grep -q out "$dir/err"'
check "exec -i: exit status 4 ($rc)" test "$rc" = 4
timeout 30 $CLI exec -i -- sleep 100 </dev/null 2>"$dir/int.err" &
p=$!
wait_for 10 grep -q 'sleep runs as process' "$dir/agent.log"
kill -INT $p
wait $p
rc=$?
check "exec -i: SIGINT to porthole reaches the command (130: $rc)" \
	eval '[ $rc = 130 ] && grep -q "sleep: killed by signal 2" "$dir/int.err"'

# --- a person at a terminal: raw mode, window size, Ctrl-C
out=$(timeout 60 $HELPER pty resize -- $CLI exec -t -- sh 2>&1)
echo "# $out" | tr '\n' ' '; echo
check "exec -t on a terminal: stty size in the guest says 30 100, then 40 120 after a resize" \
	grep -q "before 30x100 True after 40x120 True" <<<"$out"
check "exec -t on a terminal: status 0 after exit 0" grep -q "status 0" <<<"$out"
out=$(timeout 60 $HELPER pty interrupt -- $CLI shell 2>&1)
echo "# $out" | tr '\n' ' '; echo
check "shell: Ctrl-C kills the guest's foreground command, not the session" \
	grep -q "sleep ran True ctrl-c: rc=130 True sleep gone True" <<<"$out"
check "shell: porthole exits with the shell's status (exit 5)" grep -q "status 5" <<<"$out"
out=$(timeout 60 $HELPER pty raw -- $CLI shell 2>&1)
echo "# $out" | tr '\n' ' '; echo
check "shell on a terminal: raw during the session, restored after the shell's exit" \
	grep -q "exit: ready True raw during True restored after True status 0" <<<"$out"
check "shell on a terminal: restored when a signal it does not handle ends porthole (SIGUSR1)" \
	grep -q "SIGUSR1: ready True raw during True restored after True status -10" <<<"$out"
out=$(echo 'echo "zero=$0"; exit 3' | timeout 30 $CLI shell 2>&1)
rc=$?
check "shell, stdin not a terminal: a login shell (\$0 starts with -) and its status (3: $rc)" \
	eval '[ $rc = 3 ] && grep -q "zero=-" <<<"$out"'

# --- the host goes: the command is hung up
pid=$(timeout 30 $HELPER "$sock" hangup "$dir/pid")
if wait_for 10 eval '! kill -0 "$pid" 2>/dev/null'; then ok "the host hangs up: the command ($pid) is gone"; else
	not_ok "the host hangs up: the command ($pid) is gone"; fi

# --- the bound: 16 sessions, the 17th refused and counted
out=$(timeout 60 $HELPER "$sock" limit 17)
check "16 sessions at once" test "$(grep -c '^ok$' <<<"$out")" = 16
check "the 17th is refused, saying why" grep -q "error: porthole-shell: 16 sessions are open, the most there may be" <<<"$out"
check "porthole-health counts them ($(grep '^sessions' <<<"$out"))" \
	grep -q 'sessions {"open": 16, "max": 16, "refused": 1}' <<<"$out"
if wait_for 10 eval "$CLI --json health | grep -q '\"sessions\":{\"open\":0'"; then
	ok "closed, they are reaped: porthole-health says 0 open"
else
	not_ok "closed, they are reaped: porthole-health says 0 open"
fi

# --- guest-exec beside the sessions: each child goes to the module that started it
out=$(timeout 30 $CLI exec sh -c 'echo via-guest-exec; exit 6')
rc=$?
check "guest-exec still reaps its own beside sessions (6: $rc)" \
	eval '[ $rc = 6 ] && [ "$out" = via-guest-exec ]'
check "...and every child the agent reaped was claimed by the module that started it" \
	eval '! grep -q "reaped process .*, which no one watched" "$dir/agent.log"'

# --- a host that does not read: the session's memory stays bounded, nothing is lost
out=$(timeout 120 $HELPER "$sock" slow "$agent_pid" 50)
echo "# $out" | tr '\n' ' '; echo
rss=$(awk '/^rss/ { print $2 }' <<<"$out")
if under_san; then
	skip "a host that does not read for 2 s: the session holds at most 8 MiB ($rss KiB)" "ASan's memory, not the agent's"
else
	check "a host that does not read for 2 s: the session holds at most 8 MiB ($rss KiB)" \
		eval '[ "$rss" -gt 0 ] && [ "$rss" -lt 8192 ]'
fi
check "...and then gets all 50 MB and the exit" grep -q "stdout 50000000 exit 0000" <<<"$out"

# --- an agent whose output comes in the same write as its reply, more than a
# session's buffer: all of it taken
$HELPER fakeagent "$dir/fake.sock" 512 >"$dir/fake.out" 2>&1 &
fake=$!
wait_for 10 test -S "$dir/fake.sock"
n=$(timeout 30 $PORTHOLE --connect "unix:$dir/fake.sock" exec -i -- x </dev/null | wc -c)
rc=${PIPESTATUS[0]}
wait $fake
check "512 KiB of output with the reply, in one write: all of it, then the exit ($n bytes, $rc)" \
	eval '[ "$n" = 524288 ] && [ "$rc" = 0 ]'

# --- a bad frame ends its session with a message, not the agent
out=$(timeout 30 $HELPER "$sock" badframe)
check "a bad frame: the session says why and closes" \
	eval 'grep -q "error: a bad frame from the host: unknown frame type 0x7f" <<<"$out" && grep -q closed <<<"$out"'
check "a bad frame: the agent still answers" eval "$CLI ping >/dev/null"
check "a bad frame: the agent is still running" kill -0 "$agent_pid"

# --- refused: the agent without agent.shell
"$AGENT" --unix "$dir/off.sock" --no-vsock --no-serial --config /dev/null --cmdline "" \
	2>"$dir/off.log" &
off_pid=$!
wait_for 10 test -S "$dir/off.sock"
out=$(timeout 30 $PORTHOLE --connect "unix:$dir/off.sock" exec -t -- true 2>&1)
rc=$?
check "agent.shell off: refused, saying how to enable it (status $rc)" \
	eval '[ $rc = 1 ] && grep -q "porthole-shell has been disabled: agent.shell is 0" <<<"$out"'
kill $off_pid; wait $off_pid 2>/dev/null; off_pid=

# --- refused: over a virtio-serial port (here a pty standing in for one)
mkdir "$dir/ports"
out=$(timeout 30 $HELPER serial "$AGENT" "$dir/ports")
check "over a virtio-serial port: refused, saying why" \
	grep -q '"id": 3, "error".*porthole-shell: a session needs a connection of its own: org.porthole.agent.0 is a virtio-serial port' <<<"$out"
check "over a virtio-serial port: the agent goes on" grep -q "agent running True" <<<"$out"

# --- usage
out=$($CLI exec -t --wait 5 -- true 2>&1)
rc=$?
check "exec -t with --wait: a usage error ($rc)" eval '[ $rc = 2 ] && grep -q "not with -t or -i" <<<"$out"'
out=$($CLI shell extra 2>&1)
rc=$?
check "shell with a command: a usage error that points to exec -t ($rc)" \
	eval '[ $rc = 2 ] && grep -q "porthole exec -t -- CMD" <<<"$out"'
check "the agent is still running at the end" kill -0 "$agent_pid"
