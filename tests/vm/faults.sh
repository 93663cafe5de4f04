#!/bin/bash
# The agent survives faults (issue 16) in the real VM: kill -9 while
# porthole-loadgen pipelines requests over vsock through porthole-vsockd
# (init restarts it, the client reconnects, no reply answered twice or with
# another request's); 10,000 connections opened and abandoned over vsock
# (the agent's and porthole-vsockd's fds and RSS) and on the virtio-serial
# port's chardev socket; /run full, the data disk (64 MiB) full, and a
# service's cgroup at its memory.max: the agent answers, porthole-health
# says degraded and why, and is as before after clean-up.
# tests/sandbox/faults.sh does the unix socket and checks loadgen itself.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require

LOADGEN=$BUILD/bin/porthole-loadgen
work=$(mktemp -d "$BUILD/faults.XXXXXX")
trap 'vm_cleanup; rm -rf "$work"' EXIT
disk=$work/data.img
truncate -s 64M "$disk"
# svc-mem: a 64 MiB memory limit, filled when told (tests/helpers/svc-mem/)
mkdir -p "$work/overlay/etc/porthole/services" "$work/overlay/usr/local/bin"
install -m 755 "$REPO/tests/helpers/svc-mem/svc-mem" "$work/overlay/usr/local/bin/svc-mem"
install -m 644 "$REPO/tests/helpers/svc-mem/svc-mem.conf" "$work/overlay/etc/porthole/services/"

if ! vm_start faults --disk "$disk" --overlay "$work/overlay"; then
	not_ok "boots with a 64 MiB data disk and svc-mem"
	exit 1
fi
ok "boots with a 64 MiB data disk and svc-mem"
HV=$VM_DIR/vsock.sock
ADDR=hvsock:$HV:1024
CLI="$BUILD/bin/porthole --connect $ADDR --timeout 30"
vsockd_pid=$(cat "$VM_DIR/vsockd.pid")

json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' "$1" "$2"; }
health_json() { $CLI --json health >"$1" 2>"$work/health.err"; }
reasons() { python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["reasons"]))' "$1"; }
status() { json_field "$1" status; }
# the agent's pid, fds and VmRSS (KiB) in the guest, through the console
guest_agent() { vm 'p=$(pidof porthole-agent); echo $p $(ls /proc/$p/fd | wc -l) $(awk "/^VmRSS:/ {print \$2}" /proc/$p/status)'; }
# porthole-vsockd on the host: fds, RssAnon (its own memory) and VmRSS, KiB;
# VmRSS also counts the pages of guest memory it has touched (RssShmem: the
# guest's buffers, wherever the guest put them), which is no leak of its own
host_proc() { echo "$(find /proc/"$1"/fd -mindepth 1 | wc -l) $(awk '/^RssAnon:/ {a = $2} /^VmRSS:/ {r = $2} END {print a, r}' /proc/"$1"/status)"; }

if ! wait_for 60 $CLI ping >/dev/null 2>&1; then
	not_ok "the agent answers over vsock"
	exit 1
fi
health_json "$work/h0.json"
reasons "$work/h0.json" >"$work/r0"
echo "# health before the faults: $(status "$work/h0.json") $(tr '\n' ';' <"$work/r0")"
# back_to_before NAME: the reasons are those before the faults again
back_to_before() {
	local f=$work/h-$1-after.json
	health_json "$f" && reasons "$f" >"$work/r1" && diff "$work/r0" "$work/r1" >/dev/null
}
degraded_with() {
	local f=$work/h-$1.json
	health_json "$f" || { echo "# porthole health failed: $(cat "$work/health.err")"; return 1; }
	echo "# $1: $(status "$f"): $(reasons "$f" | tr '\n' ';')"
	[ "$(status "$f")" = degraded ] && reasons "$f" | grep -qE "$2"
}

# --- kill -9 under load over vsock: n set from a short run's rate so that
# the run lasts about 25 s, the agent killed twice meanwhile (the time
# between kills is the restart's and the reconnect's; make check's time)
"$LOADGEN" --connect "$ADDR" --command guest-sync -n 2000 --pipeline 32 --json >"$work/rate.json"
rate=$(json_field "$work/rate.json" rps)
n=$(python3 -c "print(max(10000, int(float('$rate') * 25)))")
echo "# loadgen over vsock: $rate req/s alone; $n requests under kill -9"
"$LOADGEN" --connect "$ADDR" --command guest-sync -n "$n" --pipeline 32 --connections 2 \
	--reconnect --timeout 60 --json >"$work/lg.json" 2>"$work/lg.err" &
lg_pid=$!
# init's count of the agent's restarts, over vsock (the agent answers for init)
restarts() { $CLI --json services | python3 -c 'import json,sys; print([s["restarts"] for s in json.load(sys.stdin) if s["name"] == "porthole-agent"][0])'; }
restarts0=$(restarts)
kills=0 pids=$(vm 'pidof porthole-agent')
for _ in 1 2; do
	sleep 6
	kill -0 "$lg_pid" 2>/dev/null || break
	p=$(vm 'pidof porthole-agent')
	vm "kill -9 $p" && kills=$((kills + 1))
	# init restarts it: a new pid
	wait_for 60 eval 'q=$(vm "pidof porthole-agent"); [ -n "$q" ] && [ "$q" != "$p" ]' || break
	pids="$pids $(vm 'pidof porthole-agent')"
	still=$(kill -0 "$lg_pid" 2>/dev/null && echo yes)
	[ -n "$still" ] || break
done
wait "$lg_pid"
lg_rc=$?
read -r okn dups mism lost reco rps <<<"$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(j["ok"], j["duplicates"], j["mismatches"], j["lost"], j["reconnects"], int(j["rps"]))' "$work/lg.json")"
restarts1=$(restarts)
echo "# kill -9 x$kills, agent pids: $pids; init's restarts of it: $restarts0 -> $restarts1; loadgen still running after the last: ${still:-no}"
echo "# loadgen: exit $lg_rc, $okn answered, $dups duplicates, $mism mismatches, $lost lost, $reco reconnects, $rps req/s"
[ "$lg_rc" = 0 ] || sed 's/^/#   /' "$work/lg.err"
check "vsock, kill -9 under load: killed while loadgen ran and restarted by init each time ($kills)" \
	eval '[ $kills -ge 1 ] && [ "$still" = yes ] && [ $(wc -w <<<"$pids") = $((kills + 1)) ] &&
		[ $((restarts1 - restarts0)) = $kills ]'
check "vsock, kill -9 under load: loadgen reconnected ($reco), every request answered or lost with its connection" \
	eval '[ "$lg_rc" = 0 ] && [ "$reco" -ge 1 ] && [ $((okn + lost)) = "$n" ]'
check "vsock, kill -9 under load: no reply twice, none with another request's id or token" \
	eval '[ "$dups" = 0 ] && [ "$mism" = 0 ]'
check "vsock, kill -9 under load: porthole-health answers afterwards" health_json "$work/h1.json"

# --- 10,000 connections opened and abandoned: ABANDON PATH MODE N
# vsock: through the hybrid socket (CONNECT 1024), serial: the chardev's
# socket, which QEMU takes one client at a time. Three kinds in turn: gone at
# once, half a request and gone, requests sent and their replies never read;
# at most 32 left open (the oldest closed first). Prints "N/s".
abandon() {
	python3 - "$@" <<'PY'
import socket, sys, time
path, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def conn():
    for _ in range(3000):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(30)
        try:
            s.connect(path)
            if mode == "vsock":
                s.sendall(b"CONNECT 1024\n")
                line = b""
                while not line.endswith(b"\n"):
                    d = s.recv(1)
                    if not d:
                        raise ConnectionError("closed before OK")
                    line += d
                if not line.startswith(b"OK "):
                    raise ConnectionError(line)
            return s
        except (BlockingIOError, ConnectionError, OSError):
            s.close()
            time.sleep(0.01)
    sys.exit(f"abandon: {path}: no connection for 30 s")
held = []
t0 = time.monotonic()
for i in range(n):
    s = conn()
    try:
        if i % 3 == 1:
            s.sendall(b'{"execute":"guest-sy')
        elif i % 3 == 2:
            s.sendall(b'{"execute":"guest-info"}' * 4)
    except OSError:
        pass
    # the serial port has one client at a time: each is gone before the next
    if i % 3 == 0 or mode == "serial":
        s.close()
    else:
        held.append(s)
        if len(held) > 32:
            held.pop(0).close()
for s in held:
    s.close()
print(f"{int(n / (time.monotonic() - t0))}/s")
PY
}

# vsock: the agent's and porthole-vsockd's fds and RSS; a warm-up batch first
abandon "$HV" vsock 1000 >/dev/null
sleep 2
read -r _ afd0 arss0 <<<"$(guest_agent)"
read -r vfd0 vanon0 vrss0 <<<"$(host_proc "$vsockd_pid")"
cps=$(abandon "$HV" vsock 10000)
read -r _ afd1 arss1 <<<"$(guest_agent)"
read -r vfd1 vanon1 vrss1 <<<"$(host_proc "$vsockd_pid")"
sleep 10
read -r _ afd2 arss2 <<<"$(guest_agent)"
read -r vfd2 vanon2 vrss2 <<<"$(host_proc "$vsockd_pid")"
echo "# vsock: 10,000 abandoned at $cps; agent fds $afd0 -> $afd1 -> $afd2 (settled), RSS $arss0 -> $arss1 -> $arss2 KiB"
echo "# vsock: porthole-vsockd fds $vfd0 -> $vfd1 -> $vfd2, RssAnon $vanon0 -> $vanon1 -> $vanon2 KiB (VmRSS $vrss0 -> $vrss1 -> $vrss2 KiB, guest memory included)"
check "vsock: 10,000 abandoned connections leave the agent no fd more ($afd0 -> $afd2)" test "$afd2" -le "$afd0"
check "vsock: the agent's RSS within 1 MiB ($arss0 -> $arss2 KiB)" test "$arss2" -le $((arss0 + 1024))
check "vsock: porthole-vsockd no fd more ($vfd0 -> $vfd2)" test "$vfd2" -le "$vfd0"
check "vsock: porthole-vsockd's own memory (RssAnon) within 1 MiB ($vanon0 -> $vanon2 KiB)" \
	test "$vanon2" -le $((vanon0 + 1024))
check "vsock: the agent answers after them" $CLI ping

# the virtio-serial port org.porthole.agent.0, from its chardev socket
SER=$VM_DIR/agent.sock
if [ ! -S "$SER" ]; then
	skip "serial: 10,000 abandoned connections" "no chardev socket $SER"
else
	abandon "$SER" serial 500 >/dev/null
	sleep 2
	read -r _ sfd0 srss0 <<<"$(guest_agent)"
	cps=$(abandon "$SER" serial 10000)
	sleep 10
	read -r _ sfd2 srss2 <<<"$(guest_agent)"
	echo "# serial: 10,000 connect/abandon at $cps; agent fds $sfd0 -> $sfd2, RSS $srss0 -> $srss2 KiB"
	check "serial: 10,000 abandoned connections leave the agent no fd more ($sfd0 -> $sfd2)" test "$sfd2" -le "$sfd0"
	check "serial: the agent's RSS within 1 MiB ($srss0 -> $srss2 KiB)" test "$srss2" -le $((srss0 + 1024))
	check "serial: a new client resyncs and is answered on the port" \
		"$BUILD/bin/porthole" --connect "unix:$SER" --timeout 30 ping
fi

# --- /run full: remounted small (16 MiB) and filled to ENOSPC
run_kib=$(vm "df -k /run | awk 'NR == 2 {print \$2}'")
vm 'mount -o remount,size=16m /run && dd if=/dev/zero of=/run/fill bs=64k 2>&1 | grep -c "No space left"' >"$work/run-dd"
echo "# /run: ${run_kib} KiB, made 16 MiB; dd's ENOSPC: $(cat "$work/run-dd")"
check "/run full: the agent answers, health degraded: disk /run" degraded_with run-full '^disk /run: 100% used'
p=$(vm 'pidof porthole-agent')
vm "kill -9 $p"
check "/run full: a killed agent comes back and answers" \
	wait_for 60 eval 'q=$(vm "pidof porthole-agent"); [ -n "$q" ] && [ "$q" != "$p" ] && $CLI ping >/dev/null 2>&1'
vm "rm -f /run/fill; mount -o remount,size=${run_kib}k /run"
check "/run full: health as before after clean-up" back_to_before run

# --- the data disk full
vm 'dd if=/dev/zero of=/var/lib/fill bs=1M 2>&1 | grep -c "No space left"' >"$work/data-dd"
echo "# data disk: dd's ENOSPC: $(cat "$work/data-dd"); $(vm 'df -k /var/lib | tail -n 1')"
check "data disk full: the agent answers, health degraded: disk /var/lib" \
	degraded_with data-full '^disk /var/lib: 100% used, 0 MiB available'
vm 'rm -f /var/lib/fill; sync'
check "data disk full: health as before after clean-up" wait_for 30 back_to_before data

# --- a service's cgroup at its memory limit: svc-mem fills 60 of its 64 MiB
cg=/sys/fs/cgroup/porthole/svc-mem
mem_current() { vm "cat $cg/memory.current 2>/dev/null || echo 0"; }
if [ "$(vm "cat $cg/memory.max 2>/dev/null")" != $((64 << 20)) ]; then
	not_ok "svc-mem runs in its cgroup with memory.max 64 MiB"
	grep -a "svc-mem" "$VM_DIR/console.log" | head -n 5 | sed 's/^/#   /'
else
	vm "touch /run/svc-mem.go"
	wait_for 60 eval '[ "$(mem_current)" -ge $((60 << 20)) ]'
	echo "# svc-mem: memory.current $(mem_current) of memory.max $(vm "cat $cg/memory.max")"
	check "cgroup at its limit: the agent answers, health degraded: service svc-mem" \
		degraded_with svc-mem '^service svc-mem: memory at its limit, [0-9]+ of 64 MiB in use \(memory.max\)$'
	vm "rm -f /run/svc-mem.go"
	wait_for 60 eval '[ "$(mem_current)" -lt $((8 << 20)) ]'
	check "cgroup at its limit: health as before after clean-up" back_to_before svc-mem

	# past its limit: OOM kills in its cgroup are a reason for 30 s
	vm "touch /run/svc-mem.oom"
	wait_for 60 eval '[ "$(vm "grep oom_kill $cg/memory.events")" != "oom_kill 0" ]'
	echo "# svc-mem: $(vm "grep oom_kill $cg/memory.events | tr '\n' ' '")"
	check "OOM kills in a service's cgroup: the agent answers, health degraded: service svc-mem" \
		wait_for 30 degraded_with svc-mem-oom '^service svc-mem: out of memory in its cgroup [0-9]+ s ago, [0-9]+ process\(es\) killed \(memory.events\)$'
	vm "rm -f /run/svc-mem.oom /run/svc-mem.big"
	check "OOM kills in a service's cgroup: health as before within a minute" \
		wait_for 60 back_to_before svc-mem-oom
fi

check "the VM shuts down cleanly" vm_stop
