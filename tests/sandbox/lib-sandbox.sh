# Runs porthole-init as PID 1 of fresh pid+mount+uts+ipc+net namespaces,
# chrooted into a copy of the minimal image's root tree, like a container.
# Sourced by the sandbox tests after tests/lib.sh.

SB_TREE=${SB_TREE:-$BUILD/image/minimal/root}
SB_ROOT= SB_PID= SB_UNSHARE= SB_LOG= SB_RUNS=0
# The sanitizer options of a program in the sandbox (init, and what a test
# runs there with `/usr/bin/env "${SB_SAN_ENV[@]}" PROGRAM`): the host's
# PORTHOLE_SAN_DIR is not there, so reports go to /san in the sandbox's
# root, copied into PORTHOLE_SAN_DIR by sandbox_cleanup. Empty otherwise.
SB_SAN_ENV=()
if [ -n "${PORTHOLE_SAN_DIR-}" ]; then
	san_options /san
	SB_SAN_ENV=("ASAN_OPTIONS=$ASAN_OPTIONS" "UBSAN_OPTIONS=$UBSAN_OPTIONS")
	san_options "$PORTHOLE_SAN_DIR"
fi

# sandbox_start [CONFIG_TEXT [CMDLINE]]: boots init, waits for its ready line.
# With SB_NETNS set, init runs in that named network namespace (ip netns add),
# which a test can wire up before init starts, instead of a new empty one.
sandbox_start() {
	local conf=${1-} cmdline=${2-} netopt=--net
	local -a wrap=()
	if [ -n "${SB_NETNS-}" ]; then
		netopt=
		wrap=(ip netns exec "$SB_NETNS")
	fi
	SB_ROOT=$(mktemp -d /tmp/porthole-sandbox.XXXXXX)
	SB_LOG=$SB_ROOT.log
	cp -a "$SB_TREE/." "$SB_ROOT/"
	cp "$BIN/porthole-init" "$SB_ROOT/sbin/porthole-init"
	[ -z "${PORTHOLE_SAN_DIR-}" ] || mkdir -m 1777 "$SB_ROOT/san"
	printf '%s\n' "$conf" >"$SB_ROOT/etc/porthole/init.conf"
	# the agent is a service of the image; a sandbox runs it only when asked
	# (SB_AGENT=1): the host's tests start their own
	[ -n "${SB_AGENT-}" ] || rm -f "$SB_ROOT/etc/porthole/services/porthole-agent.conf"
	# a test may break the tree first (SB_PREPARE names a function)
	[ -z "${SB_PREPARE-}" ] || "$SB_PREPARE" "$SB_ROOT"
	# The root is bind-mounted on itself, as container runtimes do, so that it
	# is a mount point of its own: init makes it shared.
	# (ip netns exec execs unshare: $! is still unshare's pid)
	# A cgroup of its own and a cgroup namespace rooted there: init's
	# /sys/fs/cgroup is that cgroup, so its services' cgroups land below it,
	# not beside the host's. sh joins it before ip netns exec, which mounts a
	# sysfs of its own without the cgroup mounts, then execs it: $! stays.
	# Not joined, init would have the host's whole hierarchy: it stops.
	# A sanitizer build of init (SB_SAN_ENV) finds /proc mounted already,
	# beneath the one init mounts: ASan reads its options from
	# /proc/self/environ and the main thread's stack from /proc/self/maps
	# before main(), and without them LeakSanitizer found nothing (the stack
	# it scanned was all memory); at exit it reads /proc/self/task, after
	# init unmounted its own /proc.
	sandbox_cgroup_make
	sh -c '[ -z "$0" ] || echo $$ >"$0/cgroup.procs" || exit 1; exec "$@"' "$SB_CG" "${wrap[@]}" \
		unshare --pid --mount --uts --ipc --cgroup $netopt --fork --kill-child \
		sh -c 'root=$1 cmdline=$2; shift 2; mount --bind "$root" "$root" &&
			{ [ $# -eq 0 ] || mount -t proc -o nosuid,nodev,noexec proc "$root/proc"; } &&
			exec chroot "$root" /usr/bin/env -i PORTHOLE_SANDBOX=1 PORTHOLE_CMDLINE="$cmdline" \
			"$@" /sbin/porthole-init --sandbox' sh "$SB_ROOT" "$cmdline" "${SB_SAN_ENV[@]}" \
		>"$SB_LOG" 2>&1 </dev/null &
	SB_UNSHARE=$!
	# init is unshare's child once --fork has run, exec'd through chroot
	if ! wait_for 20 sandbox_find_init; then
		return 1
	fi
	[ -n "${SB_NO_WAIT-}" ] && return 0
	if ! wait_for 20 grep -q 'porthole-init: ready' "$SB_LOG"; then
		echo "# sandbox did not come up; log:"
		sed 's/^/#   /' "$SB_LOG"
		return 1
	fi
}

# SB_CG: a fresh cgroup on the host's cgroup2 mount (/sys/fs/cgroup, or
# /sys/fs/cgroup/unified on a hybrid host). A host that mounts no cgroup2
# (cgroup v1 only) still has the hierarchy: it is mounted here for the run
# (SB_CG_MNT). Empty when the kernel has no cgroup2 at all.
SB_CG= SB_CG_MNT=
sandbox_cgroup_make() {
	local mnt
	mnt=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
	SB_CG=
	if [ -z "$mnt" ]; then
		# (a mount from the initial cgroup namespace sets the super block's
		# nsdelegate or clears it: set, as on every cgroup2 host of systemd's,
		# should a mount that this one cannot see rely on it)
		SB_CG_MNT=$(mktemp -d /tmp/porthole-cgroup2.XXXXXX)
		if ! mount -t cgroup2 -o nsdelegate none "$SB_CG_MNT"; then
			echo "# the host mounts no cgroup2 and it cannot be mounted: init runs in the host's cgroup"
			rmdir "$SB_CG_MNT"
			SB_CG_MNT=
			return 0
		fi
		mnt=$SB_CG_MNT
	fi
	SB_CG=$mnt/porthole-sandbox.$$.$RANDOM
	mkdir "$SB_CG" || SB_CG=
}

sandbox_cgroup_remove() {
	if [ -n "$SB_CG" ] && [ -d "$SB_CG" ]; then
		# the deepest first; each is empty once its processes are gone
		wait_for 10 sh -c 'find "$1" -depth -type d -exec rmdir {} + 2>/dev/null; [ ! -d "$1" ]' sh "$SB_CG" ||
			echo "# cgroup $SB_CG left behind"
	fi
	SB_CG=
	if [ -n "$SB_CG_MNT" ]; then
		umount "$SB_CG_MNT" && rmdir "$SB_CG_MNT"
		SB_CG_MNT=
	fi
}

sandbox_find_init() {
	SB_PID=$(pgrep -P "$SB_UNSHARE" -x porthole-init)
	[ -n "$SB_PID" ] || sandbox_gone
}

# sandbox_stop SIGNAL: sends SIGNAL to init and waits (bounded) for it to exit;
# sets SB_STATUS to init's exit status.
sandbox_stop() {
	kill -"$1" "$SB_PID"
	SB_STATUS=timeout
	if wait_for 60 sandbox_gone; then
		wait "$SB_UNSHARE"
		SB_STATUS=$?
	fi
}

# sandbox_move_link IFACE: moves a host link into init's network namespace
# (a link that appears after boot).
sandbox_move_link() { ip link set dev "$1" netns "$SB_PID"; }

sandbox_gone() { ! kill -0 "$SB_UNSHARE" 2>/dev/null; }

# in_sandbox COMMAND...: runs a host command inside init's pid namespace
# (host file system): what it forks and leaves behind is init's to reap.
in_sandbox() { nsenter -t "$SB_PID" -p -- "$@"; }

sandbox_cleanup() {
	[ -n "$SB_UNSHARE" ] && kill -KILL "$SB_UNSHARE" 2>/dev/null
	[ -n "$SB_UNSHARE" ] && wait "$SB_UNSHARE" 2>/dev/null
	sandbox_cgroup_remove
	sandbox_san_collect
	[ -n "$SB_ROOT" ] && rm -rf "$SB_ROOT" "$SB_LOG"
	SB_ROOT= SB_UNSHARE= SB_PID=
}

# sandbox_san_collect: the sanitizer reports written in the sandbox, into
# PORTHOLE_SAN_DIR as sandbox-N.NAME (N counts the test's sandboxes: init is
# PID 1, asan.1, in each), with the sandbox's log beside them.
sandbox_san_collect() {
	local f
	[ -n "${PORTHOLE_SAN_DIR-}" ] && [ -n "$SB_ROOT" ] && [ -d "$SB_ROOT/san" ] || return 0
	SB_RUNS=$((SB_RUNS + 1))
	for f in "$SB_ROOT"/san/*; do
		[ -f "$f" ] || continue
		cp "$f" "$PORTHOLE_SAN_DIR/sandbox-$SB_RUNS.${f##*/}"
		cp "$SB_LOG" "$PORTHOLE_SAN_DIR/sandbox-$SB_RUNS.log" 2>/dev/null
	done
}

sandbox_require() {
	need_root "sandbox"
	if [ ! -d "$SB_TREE/etc/porthole" ]; then
		not_ok "sandbox: no image tree at $SB_TREE (make image)"
		exit 1
	fi
}
