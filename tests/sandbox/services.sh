#!/bin/bash
# init's services in a sandbox: start order and readiness, parallel start,
# notify readiness, restart backoff and the crash-loop stop, a stop time-out
# ending in cgroup.kill, output capture and rotation, a bad service file,
# and the control socket. Fake services are busybox sh scripts.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"
sandbox_require
trap sandbox_cleanup EXIT

svc() { # svc NAME TEXT: a service file in the tree being prepared
	mkdir -p "$SB_ROOT/etc/porthole/services"
	printf '%s\n' "$2" >"$SB_ROOT/etc/porthole/services/$1.conf"
}

prepare() {
	# a comes up slowly and says so with a file; b requires it
	svc a '[service]
command = /bin/sh -c "sleep 0.5; echo a is up; touch /run/a.ready; exec sleep 1000"
ready = file:/run/a.ready'
	svc b '[service]
command = /bin/sh -c "test -e /run/a.ready && echo b saw a ready; exec sleep 1000"
requires = a'
	# c and d depend on nothing: both start at once
	svc c '[service]
command = /bin/sh -c "sleep 1; touch /run/c.ready; exec sleep 1000"
ready = file:/run/c.ready'
	svc d '[service]
command = /bin/sh -c "sleep 1; touch /run/d.ready; exec sleep 1000"
ready = file:/run/d.ready'
	# requires c, but starts with it (wait = started), not once it is ready
	svc w '[service]
command = /bin/sh -c "exec sleep 1000"
requires = c
wait = started'
	# ready through its notification fd (s6 style)
	svc n '[service]
command = /bin/sh -c "sleep 0.2; echo >&3; exec sleep 1000"
ready = notify'
	# dies at once, every time: backoff, then the crash-loop limit
	svc e '[service]
command = /bin/sh -c "echo e fails; exit 3"
restart = on-failure
restart_delay = 0.1
restart_delay_max = 1
crash_limit = 4
crash_window = 60'
	# ignores TERM, and so does the child it forks: only cgroup.kill ends them
	svc f '[service]
command = /bin/sh -c "trap \"\" TERM; sleep 1000 & echo child $!; wait"
stop_timeout = 0.5'
	# a lot of output: the log file rotates
	svc g '[service]
command = /bin/sh -c "x=xxxxxxxxxx; x=$x$x$x$x$x$x$x$x$x$x; x=$x$x$x$x$x; i=0; while [ $i -lt 2500 ]; do echo $i $x; i=$((i+1)); done; echo g done; exec sleep 1000"'
	# kill_mode = process: what it forked outlives it (containerd's shims)
	svc k '[service]
command = /bin/sh -c "sleep 1000 & exit 1"
restart = never
kill_mode = process'
	# a typo: refused with its file and line; the others start anyway
	svc h '[service]
command = /bin/true
restart = sometimes'
}

if ! SB_PREPARE=prepare sandbox_start "stop_timeout = 5"; then
	not_ok "init starts with service files"
	exit 1
fi
ok "init starts with service files"
R=/proc/$SB_PID/root
SOCK=$R/run/porthole/init.sock
ask() { socat -t 5 - "UNIX-CONNECT:$SOCK" <<<"$1"; }
state() { ask '{"op":"services"}' | jq -r --arg n "$1" '.services[] | select(.name == $n) | .state'; }
field() { ask '{"op":"services"}' | jq -r --arg n "$1" --arg f "$2" '.services[] | select(.name == $n) | .[$f]'; }
logline() { grep -n "porthole-init: $1" "$SB_LOG" | head -n 1 | cut -d: -f1; }

check "a bad service file is reported with its file and line" \
	grep -q '/etc/porthole/services/h.conf:3: restart' "$SB_LOG"
# --check describes the same files: the plan, and the bad one as an error
plan=$("$BIN/porthole-init" --check /dev/null --services-dir "$SB_ROOT/etc/porthole/services" 2>&1)
check "--check: b's line names what it requires" grep -qx "service b: /bin/sh (requires a)" <<<"$plan"
check "--check: h.conf's error, and a status that says so" \
	eval 'grep -q "h.conf:3: restart" <<<"$plan" && ! "$BIN/porthole-init" --check /dev/null --services-dir "$SB_ROOT/etc/porthole/services" >/dev/null 2>&1'
check "the control socket is there, mode 0600" test "$(stat -c %a "$SOCK")" = 600

all_ready() {
	for s in a b c d n w; do [ "$(state $s)" = running ] || return 1; done
}
check "a, b, c, d, n and w become ready" wait_for 20 all_ready
check "b started only once a was ready" \
	test "$(logline 'a ready')" -lt "$(logline 'b: started')"
check "b's output says it saw a ready" wait_for 5 sh -c "grep -q 'b saw a ready' '$R/var/log/porthole/b.log'"
check "c and d start in parallel: d started before c was ready" \
	test "$(logline 'd: started')" -lt "$(logline 'c ready')"
check "wait = started: w started before c, which it requires, was ready" \
	test "$(logline 'w: started')" -lt "$(logline 'c ready')"
check "notify: n became ready through fd 3" grep -q "porthole-init: n ready" "$SB_LOG"

a_pid=$(field a pid)
# (the host reads the path from its own cgroup namespace: the end tells)
check "a runs in its own cgroup (/porthole/a)" grep -q "^0::.*/porthole/a$" "$R/proc/$a_pid/cgroup"

# --- backoff and the crash loop
is_state() { [ "$(state "$1")" = "$2" ]; }
check "e: in the end failed, a crash loop" wait_for 20 is_state e failed
backoff() { for d in 100 200 400; do grep -q "e: restarting in $d ms" "$SB_LOG" || return 1; done; }
check "e: the backoff doubles (100, 200, 400 ms)" backoff
check "e: the crash loop is said" grep -q "e: restarted 4 times in 60 s: a crash loop" "$SB_LOG"
check "e: 4 restarts counted" test "$(field e restarts)" = 4
check "e: its last exit is status 3" test "$(field e last_exit | jq -c .)" = '{"status":3}'
out=$(ask '{"op":"restart","name":"e"}')
check "a failed service can be restarted on request ($out)" test "$out" = '{"ok":true}'
e_started() { [ "$(grep -c 'porthole-init: e: started' "$SB_LOG")" -ge 6 ]; }
check "e runs again after the request" wait_for 5 e_started

# --- kill_mode = process
check "k: failed, as it exited 1" wait_for 10 is_state k failed
check "k: what it forked still runs in its cgroup" test "$(wc -l <"$SB_CG/porthole/k/cgroup.procs")" = 1

# --- a stop time-out ends in cgroup.kill, which takes what the service forked
# the host's pids of f and the child it forked, from f's cgroup
f_pids=$(cat "$SB_CG/porthole/f/cgroup.procs" 2>/dev/null)
check "f and the child it forked are in f's cgroup ($(echo $f_pids))" test "$(wc -w <<<"$f_pids")" -ge 2
f_pid=$(field f pid)
out=$(ask '{"op":"restart","name":"f"}')
check "restart f: asked ($out)" test "$out" = '{"ok":true}'
check "f did not stop on TERM: its cgroup was killed" wait_for 10 grep -q "f: still running 500 ms after Terminated: killing its cgroup" "$SB_LOG"
# (gone: no such pid, or a zombie init has yet to reap)
gone() { for p in $f_pids; do [ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null || echo Z)" = Z ] || return 1; done; }
check "f and the child it forked are gone" wait_for 5 gone
new_pid() { p=$(field f pid); [ "$p" != null ] && [ "$p" != "$f_pid" ]; }
check "f runs again, with a new pid" wait_for 10 new_pid

# --- output: the ring, the file, rotation
check "g wrote all its lines" wait_for 30 grep -q "g done" "$R/var/log/porthole/g.log"
check "g's log rotated: g.log.1 exists" test -f "$R/var/log/porthole/g.log.1"
size=$(stat -c %s "$R/var/log/porthole/g.log.1")
check "a rotated file stays within 1 MiB ($size bytes)" test "$size" -le 1048576
logs=$(ask '{"op":"logs","name":"g","lines":3}')
check "logs: the last 3 lines of g" test "$(jq '.lines | length' <<<"$logs")" = 3
check "logs: the last of them is 'g done'" test "$(jq -r '.lines[2].text' <<<"$logs")" = "g done"
check "logs: the ring dropped old lines and says so" test "$(jq '.dropped' <<<"$logs")" -gt 0

# --- the control socket's errors and events
answers() { ask "$1" | grep -q "$2"; }
check "an unknown service is an error" answers '{"op":"restart","name":"nope"}' 'no service named'
check "not JSON is an error" answers 'hello' '"error":"not JSON'
check "an unknown op is an error" answers '{"op":"dance"}' 'unknown op'
# client-given numbers are range-checked before any conversion: a since past
# what microseconds hold was undefined behaviour and returned every line
check "logs: since far in the future is refused" \
	answers '{"op":"logs","name":"g","since":9.3e12}' 'from 0 to 253402300799'
logs=$(ask '{"op":"logs","name":"g","since":253402300799}')
check "logs: since at the last second allowed returns nothing" test "$(jq '.lines | length' <<<"$logs")" = 0
# an error quoting a name cut between characters is still an answer
long="a$(python3 -c 'print("\u00e9" * 40)')"
check "a quoted name cut to fit is still answered" \
	answers "{\"op\":\"restart\",\"name\":\"$long\"}" 'no service named'
# the connection limit: 8 held open, a ninth is refused
held=()
for i in 1 2 3 4 5 6 7 8; do
	sleep 30 | socat - "UNIX-CONNECT:$SOCK" >/dev/null 2>&1 &
	held+=($!)
done
sleep 0.5
# (read only: init answers the ninth before it could send anything)
ninth() { socat -t 5 -u "UNIX-CONNECT:$SOCK" - | grep -q 'too many connections'; }
check "a ninth connection is refused while 8 are open" ninth
kill "${held[@]}" 2>/dev/null
pkill -f "socat - UNIX-CONNECT:$SOCK" 2>/dev/null
wait "${held[@]}" 2>/dev/null
check "with them closed, a connection is served again" wait_for 5 answers '{"op":"services"}' '"services"'
ev=$(ask '{"op":"events","after":0}')
has_event() { jq -e --arg s "$1" --arg t "$2" '.events | map(select(.service == $s and .type == $t)) | length > 0' <<<"$ev" >/dev/null; }
check "events: a's ready" has_event a ready
check "events: e's failure" has_event e failed
check "a request over 4096 bytes is refused" answers "$(head -c 5000 /dev/zero | tr '\0' x)" 'at most 4096 bytes'


# --- shutdown: dependents first (b before a), every service stopped
sandbox_stop TERM
check "init powered off (status $SB_STATUS)" test "$SB_STATUS" = 0
check "shutdown: b stopped before a" \
	test "$(logline 'b: stopping')" -lt "$(logline 'a: stopping')"
check "shutdown: f needed its cgroup killed" \
	sh -c "grep 'f: still running' '$SB_LOG' | wc -l | grep -qx 2"
check "shutdown: the services were stopped" grep -q "shutdown: services stopped after" "$SB_LOG"
