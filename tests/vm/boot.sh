#!/bin/bash
# The minimal image boots to the ready line; mounts, modules and device links
# are what the configuration asks for; power-off ends with QEMU exiting; a bad
# command line key still boots, with its message on the console.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require
trap vm_cleanup EXIT

if ! vm_start boot; then
	not_ok "minimal image boots to the ready line"
	exit 1
fi
ok "minimal image boots to the ready line"

tree=$VM_IMAGE/root
kver=$(cat "$VM_IMAGE/kernel-version")

# / is a bind mount of the initramfs, not the initial rootfs mount itself:
# pivot_root(2), which runc needs, works (in a mount namespace of its own)
pivoted=$(vm "unshare -m sh -c 'mount -t tmpfs t /mnt && mkdir /mnt/old && cd /mnt && pivot_root . old && echo pivoted'")
check "pivot_root works from the root init leaves (runc needs it)" test "$pivoted" = pivoted
# (the initial rootfs is its own parent in mountinfo; the bind mount is not)
root_ids=$(vm "awk '\$5 == \"/\" { print \$1, \$2 }' /proc/self/mountinfo" | head -n 1)
check "/ is a mount of its own, not the initial rootfs (ids: $root_ids)" \
	eval '[ -n "$root_ids" ] && [ "${root_ids% *}" != "${root_ids#* }" ]'

# The root is the initramfs itself, not a copy: memory holds it once.
shmem_kb=$(vm "awk '/^Shmem:/ { print \$2 }' /proc/meminfo" | grep -E '^[0-9]+$' | tail -n 1)
root_kb=$(vm 'du -skx / | cut -f1' | grep -E '^[0-9]+$' | tail -n 1)
check "memory holds the root once (shared memory ${shmem_kb:-?} KiB, root ${root_kb:-?} KiB)" test "${shmem_kb:-0}" -gt 0 -a "${shmem_kb:-0}" -lt $((${root_kb:-0} * 3 / 2))

vm 'cat /proc/self/mountinfo' >"$VM_DIR/mountinfo"
mount_has() {
	local target=$1 fstype=$2 line
	shift 2
	line=$(awk -v t="$target" -v f="$fstype" \
		'{ for (i = 7; $i != "-"; i++); if ($5 == t && $(i + 1) == f) print $6 "," $(i + 3) }' \
		"$VM_DIR/mountinfo" | tail -n 1)
	[ -n "$line" ] || { echo "# $target ($fstype) not mounted"; return 1; }
	for o in "$@"; do
		case ",$line," in *",$o,"*) ;; *) echo "# $target: no $o in $line"; return 1 ;; esac
	done
}
check "/proc, /sys, /dev mounted" mount_has /proc proc nosuid nodev noexec
check "/sys mounted" mount_has /sys sysfs
check "/dev is devtmpfs" mount_has /dev devtmpfs
check "/dev/pts with gid=5,mode=620,ptmxmode=666" mount_has /dev/pts devpts gid=5 mode=620 ptmxmode=666
check "/dev/shm is a tmpfs" mount_has /dev/shm tmpfs nosuid nodev
check "/run is a tmpfs" mount_has /run tmpfs
check "/tmp is a tmpfs" mount_has /tmp tmpfs
# tmpfs shows no mode= when it is its default, 1777: the directories tell
check "/tmp and /dev/shm: mode 1777" test "$(vm 'stat -c %a /tmp /dev/shm' | tr -d '\r' | tr '\n' ' ')" = "1777 1777 "
check "/sys/fs/cgroup is cgroup2 with nsdelegate (init is in the initial namespace)" \
	mount_has /sys/fs/cgroup cgroup2 nsdelegate
check "securityfs, bpf, tracefs mounted (best effort, present in this kernel)" \
	mount_has /sys/fs/bpf bpf
check "fusectl mounted after the modules" mount_has /sys/fs/fuse/connections fusectl

# The modules init.conf asks for, resolved on the host by --check against the
# image's own module tree: every one of them is loaded in the guest.
"$BUILD/bin/porthole-init" --check "$tree/etc/porthole/init.conf" \
	--modules-dir "$tree/lib/modules/$kver" | awk '/^load module/ { print $3 }' | sort >"$VM_DIR/expected-modules"
vm 'cut -d" " -f1 /proc/modules' | sort >"$VM_DIR/loaded-modules"
missing=$(comm -23 "$VM_DIR/expected-modules" "$VM_DIR/loaded-modules" | tr '\n' ' ')
if [ -s "$VM_DIR/expected-modules" ] && [ -z "$missing" ]; then
	ok "the configured modules and their dependencies are loaded ($(wc -l <"$VM_DIR/expected-modules"))"
else
	not_ok "configured modules loaded (missing: ${missing:-none expected})"
fi

# The drivers come by the devices' modalias (init.conf no longer names them):
# loaded, and named in init's modalias line; no data disk, so no virtio_blk.
# The power button is the machine's: x86's ACPI button (q35), arm64's PL061
# GPIO line read by gpio_keys (virt's device tree).
case $ARCH in
arm64) power_button=gpio_keys ;;
*) power_button=button ;;
esac
alias_line=$(grep -a -m 1 'porthole-init: modalias: ' "$VM_DIR/console.log" | tr -d '\r')
echo "# ${alias_line#*porthole-init: }"
by_alias() {
	local m
	for m in "$@"; do
		grep -qx "$m" "$VM_DIR/loaded-modules" || { echo "# $m not loaded"; return 1; }
		grep -qx "$m" "$VM_DIR/expected-modules" && { echo "# $m is in init.conf's list"; return 1; }
		[[ "$alias_line " == *" $m "* ]] || { echo "# $m not in init's modalias line"; return 1; }
	done
}
check "loaded by modalias: virtio_pci, virtio_net, virtio_console, virtio_rng, virtio_balloon, vsock's transport, $power_button, evdev" \
	by_alias virtio_pci virtio_net virtio_console virtio_rng virtio_balloon vmw_vsock_virtio_transport "$power_button" evdev
check "no disk, no virtio_blk: only what the devices ask for" eval '! grep -qx virtio_blk "$VM_DIR/loaded-modules"'
# Hotplug: a device that comes back after boot gets its driver again through
# its uevent (virtio-rng's PCI function removed, its driver unloaded, a rescan)
hot=$(vm 'd=$(for v in /sys/bus/virtio/devices/*; do [ "$(cat $v/device)" = 0x0004 ] && readlink -f $v/..; done); echo 1 >$d/remove && rmmod virtio_rng && echo 1 >/sys/bus/pci/rescan; for i in 1 2 3 4 5 6 7 8 9 10; do grep -q "^virtio_rng " /proc/modules && break; sleep 1; done; grep -c "^virtio_rng " /proc/modules')
check "hotplug: virtio_rng loaded again for its device's uevent" \
	eval '[ "$hot" = 1 ] && grep -aq "porthole-init: module virtio_rng loaded for virtio:d00000004" "$VM_DIR/console.log"'

link=$(vm 'readlink /dev/virtio-ports/org.porthole.agent.0')
check "/dev/virtio-ports/org.porthole.agent.0 links to its port" eval '[[ "$link" == ../vport*p* ]]'
link=$(vm 'readlink /dev/virtio-ports/org.qemu.guest_agent.0')
check "/dev/virtio-ports/org.qemu.guest_agent.0 links to its port" eval '[[ "$link" == ../vport*p* ]]'
check "host name from init.conf" test "$(vm hostname)" = porthole
check "loopback up" eval "vm 'cat /sys/class/net/lo/operstate' | grep -qx unknown"
check "open-file limit for a container host" test "$(vm 'ulimit -n')" = 1048576
check "PID 1 is porthole-init" test "$(vm 'cat /proc/1/comm')" = porthole-init

# cgroups v2: the controllers enabled down to /porthole; the agent is a
# service in its own cgroup, and its figures come from there
ctl=$(vm 'cat /sys/fs/cgroup/porthole/cgroup.subtree_control' | tr -d '\r')
check "controllers enabled for the services (${ctl})" eval '[[ " $ctl " == *" memory "* && " $ctl " == *" cpu "* && " $ctl " == *" pids "* ]]'
check "the agent runs in /porthole/porthole-agent" \
	eval "vm 'cat /proc/\$(pidof porthole-agent)/cgroup' | grep -qx '0::/porthole/porthole-agent'"
svcs=$("$BUILD/bin/porthole" --connect "$(vm_agent)" --timeout 30 --json services)
agent_svc() { jq -e '.[] | select(.name == "porthole-agent" and .state == "running" and .memory_bytes > 0 and .cpu_usec > 0)' <<<"$svcs" >/dev/null; }
check "porthole services: the agent running, with its cgroup's memory and cpu" agent_svc
check "its output is in /var/log/porthole/porthole-agent.log" \
	eval "vm 'grep -c \"porthole-init: started: pid\" /var/log/porthole/porthole-agent.log' | grep -qx 1"

if vm_stop >"$VM_DIR/stop.out" 2>&1; then
	ok "power button: the VM powers off and QEMU exits by itself"
	sed 's/^/# /' "$VM_DIR/stop.out"
else
	not_ok "power button: the VM powers off and QEMU exits by itself"
	sed 's/^/# /' "$VM_DIR/stop.out"
fi
check "shutdown ran in order (console)" grep -q 'shutdown: power-off after' "$VM_DIR/console.log"
VM_DIR=

# A bad key and a bad value on the kernel command line: boot goes on. The
# same boot loads its modules the old way, a fixed list and no modalias walk:
# a user's init.conf that names the drivers still boots.
old_list=virtio_pci,virtio_console,virtio_net,virtio_rng,virtio_balloon,$power_button,evdev,vsock,vmw_vsock_virtio_transport,vsock_loopback,fuse,tcp_diag,udp_diag
if vm_start badcmdline --append "porthole.nosuchkey=1 porthole.log=loud porthole.modalias=0 porthole.modules=$old_list"; then
	ok "bad command line keys: still boots"
else
	not_ok "bad command line keys: still boots"
fi
check "bad command line key: warning on the console" \
	grep -q "kernel command line: unknown key 'nosuchkey', ignoring" "$VM_DIR/console.log"
check "bad command line value: error on the console" \
	grep -q "kernel command line: log: invalid value 'loud'" "$VM_DIR/console.log"
check "modalias=0 and the old fixed list: its 13 modules loaded, no walk" \
	eval 'grep -aq "porthole-init: modules: 13 configured in" "$VM_DIR/console.log" &&
		! grep -aq "porthole-init: modalias: " "$VM_DIR/console.log" &&
		[ "$(vm "grep -cE \"^(virtio_net|virtio_console|$power_button|evdev) \" /proc/modules")" = 4 ]'
vm_stop >/dev/null 2>&1
