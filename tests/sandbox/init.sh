#!/bin/bash
# porthole-init as PID 1 of a namespace: mounts, reaping, shutdown, bad config.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"
sandbox_require
trap sandbox_cleanup EXIT

# --- boot: mounts and their options, host name, loopback
if ! sandbox_start "hostname = sandbox-1
stop_timeout = 2"; then
	not_ok "init comes up as PID 1 of a namespace"
	exit 1
fi
ok "init comes up as PID 1 of a namespace"

info=/proc/$SB_PID/mountinfo
# mount_has TARGET FSTYPE [OPTION...]: the mount's options (per-mount and
# super block together) include each OPTION.
mount_has() {
	local target=$1 fstype=$2 line opts
	shift 2
	line=$(awk -v t="$target" -v f="$fstype" \
		'{ for (i = 7; $i != "-"; i++); if ($5 == t && $(i + 1) == f) print $6 "," $(i + 3) }' "$info" | tail -n 1)
	[ -n "$line" ] || { echo "# $target ($fstype) not mounted"; return 1; }
	for o in "$@"; do
		case ",$line," in
		*",$o,"*) ;;
		*) echo "# $target ($fstype): no option $o in $line"; return 1 ;;
		esac
	done
}
check "/proc is proc, nosuid nodev noexec" mount_has /proc proc nosuid nodev noexec
check "/sys is sysfs" mount_has /sys sysfs nosuid nodev noexec
check "/dev is devtmpfs" mount_has /dev devtmpfs nosuid
check "/dev/pts: gid=5, mode=620, ptmxmode=666" mount_has /dev/pts devpts gid=5 mode=620 ptmxmode=666
# tmpfs shows no mode= when it is its default, 1777: the directory tells
mode_of() { stat -c %a "/proc/$SB_PID/root$1"; }
check "/dev/shm is a tmpfs, mode 1777" mount_has /dev/shm tmpfs nosuid nodev
check "/dev/shm: mode 1777" test "$(mode_of /dev/shm)" = 1777
check "/dev/mqueue is mqueue" mount_has /dev/mqueue mqueue
check "/run is a tmpfs" mount_has /run tmpfs nosuid nodev mode=755
check "/tmp is a tmpfs" mount_has /tmp tmpfs nosuid nodev
check "/tmp: mode 1777" test "$(mode_of /tmp)" = 1777
# nsdelegate is a flag of the cgroup2 super block, which the host shares with
# every cgroup namespace, and only the initial cgroup namespace can set it
# (cgroups(7)): a sandboxed init asks for it but has it only where the host's
# cgroup2 already does (a hybrid host's /sys/fs/cgroup/unified does not). What
# init controls is asked for everywhere; the VM tests require nsdelegate.
host_cg2=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup2") print $5 " " $(i + 3) }' \
	/proc/self/mountinfo | head -n 1)
if [ -z "$host_cg2" ]; then
	check "/sys/fs/cgroup is cgroup2, nosuid nodev noexec (nsdelegate not required: the host mounts no cgroup2)" \
		mount_has /sys/fs/cgroup cgroup2 nosuid nodev noexec
elif [[ ",${host_cg2#* }," == *,nsdelegate,* ]]; then
	check "/sys/fs/cgroup is cgroup2, nosuid nodev noexec, nsdelegate (the host's cgroup2 at ${host_cg2%% *} has it)" \
		mount_has /sys/fs/cgroup cgroup2 nosuid nodev noexec nsdelegate
else
	check "/sys/fs/cgroup is cgroup2, nosuid nodev noexec (nsdelegate not required: the host's cgroup2 at ${host_cg2%% *} lacks it)" \
		mount_has /sys/fs/cgroup cgroup2 nosuid nodev noexec
fi
root_shared() { awk '$5 == "/" { print }' "$info" | grep -q 'shared:'; }
check "/ is shared (rshared)" root_shared
check "/run/lock exists, mode 1777 (Debian's /var/lock points there)" test "$(mode_of /run/lock)" = 1777
check "host name set from init.conf" test "$(nsenter -t "$SB_PID" -u hostname)" = sandbox-1
lo_up() { nsenter -t "$SB_PID" -n ip -o link show lo | grep -q '[<,]UP[,>]'; }
check "loopback is up" lo_up

# --- 1000 orphans exiting at once are all reaped
# The shell exits at once: its 1000 sleeps are orphaned to init, then are
# killed together, so one SIGCHLD stands for many deaths. (Long sleeps: on a
# loaded machine forking 1000 takes seconds, and none may end before the count.)
in_sandbox sh -c 'i=0; while [ $i -lt 1000 ]; do sleep 120 & i=$((i+1)); done'
# (the sleeps only: init's services are its children too, and one killed
# with them is restarted, 0.2 s later for the image's porthole-relay, which
# a slower init, such as the sanitizer build, takes to reap 1000)
children() { ps -o comm= --ppid "$SB_PID" | grep -c '^sleep$'; }
zombies() { ps -o stat=,comm= --ppid "$SB_PID" | grep -c '^Z.* sleep$'; }
n=$(children)
if [ "$n" -ge 1000 ]; then ok "1000 orphans reparented to init ($n children)"; else not_ok "1000 orphans reparented to init (only $n children)"; fi
ps -o pid=,comm= --ppid "$SB_PID" | awk '$2 == "sleep" { print $1 }' | xargs -r kill -KILL
all_reaped() { [ "$(children)" -eq 0 ]; }
if wait_for 30 all_reaped; then
	ok "all 1000 orphans reaped"
else
	not_ok "all 1000 orphans reaped ($(zombies) zombies, $(children) children left)"
fi

# --- SIGTERM: TERM for everyone, KILL after the grace period for who ignores it
marks=$SB_ROOT.term
for i in 1 2 3; do
	in_sandbox sh -c "trap 'echo term >>$marks; exit 0' TERM; while :; do sleep 0.2; done" 2>/dev/null &
done
in_sandbox sh -c 'trap "" TERM; while :; do sleep 0.2; done' 2>/dev/null &
sleep 0.5
sandbox_stop TERM
check "SIGTERM: init exits with the power-off status (0)" test "$SB_STATUS" = 0
check "SIGTERM: processes that honour TERM got it" test "$(grep -c term "$marks" 2>/dev/null)" = 3
check "SIGTERM: one that ignores TERM is killed after stop_timeout" \
	grep -q 'processes left after 2 s; sending KILL' "$SB_LOG"
check "SIGTERM: shutdown logged" grep -q 'shutdown: power-off after' "$SB_LOG"
rm -f "$marks"
sandbox_cleanup

# --- SIGINT reboots, SIGUSR2 powers off
sandbox_start "" && sandbox_stop INT
check "SIGINT: init exits with the reboot status (3)" test "$SB_STATUS" = 3
sandbox_cleanup
sandbox_start "" && sandbox_stop USR2
check "SIGUSR2: init exits with the power-off status (0)" test "$SB_STATUS" = 0
sandbox_cleanup

# --- a broken init.conf: clear messages, init still comes up with defaults
if sandbox_start "log = loud
hostname = not a hostname
colour = blue
this line is not ini
stop_timeout = 1" "porthole.bogus=1 porthole.rescue=maybe"; then
	ok "broken init.conf: init still comes up"
else
	not_ok "broken init.conf: init still comes up"
fi
check "broken init.conf: bad value named with file and line" \
	grep -q "init.conf:1: log: invalid value 'loud'" "$SB_LOG"
check "broken init.conf: bad host name named" \
	grep -q "init.conf:2: hostname: invalid value 'not a hostname'" "$SB_LOG"
check "broken init.conf: unknown key warned" grep -q "init.conf:3: unknown key 'colour'" "$SB_LOG"
check "broken init.conf: syntax error with its line" grep -q "init.conf:4: syntax error" "$SB_LOG"
check "broken init.conf: command line errors named" \
	grep -q "kernel command line: unknown key 'bogus'" "$SB_LOG"
check "broken init.conf: the good line after the bad ones applies" \
	grep -Eq '^stop_timeout += 1 .*\(init.conf:5\)' <(chroot "$SB_ROOT" /sbin/porthole-init --check 2>/dev/null)
check "broken init.conf: default host name kept" test "$(nsenter -t "$SB_PID" -u hostname)" = porthole
sandbox_stop TERM
sandbox_cleanup

# --- an essential step fails: an emergency line, and init ends as a power-off
# would (exit 111 in a sandbox), never a plain exit or a crash
run_is_a_file() { rm -rf "$1/run" && touch "$1/run"; }
SB_PREPARE=run_is_a_file SB_NO_WAIT=1 sandbox_start ""
SB_STATUS=timeout
if wait_for 30 sandbox_gone; then
	wait "$SB_UNSHARE"
	SB_STATUS=$?
fi
check "essential mount fails: init ends with the emergency status (111)" test "$SB_STATUS" = 111
check "essential mount fails: the failure is named" grep -q 'error: mount /run (tmpfs): Not a directory' "$SB_LOG"
check "essential mount fails: emergency logged" grep -q 'emerg: essential file systems: cannot boot' "$SB_LOG"
check "essential mount fails: no ready line" eval '! grep -q "porthole-init: ready" "$SB_LOG"'
sandbox_cleanup
