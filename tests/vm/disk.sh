#!/bin/bash
# The persistent data disk: a blank image is formatted at first boot and
# mounted on /var/lib; what is written and synced survives a reboot; an image
# enlarged on the host is grown at the next boot; deleting a large file and
# trimming gives the space back to the host's sparse image file.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require
IMG=$(mktemp "$BUILD/disk-test.XXXXXX.img")
trap 'vm_cleanup; rm -f "$IMG"' EXIT
truncate -s 256M "$IMG"
C() { "$BUILD/bin/porthole" --connect "$(vm_agent)" --timeout 60 "$@"; }
agent_up() { C ping >/dev/null 2>&1; }
# module_threads=0: the boots load their modules one thread per CPU (the
# default is one at a time), so that the parallel path runs where a disk
# depends on it: virtio_blk must be there before step 3 looks for the disk
boot() {
	if ! vm_start disk --disk "$IMG" --append porthole.module_threads=0 || ! wait_for 60 agent_up; then
		not_ok "boot with the data disk ($1)"
		exit 1
	fi
}
log() { grep -aq "porthole-init: .*$1" "$VM_DIR/console.log"; }

boot "first"
cpus=$(vm 'grep -c ^processor /proc/cpuinfo')
check "module_threads=0: the modules load $cpus at once, virtio_blk among them" \
	eval 'log "modalias: .* $cpus at once), [0-9]* ms:.* virtio_blk" &&
		[ "$(vm "grep -c ^virtio_blk /proc/modules")" = 1 ]'
check "first boot: the blank disk is made ext4 (e2fsprogs' mke2fs)" \
	log "/dev/vda is blank: making an ext4 file system"
check "first boot: mounted on /var/lib" log "mounted /dev/vda on /var/lib"
health=$(C --json health)
features=$(vm 'dumpe2fs -h /dev/vda 2>/dev/null | grep "^Filesystem features:"')
check "the file system has a journal and extents ($features)" \
	eval 'grep -q has_journal <<<"$features" && grep -q extent <<<"$features"'
check "porthole-health: /var/lib mounted" grep -q '"path":"/var/lib","mounted":true' <<<"$health"
sum=$(vm 'dd if=/dev/urandom of=/var/lib/keep bs=64k count=16 2>/dev/null; sync; md5sum </var/lib/keep')
vm_stop >/dev/null

boot "second"
check "second boot: not formatted again" eval '! log "is blank"'
check "second boot: e2fsck -p found it clean" log "e2fsck /dev/vda: clean"
check "second boot: mounted again" log "mounted /dev/vda on /var/lib"
again=$(vm 'md5sum </var/lib/keep')
check "a file written and synced survives a reboot" test -n "$sum" -a "$sum" = "$again"
vm_stop >/dev/null

truncate -s 512M "$IMG"
boot "after growing the image"
check "the enlarged image is grown at boot" log "grew /dev/vda from 256 to 512 MiB"
size=$(vm "df -k /var/lib | awk 'NR==2 {print \$2}'")
check "/var/lib is now over 400 MiB ($size KiB)" test "${size:-0}" -gt 409600

vm 'dd if=/dev/urandom of=/var/lib/big bs=1M count=64 2>/dev/null; sync' >/dev/null
before=$(du -k "$IMG" | cut -f1)
vm 'rm /var/lib/big; sync' >/dev/null
out=$(C --json trim)
trimmed=$(sed -n 's/.*"trimmed_bytes":\([0-9]*\)}$/\1/p' <<<"$out")
check "porthole-trim reports bytes trimmed ($trimmed)" test "${trimmed:-0}" -gt $((32 << 20))
after=$(du -k "$IMG" | cut -f1)
check "the host image's allocated size shrinks ($before KiB -> $after KiB)" \
	test "$after" -lt $((before - 32 * 1024))
out=$(C trim /var/lib)
check "porthole trim PATH: one file system" grep -q "^/var/lib .* trimmed" <<<"$out"
vm_stop >/dev/null
# the kernel says so when the last reference goes (fs/ext4/super.c)
check "shut down cleanly: the data disk unmounted before power-off" \
	grep -aq "EXT4-fs (vda): unmounting filesystem" "$VM_DIR/console.log"
