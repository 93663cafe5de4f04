#!/bin/bash
# The agent's loop never blocks, and a dead share does not stop a shutdown.
# Boot 1, with a large data disk and a virtiofs share: a FITRIM of the whole
# disk (guest-fstrim, on a file system of 8,000 small files with every
# other one deleted, so that the free space is in many pieces) runs while
# another client pings over vsock: the pings are answered while the trim is
# outstanding and its reply comes afterwards (the latencies are printed, not
# judged). Then a clean shutdown with the share healthy, timed.
# Boot 2: the share mounted and written to, then virtiofsd killed (the
# host's side dies), and guest-shutdown: QEMU still exits, and the console
# says the share was detached. Both shutdowns' times are printed. Before the
# shutdown, porthole-mounts waits on the dead share while pings are answered.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require
IMG=$(mktemp "$BUILD/nonblocking-data.XXXXXX.img")
HOST=$(mktemp -d "$BUILD/nonblocking-host.XXXXXX")
trap 'vm_cleanup; rm -rf "$IMG" "$HOST"' EXIT
truncate -s 16G "$IMG"
mkdir -p "$HOST/vfs"
echo "from the host" >"$HOST/vfs/hello"

C() { "$BUILD/bin/porthole" --connect "$(vm_agent)" --timeout 120 "$@"; }
agent_up() { C ping >/dev/null 2>&1; }
boot() {
	if ! vm_start nonblocking --disk "$IMG" --virtiofs "vfs=$HOST/vfs" || ! wait_for 60 agent_up; then
		not_ok "boot with a data disk and a virtiofs share ($1)"
		exit 1
	fi
	ok "boot with a data disk and a virtiofs share ($1)"
}
qemu_gone() { ! kill -0 "$qemu_pid" 2>/dev/null; }
# shutdown_timed NAME: guest-shutdown over vsock, then QEMU's exit waited for
# (180 s at most); prints the seconds it took
shutdown_timed() {
	local t0 t1
	qemu_pid=$(cat "$VM_DIR/qemu.pid")
	t0=$(date +%s.%N)
	C call guest-shutdown >/dev/null 2>&1
	if ! wait_for 180 qemu_gone; then
		echo timeout
		return 1
	fi
	t1=$(date +%s.%N)
	python3 -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$t1"
}

# no boot share here: the agent loaded virtiofs itself, before its drop,
# because the VM has a virtio-fs device (agent/main.c)
boot "first"
check "virtiofs loaded by the agent before its drop (no boot share asked for it)" \
	eval 'vm "grep -c ^virtiofs /proc/modules" | grep -qx 1'
out=$(C mount vfs /mnt/vfs --type virtiofs 2>&1)
check "virtiofs share mounted ($out)" grep -q "^mounted vfs (virtiofs) on /mnt/vfs" <<<"$out"
# free space in many pieces, so that FITRIM has much to do
# (a shell builtin writes them, one rm deletes: no fork per file under TCG)
# shellcheck disable=SC2016 # expanded by the guest's shell
vm 'mkdir -p /var/lib/frag && cd /var/lib/frag && i=0 && while [ $i -lt 8000 ]; do
	echo x >f$i; i=$((i + 1)); done && rm f*[02468] && sync && echo fragmented' \
	>"$HOST/frag.out"
if grep -q fragmented "$HOST/frag.out"; then ok "the data disk's free space is fragmented"; else
	not_ok "the data disk's free space is fragmented"
	sed 's/^/#   /' "$HOST/frag.out"
fi

out=$(timeout 300 python3 "$REPO/tests/helpers/pingprobe.py" "unix:$VM_DIR/qga.sock" \
	"hvsock:$VM_DIR/vsock.sock:1024" '{"execute": "guest-fstrim"}' --timeout 240 2>&1)
read -r before after median p99 max slow_s <<<"$(head -n 1 <<<"$out")"
reply=$(tail -n 1 <<<"$out")
echo "# guest-fstrim took ${slow_s:-?} s; $before pings answered meanwhile, ${after:-?} after;" \
	"ping latency median ${median:-?} ms, p99 ${p99:-?} ms, max ${max:-?} ms"
echo "# trim reply: $reply"
check "pings over vsock are answered while guest-fstrim runs ($before of them)" \
	test "${before:-0}" -ge 1
check "guest-fstrim's reply comes afterwards, with what it trimmed" \
	grep -q '"path": "/var/lib", "trimmed"' <<<"$reply"

t_healthy=$(shutdown_timed)
check "clean shutdown with the share healthy: QEMU exits (${t_healthy} s)" test "$t_healthy" != timeout
grep -a "porthole-init: .*shutdown" "$VM_DIR/console.log" | sed 's/^/# console, share healthy: /'
vm_cleanup

boot "second"
check "virtiofs loaded by the agent again" eval 'vm "grep -c ^virtiofs /proc/modules" | grep -qx 1'
out=$(C mount vfs /mnt/vfs --type virtiofs 2>&1)
check "virtiofs share mounted again ($out)" grep -q "^mounted vfs (virtiofs) on /mnt/vfs" <<<"$out"
vm 'echo written-before-the-host-side-died >/mnt/vfs/dirty' >/dev/null
vfs_pid=$(cat "$VM_DIR/virtiofsd-vfs.pid" 2>/dev/null)
if [ -z "$vfs_pid" ] || ! kill -0 "$vfs_pid" 2>/dev/null; then
	not_ok "virtiofsd for the share is running (pid ${vfs_pid:-none})"
	exit 1
fi
# virtiofsd forks a sandboxed child: the whole process group goes
kill -9 -- "-$vfs_pid" 2>/dev/null || kill -9 "$vfs_pid"
check "virtiofsd killed under the mounted share" wait_for 10 eval "! kill -0 $vfs_pid 2>/dev/null"
check "the agent still answers with the share's host side dead" agent_up
# porthole-mounts' statfs on the dead share hangs in the kernel: its answer
# waits a second for it, on a worker, while the pings go on
out=$(timeout 120 python3 "$REPO/tests/helpers/pingprobe.py" "unix:$VM_DIR/qga.sock" \
	"hvsock:$VM_DIR/vsock.sock:1024" '{"execute": "porthole-mounts"}' --timeout 60 2>&1)
read -r before _ median p99 max slow_s <<<"$(head -n 1 <<<"$out")"
reply=$(tail -n 1 <<<"$out")
echo "# porthole-mounts on the dead share took ${slow_s:-?} s; $before pings answered meanwhile;" \
	"ping latency median ${median:-?} ms, p99 ${p99:-?} ms, max ${max:-?} ms"
check "pings are answered while porthole-mounts waits on the dead share ($before of them)" \
	test "${before:-0}" -ge 1
check "porthole-mounts' reply comes afterwards: the share is stale" \
	grep -q '"target": "/mnt/vfs".*"health": "stale"' <<<"$reply"
t_dead=$(shutdown_timed)
echo "# shutdown: ${t_healthy} s with the share healthy, ${t_dead} s with its host side dead"
check "guest-shutdown with a dead share: QEMU exits (${t_dead} s)" test "$t_dead" != timeout
log=$VM_DIR/console.log
check "the console says the share was detached" \
	grep -aq "porthole-init: .*share vfs (virtiofs) on /mnt/vfs detached (lazy unmount)" "$log"
grep -a "porthole-init: .*shutdown" "$log" | sed 's/^/# console, share dead: /'
