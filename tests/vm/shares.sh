#!/bin/bash
# Shared folders in the minimal image: a 9p share and a virtiofs share of
# host folders, mounted at run time through the agent and at boot from the
# kernel command line; files cross both ways; read-only holds; unmount
# leaves the target empty; a missing tag, a target outside the roots and a
# symlink out of them are refused and mount nothing. Also: without a data
# disk the VM runs on tmpfs and porthole-health says so.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require
HOST=$(mktemp -d "$BUILD/shares-host.XXXXXX")
trap 'vm_cleanup; rm -rf "$HOST"' EXIT
mkdir -p "$HOST/p9" "$HOST/vfs" "$HOST/boot9"
echo "from the host over 9p" >"$HOST/p9/hello"
echo "from the host over 9p, at boot" >"$HOST/boot9/hello"
echo "from the host over virtiofs" >"$HOST/vfs/hello"

if ! vm_start shares --share9p "p9=$HOST/p9" --share9p "boot9=$HOST/boot9" \
	--virtiofs "vfs=$HOST/vfs" --append "porthole.share=boot9:/mnt/boot:ro porthole.data_disk=none"; then
	not_ok "minimal image boots with a 9p and a virtiofs share"
	exit 1
fi
C="$BUILD/bin/porthole --connect $(vm_agent) --timeout 60"
agent_up() { $C ping >/dev/null 2>&1; }
if ! wait_for 60 agent_up; then
	not_ok "the agent answers"
	exit 1
fi

# at boot, from porthole.share=: mounted by init before it started the agent
log=$VM_DIR/console.log
share_line=$(grep -an 'porthole-init: share boot9 (9p) mounted on /mnt/boot, read-only' "$log" | cut -d: -f1)
agent_line=$(grep -an 'porthole-agent' "$log" | head -n 1 | cut -d: -f1)
check "boot share: init mounted boot9 on /mnt/boot (read-only)" test -n "$share_line"
check "boot share: mounted before the agent started (log line $share_line < $agent_line)" \
	test -n "$share_line" -a -n "$agent_line" -a "${share_line:-0}" -lt "${agent_line:-0}"
out=$(vm 'cat /mnt/boot/hello')
check "boot share: the host's file is read in the guest" grep -q "from the host over 9p, at boot" <<<"$out"
mounts=$($C --json mounts)
check "porthole-mounts lists the boot share, healthy" \
	grep -q '"tag":"boot9","type":"9p","target":"/mnt/boot"' <<<"$mounts"
check "porthole-mounts: health ok with statfs figures" grep -q '"health":"ok"' <<<"$mounts"

for t in p9 vfs; do
	type=9p
	[ $t = vfs ] && type=virtiofs
	out=$($C mount $t /mnt/$t --type $type 2>&1)
	check "$type: porthole mount $t /mnt/$t ($out)" grep -q "^mounted $t ($type) on /mnt/$t" <<<"$out"
	out=$(vm "cat /mnt/$t/hello")
	check "$type: a file written on the host is read in the guest" \
		grep -q "from the host over" <<<"$out"
	# the defaults porthole mounts with (docs/shares.md), as the kernel
	# shows them; virtiofs's are virtiofsd's (run-vm: cache=auto) and
	# the guest's read-ahead
	opts=$(vm "grep ' /mnt/$t ' /proc/mounts | cut -d' ' -f4" | tail -n 1)
	if [ $t = p9 ]; then
		check "9p: mounted with msize=512000 by default ($opts)" grep -q "msize=512000" <<<"$opts"
		check "9p: mounted with cache=mmap by default" grep -q "mmap" <<<"$opts"
	fi
	# an editor on the host, a build in the guest: a host edit is read
	# fresh. 9p's cache=mmap reads through at once; virtiofsd's
	# cache=auto lets the guest keep attributes for 1 s, then revalidates
	# on open (the wait is for that second, bounded)
	echo "edited on the host, longer than before" >"$HOST/$t/hello"
	echo "made on the host" >"$HOST/$t/new-on-host"
	host_edit_seen() {
		vm "cat /mnt/$t/hello /mnt/$t/new-on-host" |
			grep -q "^edited on the host, longer than before" &&
			vm "ls /mnt/$t" | grep -q new-on-host
	}
	check "$type: a file edited and a file made on the host are read fresh in the guest" \
		wait_for 10 host_edit_seen
	echo "from the host over $type" >"$HOST/$t/hello"
	vm "echo written-in-the-guest >/mnt/$t/from-guest && sync" >/dev/null
	check "$type: a file written in the guest appears on the host" \
		grep -qx written-in-the-guest "$HOST/$t/from-guest"
	out=$($C --json mount $t /mnt/$t 2>&1)
	check "$type: the same mount again succeeds, already: true" grep -q '"already":true' <<<"$out"
	if [ $t = p9 ]; then
		out=$($C mount p9 /mnt/p9-again 2>&1)
		check "9p: a second target for one tag: busy, and where it is ($out)" \
			grep -q "9p share 'p9' is already mounted on /mnt/p9" <<<"$out"
	fi
	out=$($C umount /mnt/$t 2>&1)
	check "$type: porthole umount /mnt/$t" grep -q "unmounted /mnt/$t" <<<"$out"
	out=$(vm "ls -A /mnt/$t | wc -l; grep -c ' /mnt/$t ' /proc/self/mountinfo")
	check "$type: the target is empty and unmounted after" test "$(xargs <<<"$out")" = "0 0"
	out=$($C mount $t /home/ro-$t --ro 2>&1)
	check "$type: read-only mount ($out)" grep -q "read-only" <<<"$out"
	out=$(vm "cat /home/ro-$t/hello; echo nope >/home/ro-$t/refused 2>&1; echo status=\$?")
	check "$type: a read-only mount reads" grep -q "from the host over" <<<"$out"
	check "$type: a read-only mount refuses writes" grep -q "status=1" <<<"$out"
	check "$type: and nothing reached the host" test ! -e "$HOST/$t/refused"
	# asked again: what is, not what was asked; a change is refused with why
	out=$($C --json mount $t /home/ro-$t --ro 2>&1)
	check "$type: read-only again: already, and read-only ($out)" \
		grep -q '"readonly":true,"already":true' <<<"$out"
	out=$($C mount $t /home/ro-$t 2>&1)
	check "$type: read-write over the read-only mount is refused, saying why ($out)" \
		grep -q "'$t' is already mounted on /home/ro-$t read-only; unmount it first to mount it read-write" <<<"$out"
	out=$(vm "grep ' /home/ro-$t ' /proc/self/mountinfo | cut -d' ' -f6")
	check "$type: ...and it stays read-only ($out)" grep -q "^ro," <<<"$out"
	# made by the agent (umask 077) yet reachable by users and containers
	out=$(vm "stat -c %a /mnt/$t /home/ro-$t /home" | xargs)
	check "$type: the directories made for shares are 0755 ($out)" test "$out" = "755 755 755"
	out=$($C umount /home/ro-$t 2>&1)
	check "$type: unmount the read-only one" grep -q "unmounted /home/ro-$t" <<<"$out"
done

# errors that say which, and mount nothing
out=$($C mount nosuchtag /mnt/missing 2>&1)
check "a missing tag: the error names it and lists the guest's tags ($out)" \
	grep -q "no share with tag 'nosuchtag'; the guest has .*p9 (9p)" <<<"$out"
out=$(vm 'test -e /mnt/missing && echo exists || echo absent')
check "a missing tag: no target created" grep -q absent <<<"$out"
out=$($C mount p9 /etc/share 2>&1)
check "a target outside the roots is refused ($out)" \
	grep -q "outside the allowed roots (/mnt, /host, /Users, /home)" <<<"$out"
out=$($C mount p9 /mnt/../etc/share 2>&1)
check "a target with .. is refused" grep -q "without '.' and '..'" <<<"$out"
vm 'mkdir -p /tmp/elsewhere && ln -s /tmp/elsewhere /mnt/escape' >/dev/null
out=$($C mount p9 /mnt/escape/x 2>&1)
check "a symlink out of the roots is refused ($out)" grep -q "/mnt/escape is a symbolic link" <<<"$out"
out=$(vm 'ls -A /tmp/elsewhere | wc -l; grep -c " 9p " /proc/self/mountinfo')
check "a symlink: nothing created or mounted beyond it ($(xargs <<<"$out"))" test "$(xargs <<<"$out")" = "0 1"
# a directory on the way that is not root's: refused, saying whose
vm 'mkdir -p /mnt/theirs && chown 65534 /mnt/theirs && chmod 0755 /mnt/theirs' >/dev/null
out=$($C mount p9 /mnt/theirs/x 2>&1)
check "a target below a directory that is not root's is refused ($out)" \
	grep -q "/mnt/theirs is owned by uid 65534, not root" <<<"$out"
out=$(vm 'test -e /mnt/theirs/x && echo exists || echo absent')
check "...and nothing is made there" grep -q absent <<<"$out"
out=$($C mount p9 /mnt/wrong --type virtiofs 2>&1)
check "a tag of the other type: the error says so ($out)" grep -q "tag 'p9' is a 9p share, not virtiofs" <<<"$out"
out=$($C umount /mnt 2>&1)
check "unmounting what is not a share is refused ($out)" grep -q "nothing is mounted there" <<<"$out"

# no data disk: tmpfs, said in porthole-health without degrading it
health=$($C --json health)
check "no data disk: porthole-health says data on tmpfs" grep -q 'no data disk: data on tmpfs' <<<"$health"
check "no data disk: the status stays ok" grep -q '"status": *"ok"' <<<"$(sed 's/":"/": "/g' <<<"$health")"

# a share whose host side is gone: reported stale within the bounded wait,
# and the agent goes on answering
out=$($C mount vfs /mnt/stale 2>&1)
check "virtiofs: mounted again for the stale test ($out)" grep -q "on /mnt/stale" <<<"$out"
# virtiofsd (the one this VM's runner started, by its pid file) and its sandboxed child
for f in "$VM_DIR"/virtiofsd-*.pid; do
	pid=$(cat "$f")
	# shellcheck disable=SC2046 # one pid a word
	kill -KILL $(ps -o pid= --ppid "$pid") "$pid" 2>/dev/null
done
t0=$(date +%s%N)
mounts=$($C --json mounts)
ms=$((($(date +%s%N) - t0) / 1000000))
check "a hung share is reported stale" grep -q '"target":"/mnt/stale","options":"[^"]*","health":"stale"' <<<"$mounts"
check "porthole-mounts still answers within its bound ($ms ms)" test "$ms" -lt 5000
check "the agent still answers after" $C ping
out=$($C umount --lazy /mnt/stale 2>&1)
check "a hung share can be detached: umount --lazy ($out)" grep -q "unmounted /mnt/stale" <<<"$out"
# a process blocked on the dead share cannot be killed until the host side
# comes back: do not wait out the clean shutdown's time-outs, power off hard
"$REPO/scripts/stop-vm" --dir "$VM_DIR" --timeout 2 >/dev/null 2>&1
VM_DIR=
