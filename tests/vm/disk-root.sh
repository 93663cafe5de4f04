#!/bin/bash
# The engine's root on its read-only disk, when it cannot be used: the
# image's small initramfs booted with no root disk, with a disk of zeros, and
# with an erofs image cut after its superblock. Each time init says on the
# console which it was and what it looked for, then powers the VM off (PID 1
# never exits, nothing hangs). Only the small initramfs boots: seconds each.
# The working root disk (overlay, read-only, writes in the tmpfs, pivot_root
# for runc) is tests/vm/engine.sh's.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
img=$BUILD/image/engine
if [ ! -f "$img/initramfs.img" ]; then
	skip "the root disk's failures" "no engine image: make image PROFILE=engine"
	exit 0
fi
if [ ! -f "$img/root.img" ]; then
	skip "the root disk's failures" \
		"the engine image's root is its initramfs (rootfs/profiles/engine.rootform)"
	exit 0
fi
# An image directory of its own (run-vm --profile NAME boots
# $BUILD/image/NAME): the engine's kernel and small initramfs, and the root
# disk each case gives it.
name=disk-root-test
fake=$BUILD/image/$name
dir=$BUILD/vm-test-$name
trap '"$REPO/scripts/stop-vm" --dir "$dir" --timeout 10 >/dev/null 2>&1; rm -rf "$fake"' EXIT
rm -rf "$fake"
mkdir -p "$fake" "$dir"
for f in vmlinux vmlinuz initramfs.img kernel-version; do
	[ ! -e "$img/$f" ] || ln -s "$(cd "$img" && pwd)/$f" "$fake/$f"
done

# boot_fails WHAT: boots once in the foreground; true when QEMU exited by
# itself (init's power-off) within the time-out, which is for a hang only
boot_fails() {
	rm -f "$dir/console.log"
	timeout 300 "$REPO/scripts/run-vm" --profile "$name" --dir "$dir" --memory 512 \
		>"$dir/run-vm.out" 2>&1
	local rc=$?
	grep -a 'porthole-init' "$dir/console.log" | grep -aE 'emerg|root disk' | sed "s/^/# $1: /"
	[ $rc -ne 124 ]
}
said() { grep -aq "$1" "$dir/console.log"; }

boot_fails "no root disk"
check "no root disk: init powers off" [ $? -eq 0 ]
check "no root disk: the emergency names the serial looked for and the disks seen" \
	said "root disk: no disk with serial porthole-root in /sys/block after 5 s (disks: "
check "no root disk: and the step that could not boot" said "the root disk: cannot boot"

truncate -s 64M "$fake/root.img"
boot_fails "a disk of zeros"
check "a disk of zeros: init powers off" [ $? -eq 0 ]
check "a disk of zeros: the emergency says it holds no erofs or squashfs" \
	said "(serial porthole-root) holds neither erofs nor squashfs"
check "a disk of zeros: and the step that could not boot" said "the root disk: cannot boot"

rm -f "$fake/root.img"
head -c 4096 "$img/root.img" >"$fake/root.img"
truncate -s 64M "$fake/root.img"
boot_fails "a cut erofs image"
check "a cut erofs image: init powers off" [ $? -eq 0 ]
check "a cut erofs image: the emergency names the disk, erofs and what it could not read" \
	said "(serial porthole-root, erofs): /sbin/porthole-init unreadable, a corrupt image?"
check "a cut erofs image: and the step that could not boot" said "the root disk: cannot boot"
