#!/bin/bash
# The agent survives faults (issue 16), in a sandbox where init runs it as
# its service on the unix socket: kill -9 while porthole-loadgen pipelines
# requests (init restarts it, the client reconnects, no reply answered twice
# or with another request's), 10,000 connections opened and abandoned (no fd
# or memory growth), /run full, the data disk full and a service's cgroup at
# its memory limit (the agent answers, porthole-health says degraded and why,
# and ok again after clean-up). First, loadgen's own checks against servers
# that answer wrongly, so that its zero counts mean something.
# tests/vm/faults.sh does the same over vsock and virtio-serial in the VM.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"
sandbox_require

LOADGEN=$BIN/porthole-loadgen
RAW="python3 $REPO/tests/helpers/rawclient.py"
work=$(mktemp -d /tmp/porthole-faults.XXXXXX)
fake_pid='' lg_pid=''
cleanup() {
	[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null
	[ -n "$lg_pid" ] && kill "$lg_pid" 2>/dev/null && wait "$lg_pid" 2>/dev/null
	sandbox_cleanup
	rm -rf "$work"
}
trap cleanup EXIT

# json_field FILE KEY: a member of the JSON object in FILE
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' "$1" "$2"; }

# --- loadgen's checks: a server that answers each request twice, and one that
# echoes the wrong token; each must be caught and fail the run
fake_server() {
	python3 - "$1" "$2" <<'PY' &
import json, os, socket, sys
path, mode = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(4)
dec = json.JSONDecoder()
while True:
    c, _ = srv.accept()
    buf = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        buf += d
        while True:
            text = buf.lstrip(b"\xff \n").decode()
            try:
                req, end = dec.raw_decode(text)
            except ValueError:
                break
            buf = text[end:].encode()
            a = req.get("arguments", {})
            if req["execute"] == "guest-sync-delimited":
                c.sendall(b"\xff" + json.dumps({"return": a["id"]}).encode() + b"\n")
                continue
            rep = {"return": a["id"] + (1 if mode == "wrong-echo" else 0), "id": req["id"]}
            out = json.dumps(rep).encode() + b"\n"
            c.sendall(out * (2 if mode == "twice" else 1))
    c.close()
PY
	fake_pid=$!
	wait_for 10 test -S "$1"
}
for mode in twice wrong-echo; do
	fake_server "$work/fake-$mode.sock" "$mode"
	"$LOADGEN" --connect "unix:$work/fake-$mode.sock" --command guest-sync -n 200 --pipeline 4 \
		--timeout 10 --json >"$work/fake.json" 2>/dev/null
	rc=$?
	kill "$fake_pid" && wait "$fake_pid" 2>/dev/null
	fake_pid=
	key=duplicates
	[ $mode = wrong-echo ] && key=mismatches
	n=$(json_field "$work/fake.json" $key)
	echo "# loadgen against a server that answers $mode: exit $rc, $key $n"
	check "loadgen catches a server that answers $mode ($key $n, exit 1)" \
		eval '[ "$rc" = 1 ] && [ "$n" -ge 100 ]'
done

# --- the sandbox: init, its agent as a service, and svc-mem, a service with a
# 64 MiB memory limit that fills 60 MiB of it when /run/svc-mem.go appears
# (tests/helpers/svc-mem/)
prepare() {
	install -m 755 "$BIN/porthole-agent" "$1/usr/bin/porthole-agent"
	mkdir -p "$1/usr/local/bin"
	install -m 755 "$REPO/tests/helpers/svc-mem/svc-mem" "$1/usr/local/bin/svc-mem"
	install -m 644 "$REPO/tests/helpers/svc-mem/svc-mem.conf" "$1/etc/porthole/services/"
}
if ! SB_AGENT=1 SB_PREPARE=prepare sandbox_start "log = debug"; then
	not_ok "init comes up with its agent and svc-mem"
	exit 1
fi
ok "init comes up with its agent and svc-mem"
root=/proc/$SB_PID/root
sock=$root/run/porthole/agent.sock
CLI="$BIN/porthole --connect unix:$sock --timeout 10"
if ! wait_for 20 $CLI ping >/dev/null 2>&1; then
	not_ok "init's agent answers on /run/porthole/agent.sock"
	sed 's/^/#   /' "$SB_LOG" | tail -n 30
	exit 1
fi
ok "init's agent answers on /run/porthole/agent.sock"

# the newest: a killed one may linger as a zombie until init reaps it
agent_pid() { pgrep -n -P "$SB_PID" -x porthole-agent; }
# new_agent: sets Q to the agent's pid once it is not P's
new_agent() { Q=$(agent_pid) && [ -n "$Q" ] && [ "$Q" != "$p" ]; }
restarts() { $CLI --json services | python3 -c 'import json,sys; print([s["restarts"] for s in json.load(sys.stdin) if s["name"] == "porthole-agent"][0])'; }
# health_json FILE: porthole-health's result into FILE
health_json() { $CLI --json health >"$1" 2>"$work/health.err"; }
# reasons FILE: one reason a line
reasons() { python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["reasons"]))' "$1"; }
status() { json_field "$1" status; }
# The host's own state may already degrade the sandbox's health (its / is the
# host's disk): each case compares with the reasons before its fault.
health_json "$work/h0.json"
reasons "$work/h0.json" >"$work/r0"
echo "# health before the faults: $(status "$work/h0.json") $(tr '\n' ';' <"$work/r0")"

# --- kill -9 under load: loadgen's guest-sync tokens on two pipelined
# connections; the agent killed while it runs, three times
n=1000000
"$LOADGEN" --connect "unix:$sock" --command guest-sync -n $n --pipeline 32 --connections 2 \
	--reconnect --timeout 20 --json >"$work/lg.json" 2>"$work/lg.err" &
lg_pid=$!
kills=0 pids=$(agent_pid) restarts0=$(restarts)
t0=$SECONDS
while [ $kills -lt 3 ] && kill -0 "$lg_pid" 2>/dev/null; do
	sleep 1
	p=$(agent_pid)
	kill -0 "$lg_pid" 2>/dev/null || break
	[ -n "$p" ] && kill -9 "$p" && kills=$((kills + 1))
	# init restarts it: a new pid (restart_delay 0.2 s, then doubling)
	wait_for 30 new_agent || break
	pids="$pids $Q"
done
wait "$lg_pid"
lg_rc=$?
lg_pid=
secs=$((SECONDS - t0))
read -r okn dups mism lost reco rps <<<"$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(j["ok"], j["duplicates"], j["mismatches"], j["lost"], j["reconnects"], int(j["rps"]))' "$work/lg.json")"
restarts1=$(restarts)
echo "# kill -9 x$kills in ${secs}s, agent pids: $pids; init's restarts of it: $restarts0 -> $restarts1"
echo "# loadgen: exit $lg_rc, $okn answered, $dups duplicates, $mism mismatches, $lost lost, $reco reconnects, $rps req/s"
[ "$lg_rc" = 0 ] || sed 's/^/#   /' "$work/lg.err"
check "kill -9 under load: killed while loadgen ran, and restarted by init each time ($kills)" \
	eval '[ $kills -ge 1 ] && [ $(tr " " "\n" <<<"$pids" | sort -u | wc -l) = $((kills + 1)) ] &&
		[ $((restarts1 - restarts0)) = $kills ]'
check "kill -9 under load: loadgen reconnected ($reco) and every request was answered once or lost with its connection" \
	eval '[ "$lg_rc" = 0 ] && [ "$reco" -ge 1 ] && [ $((okn + lost)) = $n ]'
check "kill -9 under load: no reply twice, none with another request's id or token" \
	eval '[ "$dups" = 0 ] && [ "$mism" = 0 ]'
check "kill -9 under load: porthole-health answers afterwards" health_json "$work/h1.json"

# --- 10,000 connections opened and abandoned: silent, half a request, and
# requests never read; the first batch warms the allocator up
apid=$(agent_pid)
fds() { ls /proc/"$apid"/fd | wc -l; }
rss() { awk '/^VmRSS:/ {print $2}' /proc/"$apid"/status; }
$RAW "$sock" clients 2000 >/dev/null
sleep 0.5
fd0=$(fds) rss0=$(rss)
t0=$(date +%s.%N)
out=$($RAW "$sock" clients 10000)
t1=$(date +%s.%N)
sleep 1
fd1=$(fds) rss1=$(rss)
sleep 2
fd2=$(fds) rss2=$(rss)
cps=$(python3 -c "print(int(10000 / ($t1 - $t0)))")
echo "# unix socket: 10,000 abandoned ($out) at $cps connections/s; agent fds $fd0 -> $fd1 -> $fd2 (settled), RSS $rss0 -> $rss1 -> $rss2 KiB"
check "unix socket: 10,000 abandoned connections leave no fd behind ($fd0 -> $fd2)" test "$fd2" -le "$fd0"
check "unix socket: 10,000 abandoned connections, RSS within 1 MiB ($rss0 -> $rss2 KiB)" \
	test "$rss2" -le $((rss0 + 1024))
check "unix socket: the same agent still answers" eval '[ "$(agent_pid)" = "$apid" ] && $CLI ping >/dev/null'

# fault_case NAME REASON_PATTERN: health is degraded with a reason matching
# REASON_PATTERN (and the agent answers); the reasons are printed
degraded_with() {
	local f=$work/h-$1.json
	health_json "$f" || { echo "# porthole health failed: $(cat "$work/health.err")"; return 1; }
	echo "# $1: $(status "$f"): $(reasons "$f" | tr '\n' ';')"
	[ "$(status "$f")" = degraded ] && reasons "$f" | grep -qE "$2"
}
# back_to_before NAME: the reasons are those before the faults again
back_to_before() {
	local f=$work/h-$1-after.json
	health_json "$f" && reasons "$f" | grep -v '^service porthole-agent: ' >"$work/r1"
	grep -v '^service porthole-agent: ' "$work/r0" | diff - "$work/r1" >/dev/null
}

# --- /run full: made small (as a tmpfs can be, remounted) and filled to ENOSPC.
# in_ns runs a host program in init's mount namespace; the paths are under
# init's own root as the kernel shows it ($root, /proc/PID/root), not under
# $SB_ROOT: init moves a bind mount of it over / (root_tmpfs), and where the
# host's mounts do not propagate (a private tree, as fresh-check's) what is
# mounted under $SB_ROOT never reaches the agent.
in_ns() { nsenter -t "$SB_PID" -m -- "$@"; }
run=$root/run
# a file system of its own: not the device of init's root
if [ "$(in_ns stat -c %d "$run")" != "$(in_ns stat -c %d "$root/")" ]; then
	run_size=$(in_ns df -B1 --output=size "$run" | tail -n 1 | tr -d ' ')
else
	run_size=
fi
if [ -z "$run_size" ] || [ "$(in_ns stat -f -c %T "$run")" != tmpfs ]; then
	for c in "/run full: health degraded" "/run full: a killed agent comes back" "/run full: ok after clean-up"; do
		skip "$c" "init's /run in the sandbox is not a tmpfs of its own"
	done
else
	# (a size below what is in use is refused: then nothing is filled)
	if ! in_ns mount -o remount,size=16m "$run"; then
		not_ok "/run full: /run remounted at 16 MiB"
	fi
	in_ns dd if=/dev/zero of="$run/fill" bs=64k 2>"$work/dd.err"
	grep -q "No space left on device" "$work/dd.err" && echo "# /run filled: dd stopped at ENOSPC"
	check "/run full: the agent answers, health degraded: disk /run" \
		degraded_with run-full '^disk /run: 100% used'
	p=$(agent_pid)
	kill -9 "$p"
	check "/run full: a killed agent comes back on its socket and answers" \
		wait_for 30 eval 'new_agent && $CLI ping >/dev/null 2>&1'
	in_ns rm -f "$run/fill"
	in_ns mount -o remount,size="$run_size" "$run"
	check "/run full: health as before after clean-up" back_to_before run
fi

# --- the data disk full: the sandbox has none, so a 16 MiB tmpfs is mounted
# at the agent's data_mount (/var/lib) and filled
in_ns mkdir -p "$root/var/lib"
if in_ns mount -t tmpfs -o size=16m porthole-faults-data "$root/var/lib"; then
	in_ns dd if=/dev/zero of="$root/var/lib/fill" bs=64k 2>/dev/null
	check "data disk full: the agent answers, health degraded: disk /var/lib" \
		degraded_with data-full '^disk /var/lib: 100% used, 0 MiB available'
	in_ns umount "$root/var/lib"
	check "data disk full: health as before after clean-up" back_to_before data
else
	skip "data disk full: health degraded" "cannot mount a tmpfs at /var/lib in the sandbox"
	skip "data disk full: health as before after clean-up" "cannot mount a tmpfs at /var/lib in the sandbox"
fi

# --- a service's cgroup at its memory limit: svc-mem fills 60 of its 64 MiB
cg=$root/sys/fs/cgroup/porthole/svc-mem
if [ ! -d "$cg" ]; then
	not_ok "svc-mem runs in a cgroup of its own"
	grep "svc-mem" "$SB_LOG" | head -n 5 | sed 's/^/#   /'
elif [ ! -f "$cg/memory.max" ] || [ "$(cat "$cg/memory.max")" = max ]; then
	for c in "cgroup at its limit: health degraded" "cgroup at its limit: ok after clean-up"; do
		skip "$c" "svc-mem's cgroup has no memory.max: this host's cgroup2 offers no memory controller (cgroup v1 holds it?)"
	done
else
	in_ns touch "$run/svc-mem.go"
	wait_for 30 eval '[ "$(cat "$cg/memory.current")" -ge $((60 << 20)) ]'
	echo "# svc-mem: memory.current $(cat "$cg/memory.current") of memory.max $(cat "$cg/memory.max")"
	check "cgroup at its limit: the agent answers, health degraded: service svc-mem" \
		degraded_with svc-mem '^service svc-mem: memory at its limit, [0-9]+ of 64 MiB in use'
	in_ns rm -f "$run/svc-mem.go"
	wait_for 30 eval '! test -e "$root/run/svc-mem.fill"'
	check "cgroup at its limit: health as before after clean-up" wait_for 20 back_to_before svc-mem
fi

check "init is still running" kill -0 "$SB_PID"
