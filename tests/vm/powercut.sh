#!/bin/bash
# A power cut while the guest writes to the data disk: QEMU is killed with
# SIGKILL at a random moment while tests/helpers/fsync-log appends numbered,
# checksummed records to a file on /var/lib, fsyncing each and only then
# reporting its number to the host on a virtio-serial port. Several rounds,
# each a fresh boot on the same disk image. After each cut: the image's
# superblock says the journal needs recovery; the next boot's e2fsck -p (run
# by init before mounting) replays it and finds nothing else to fix; every
# record up to the last number the host heard is there and intact, and what
# follows it is nothing or a torn beginning of the next record. At the end,
# after a clean shutdown, e2fsck -fn on the host's image file finds it clean.
# Last, a disk with damage no replay mends: init leaves it unmounted and
# unrepaired, and says so. In round 2 the power is cut a second time as the next boot's e2fsck begins
# replaying the journal. What this models: the guest loses power; the host's
# page cache survives (QEMU is killed, not the host), so a write QEMU had
# handed to the host file is kept even if the guest had not flushed it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require
ROUNDS=${POWERCUT_ROUNDS:-4}
# the guest's program, built for its architecture (GUEST_BUILD)
writer=$GUEST_BUILD/tests/helpers/fsync-log
if [ ! -x "$writer" ]; then
	not_ok "powercut: $writer is not built (make $writer)"
	exit 1
fi
# e2fsprogs is Debian's "required" priority: on every Debian 12 host
for p in e2fsck dumpe2fs mkfs.ext4 debugfs tune2fs socat; do
	if ! command -v "$p" >/dev/null; then
		skip "power cuts on the data disk" "no $p on the host (scripts/deps)"
		exit 0
	fi
done
overlay=$(mktemp -d "$BUILD/powercut-overlay.XXXXXX")
IMG=$overlay.img
reader=""
trap '[ -z "$reader" ] || kill "$reader" 2>/dev/null; vm_cleanup; rm -rf "$overlay" "$IMG" "$overlay".bad.img*' EXIT
mkdir -p "$overlay/usr/local/bin"
cp "$writer" "$overlay/usr/local/bin/"
truncate -s 256M "$IMG"
LOG=/var/lib/powercut/records
PORT=powercut

boot() {
	if ! vm_start powercut --disk "$IMG" --overlay "$overlay" --serial-port "$PORT"; then
		not_ok "boot $1 on the data disk"
		exit 1
	fi
}
# fsck_line: what init logged of e2fsck's run on this boot
fsck_lines() { grep -a -E 'porthole-init: .*e2fsck|porthole-init: .*(recovering journal|porthole-data:)' "$VM_DIR/console.log" | sed -E 's/\r$//; s/^.*porthole-init: //'; }
# the guest's check of the log: "intact N bytes B tail T KIND"
check_log() { vm "/usr/local/bin/fsync-log check $LOG; echo rc=\$?"; }

boot "1 (blank disk)"
check "first boot: the blank disk formatted and mounted on /var/lib" \
	grep -aq "porthole-init: mounted /dev/vda on /var/lib" "$VM_DIR/console.log"
vm "mkdir -p ${LOG%/*}" >/dev/null

total_acked=0 cuts=0 lost=0
for round in $(seq "$ROUNDS"); do
	acks=$overlay/acks.$round
	: >"$acks"
	# the host's end of the port, connected before the writer starts: a
	# virtio-serial write with no client on the socket is dropped
	socat -u "UNIX-CONNECT:$VM_DIR/$PORT.sock" "OPEN:$acks,append" &
	reader=$!
	sleep 0.5
	# (in a subshell: the console's wrapper puts "; echo ..." after it)
	vm "(/usr/local/bin/fsync-log append $LOG /dev/virtio-ports/$PORT </dev/null >/dev/null 2>/tmp/fsync-log.err &)" >/dev/null
	# beside it, files written, renamed and removed without fsync, so that
	# the cut finds dirty data and metadata in flight, not just the log's
	vm "(i=0; while :; do f=${LOG%/*}/churn.\$((i % 8)); dd if=/dev/urandom of=\$f.new bs=64k count=8 2>/dev/null; mv \$f.new \$f; i=\$((i + 1)); done </dev/null >/dev/null 2>&1 &)" >/dev/null
	got_ack() { grep -aq '^ack [0-9]*$' "$acks"; }
	if ! wait_for 60 got_ack; then
		not_ok "round $round: the writer reports fsynced records"
		vm 'cat /tmp/fsync-log.err' | sed 's/^/# /'
		exit 1
	fi
	# a random moment: 0.2 to 5 s after the first record was reported
	sleep "$((RANDOM % 5)).$((RANDOM % 10))$((RANDOM % 10))"
	sleep 0.2
	qpid=$(cat "$VM_DIR/qemu.pid")
	kill -KILL "$qpid"
	cuts=$((cuts + 1))
	# the port's socket closes with QEMU: all that was sent is in $acks
	wait_for 30 eval '! kill -0 "$reader" 2>/dev/null'
	wait "$reader" 2>/dev/null
	reader=""
	last=$(grep -a '^ack [0-9]*$' "$acks" | tail -n 1 | cut -d' ' -f2)
	heard=$(grep -ac '^ack [0-9]*$' "$acks")
	vm_cleanup
	features=$(dumpe2fs -h "$IMG" 2>/dev/null | grep '^Filesystem features:')
	check "round $round: cut after $heard records reported (last $last); the journal needs recovery" \
		grep -qw needs_recovery <<<"$features"

	# round 2's power flickers: a second cut in the boot that replays the
	# journal, as soon as e2fsck says it is recovering. Where it lands
	# (during the replay, the mount or after) is printed; the boot after it
	# must replay what is left, or find nothing left to replay.
	if [ "$round" = 2 ]; then
		dir=$GUEST_BUILD/vm-test-powercut
		rm -f "$dir/console.log"
		"$REPO/scripts/run-vm" --profile "$VM_PROFILE" --dir "$dir" --background --timeout 300 \
			--disk "$IMG" --overlay "$overlay" --serial-port "$PORT" >"$overlay/run-vm.out" 2>&1 &
		runvm=$!
		replaying() { grep -aq 'recovering journal' "$dir/console.log" 2>/dev/null; }
		if wait_for 120 replaying; then
			kill -KILL "$(cat "$dir/qemu.pid")"
			cuts=$((cuts + 1))
			after=$(sed -n '/recovering journal/,$p' "$dir/console.log" | grep -a -c -E 'e2fsck /dev/vda|mounted /dev/vda')
			ok "round $round: a second cut as the next boot's e2fsck began the replay ($after of e2fsck's verdict and the mount logged before it)"
		else
			not_ok "round $round: a second cut as the next boot's e2fsck began the replay (no replay seen)"
		fi
		wait "$runvm" 2>/dev/null
		"$REPO/scripts/stop-vm" --dir "$dir" >/dev/null 2>&1
		features=$(dumpe2fs -h "$IMG" 2>/dev/null | grep '^Filesystem features:')
	fi

	boot "$((round + 1)) (after cut $round)"
	fsck=$(fsck_lines)
	echo "$fsck" | sed 's/^/# /'
	if grep -qw needs_recovery <<<"$features"; then
		check "round $round: e2fsck -p at boot replayed the journal" grep -q 'recovering journal' <<<"$fsck"
	else
		check "round $round: the journal was replayed before the cut: none to replay now" \
			eval '! grep -q "recovering journal" <<<"$fsck"'
	fi
	check "round $round: ...and found nothing else to fix (clean)" \
		eval 'grep -q "e2fsck /dev/vda: clean" <<<"$fsck" && ! grep -q "errors" <<<"$fsck"'
	check "round $round: mounted again" grep -aq "porthole-init: mounted /dev/vda on /var/lib" "$VM_DIR/console.log"
	out=$(check_log)
	read -r _ intact _ bytes _ tail kind <<<"$(head -n 1 <<<"$out")"
	echo "# round $round: last reported $last; on disk: $(head -n 1 <<<"$out")"
	check "round $round: records 0..$last, all reported fsynced, are intact (intact: $intact)" \
		test "${intact:-0}" -gt "$last"
	check "round $round: after them, nothing or a torn record ($tail bytes, ${kind:-?})" \
		eval 'grep -qx rc=0 <<<"$out" && [[ $kind == none || $kind == torn ]]'
	[ "${intact:-0}" -gt "$last" ] || lost=$((lost + last + 1 - ${intact:-0}))
	total_acked=$((last + 1))
done

vm_stop >/dev/null
check "shut down cleanly: the data disk unmounted before power-off" \
	grep -aq "EXT4-fs (vda): unmounting filesystem" "$VM_DIR/console.log"
out=$(e2fsck -fn "$IMG" 2>&1)
rc=$?
check "e2fsck -fn on the host's image file: clean (status $rc)" test $rc = 0
[ $rc = 0 ] || sed 's/^/# /' <<<"$out"
echo "# $cuts power cuts; $total_acked records reported fsynced and verified ($bytes bytes); lost: $lost"

# Damage that a replay does not mend (here made on purpose: the root
# directory's inode cleared, the file system marked as having errors):
# e2fsck -p stops (status 4, "RUN fsck MANUALLY"), and init leaves the disk
# unmounted and untouched rather than mount or repair someone's data
# unasked; /var/lib is then on tmpfs, and health says it is not mounted.
bad=$overlay.bad.img
truncate -s 64M "$bad"
mkfs.ext4 -q -L porthole-data "$bad" && debugfs -w -R "clri <2>" "$bad" >/dev/null 2>&1 &&
	tune2fs -E force_fsck "$bad" >/dev/null
cp --sparse=always "$bad" "$bad.before"
if ! vm_start powercut-bad --disk "$bad"; then
	not_ok "boot with a data disk that e2fsck -p cannot mend"
	exit 1
fi
check "a disk that e2fsck -p cannot mend: init says so and does not mount it" \
	grep -aq "porthole-init: error: e2fsck /dev/vda: errors left (status 4): not mounted" "$VM_DIR/console.log"
health=$("$BUILD/bin/porthole" --connect "$(vm_agent)" --timeout 30 --json health)
check "porthole-health: /var/lib not mounted" grep -q '"path":"/var/lib","mounted":false' <<<"$health"
# a disk that is there and failed is not "no data disk", which is a way to run
check "...and degraded, with init's reason" \
	eval 'grep -q "\"status\":\"degraded\"" <<<"$health" &&
		grep -q "\"data disk not mounted: e2fsck /dev/vda: errors left (status 4): not mounted" <<<"$health"'
vm_stop >/dev/null
# e2fsck -p itself writes the superblock (its counters and checksum) as it
# gives up: bytes 1024 to 2047; nothing else may change
changed=$(cmp -l "$bad.before" "$bad" | awk '$1 <= 1024 || $1 > 2048 { n++ } END { print n + 0 }')
check "...and nothing on it repaired unasked: no byte changed outside the superblock ($changed)" \
	test "$changed" = 0
rm -f "$bad" "$bad.before"
