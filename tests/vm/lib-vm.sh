# Boots the real image in QEMU (KVM when usable, TCG otherwise) for the vm
# tests, and runs commands in the guest through its console shell.
# Sourced after tests/lib.sh. ARCH (tests/lib.sh: the host's by default)
# picks the guest: ARCH=arm64 boots GUEST_BUILD's arm64 image under
# qemu-system-aarch64 (run-vm reads ARCH too), driven by the host's own
# programs in BUILD/bin.

VM_DIR= VM_PROFILE=${VM_PROFILE:-minimal}
# the image under test: its guest-side files (init.conf, the module tree) are
# the ones a test compares the guest with
VM_IMAGE=$GUEST_BUILD/image/$VM_PROFILE

# vm_start NAME [run-vm options...]: boots in the background, waits for ready.
vm_start() {
	VM_DIR=$GUEST_BUILD/vm-test-$1
	shift
	mkdir -p "$VM_DIR"
	"$REPO/scripts/stop-vm" --dir "$VM_DIR" >/dev/null 2>&1
	rm -f "$VM_DIR"/console.log
	if ! "$REPO/scripts/run-vm" --profile "$VM_PROFILE" --dir "$VM_DIR" --background \
		--timeout 300 "$@" >"$VM_DIR/run-vm.out" 2>&1; then
		sed 's/^/# /' "$VM_DIR/run-vm.out"
		return 1
	fi
	grep -a 'porthole-init: ready' "$VM_DIR/console.log" | tail -n 1 | sed 's/^/# /'
	# the agent may listen a moment after init is ready: a vsock connection
	# then gets an RST, where a virtio-serial port would have waited
	if [ -f "$VM_DIR/vsock.address" ] && [ "${VM_AGENT:-vsock}" = vsock ] &&
		! wait_for 60 "$BUILD/bin/porthole" --connect "$(vm_agent)" --timeout 5 ping >/dev/null 2>&1; then
		echo "# the agent did not answer over vsock within 60 s"
	fi
	return 0
}

# vm COMMAND: runs COMMAND in the guest's shell; its output on stdout.
# The console also carries the kernel's messages (init's DHCP lines, the
# kernel's own "IPv6: ADDRCONF(...)"), which may land in the middle of a line
# of the output: scripts/console --run takes each "[ seconds.micro] " record
# out whole, with its line end, so the line it split is one line again.
vm() {
	python3 "$REPO/scripts/console" "$VM_DIR/console.sock" --timeout 120 --run "$1" |
		sed -E 's/\r$//' | grep -av '^$'
	return "${PIPESTATUS[0]}"
}

# vm_agent: the agent's address for the tests: vsock, through the
# porthole-vsockd that run-vm starts (its hybrid socket, agent port 1024);
# VM_AGENT=serial takes the virtio-serial port org.porthole.agent.0 instead.
# tests/vm/agent.sh and vsock.sh name their transports themselves.
vm_agent() {
	case ${VM_AGENT:-vsock} in
	vsock) echo "hvsock:$VM_DIR/vsock.sock:1024" ;;
	serial) echo "unix:$VM_DIR/agent.sock" ;;
	*) echo "VM_AGENT must be vsock or serial, not $VM_AGENT" >&2 && return 1 ;;
	esac
}

# C ARGS...: the host's porthole asking the tests' agent (vm_agent), each
# reply within VM_CLI_TIMEOUT seconds (30); agent_up: it answers a ping now
# (for wait_for)
C() { "$BUILD/bin/porthole" --connect "$(vm_agent)" --timeout "${VM_CLI_TIMEOUT:-30}" "$@"; }
agent_up() { C ping >/dev/null 2>&1; }

vm_stop() { "$REPO/scripts/stop-vm" --dir "$VM_DIR" --timeout 120; }

vm_cleanup() {
	[ -n "$VM_DIR" ] && "$REPO/scripts/stop-vm" --dir "$VM_DIR" --timeout 30 >/dev/null 2>&1
	VM_DIR=
}

# vm_require: the image is there (and, for a foreign ARCH's guest, its QEMU).
# The host's own image is make check's to build, so its absence fails; a
# foreign architecture's guest is an extra this host may lack: it is skipped,
# saying why.
vm_require() {
	local qemu=qemu-system-x86_64
	[ "$ARCH" = arm64 ] && qemu="qemu-system-aarch64"
	echo "# guest: $ARCH, $VM_IMAGE"
	if [ "$ARCH" != "$HOST_ARCH" ]; then
		if ! command -v "$qemu" >/dev/null; then
			skip "vm: $ARCH guest" "no $qemu here (scripts/deps --arch $ARCH)"
			exit 0
		fi
		if [ ! -f "$VM_IMAGE/initramfs.img" ]; then
			skip "vm: $ARCH guest" "no $ARCH $VM_PROFILE image in $VM_IMAGE (make image ARCH=$ARCH PROFILE=$VM_PROFILE)"
			exit 0
		fi
	fi
	if [ ! -f "$VM_IMAGE/initramfs.img" ]; then
		not_ok "vm: no $VM_PROFILE image (make image)"
		exit 1
	fi
}
