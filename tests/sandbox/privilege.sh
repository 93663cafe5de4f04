#!/bin/bash
# porthole-agent's least privilege as the kernel sees it (docs/security.md):
# /proc/PID/status of a running agent on a unix socket on the host shows
# no_new_privs, its seccomp filter and the capabilities that page promises
# for the configuration; blocking commands gives theirs up; guest-exec's
# commands and porthole-shell's sessions run from the launcher with root's
# capabilities while the agent stays trimmed; the commands still answer
# with the filter on.
. "$(dirname "$0")/../lib.sh"

AGENT=$BIN/porthole-agent
CLI_BIN=$BIN/porthole
dir=$(mktemp -d /tmp/porthole-privilege-test.XXXXXX)
agent_pid=
stop_agent() {
	if [ -n "$agent_pid" ]; then
		kill "$agent_pid" 2>/dev/null
		wait "$agent_pid" 2>/dev/null
	fi
	agent_pid=
}
cleanup() {
	stop_agent
	rm -rf "$dir"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	skip "privilege" "needs root: the agent's drop is of root's capabilities"
	exit 0
fi
if [ ! -x "$AGENT" ] || [ ! -x "$CLI_BIN" ]; then
	not_ok "privilege: $AGENT or $CLI_BIN not built"
	exit 1
fi

# The capabilities docs/security.md promises, as /proc's hex bits: what the
# agent keeps is that set as far as this host's bounding set allows.
CAP_NET_ADMIN=12 CAP_SYS_ADMIN=21 CAP_SYS_TIME=25 CAP_SYSLOG=34
bits() {
	local v=0 c
	for c in "$@"; do v=$((v | (1 << c))); done
	echo $v
}
host_bnd=$((16#$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)))

# field PID NAME: the value of NAME: in /proc/PID/status
field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# start NAME ARGS...: an agent on $dir/NAME.sock, ready (its log says so)
start() {
	local name=$1
	shift
	stop_agent
	sock=$dir/$name.sock
	log=$dir/$name.log
	"$AGENT" --unix "$sock" --no-vsock --no-serial --config /dev/null --cmdline "" \
		--log debug "$@" 2>"$log" &
	agent_pid=$!
	if ! wait_for 20 grep -qs ' ready' "$log"; then
		echo "# the agent did not come up ($*):"
		sed 's/^/#   /' "$log"
		return 1
	fi
	CLI="$CLI_BIN --connect unix:$sock --timeout 20"
}

# expect_caps NAME EXPECTED: CapEff, CapPrm and CapBnd all EXPECTED (decimal),
# CapInh and CapAmb empty
expect_caps() {
	local eff prm bnd inh amb
	eff=$((16#$(field "$agent_pid" CapEff))) prm=$((16#$(field "$agent_pid" CapPrm)))
	bnd=$((16#$(field "$agent_pid" CapBnd))) inh=$((16#$(field "$agent_pid" CapInh)))
	amb=$((16#$(field "$agent_pid" CapAmb)))
	if [ $eff -eq "$2" ] && [ $prm -eq "$2" ] && [ $bnd -eq "$2" ] && [ $inh -eq 0 ] &&
		[ $amb -eq 0 ]; then
		ok "$1"
	else
		not_ok "$1"
		printf '#   expected %#x; CapEff %#x CapPrm %#x CapBnd %#x CapInh %#x CapAmb %#x\n' \
			"$2" $eff $prm $bnd $inh $amb
	fi
}

# An ASan build's default mode is off (LeakSanitizer ptraces at exit): its
# runs check the filter only where a mode is asked for. Set by the first start.
san_default_off=

# expect_status NAME SECCOMP NO_NEW_PRIVS [asked]: ASKED when the mode was given
expect_status() {
	local sc nnp
	if [ -n "$san_default_off" ] && [ -z "${4-}" ] && [ "$2" = 2 ]; then
		skip "$1" "a sanitizer build: its default seccomp mode is off (docs/security.md)"
		return
	fi
	sc=$(field "$agent_pid" Seccomp) nnp=$(field "$agent_pid" NoNewPrivs)
	if [ "$sc" = "$2" ] && [ "$nnp" = "$3" ]; then ok "$1"; else
		not_ok "$1"
		echo "#   Seccomp: $sc (expected $2), NoNewPrivs: $nnp (expected $3)"
	fi
}

# --- the defaults: exec and shell off, every other command enabled
default=$(($(bits $CAP_SYS_TIME $CAP_SYS_ADMIN $CAP_NET_ADMIN $CAP_SYSLOG) & host_bnd))
if start default; then
	grep -q 'least privilege: .*; seccomp off' "$log" && san_default_off=1
	expect_status "defaults: a seccomp filter (Seccomp: 2) and no_new_privs" 2 1
	expect_caps "defaults: CAP_SYS_TIME, CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYSLOG only" $default
	check "defaults: the log names what was kept" \
		grep -q 'least privilege: capabilities cap_net_admin,cap_sys_admin,cap_sys_time,cap_syslog; seccomp \(enforce\|off\)' "$log"
	# the commands that need nothing, and one that needs CAP_NET_ADMIN,
	# answer under the filter
	for c in ping info health network osinfo fsinfo users hostname mounts time; do
		if ! out=$($CLI $c 2>&1); then
			not_ok "defaults: porthole $c answers under the filter"
			printf '#   %s\n' "$out"
			continue
		fi
		ok "defaults: porthole $c answers under the filter"
	done
	if out=$($CLI call porthole-ports '{}' 2>&1) && echo "$out" | grep -q '"ports"'; then
		ok "defaults: porthole-ports (the proc connector, CAP_NET_ADMIN) answers"
	else
		not_ok "defaults: porthole-ports (the proc connector, CAP_NET_ADMIN) answers"
		printf '#   %s\n' "$out"
	fi
	# what the filter refuses is a command's error, not the agent's end
	check "defaults: guest-exec is refused as disabled, the agent still answers" \
		sh -c "! $CLI exec -- /bin/true >/dev/null 2>&1 && $CLI ping >/dev/null"
	check "defaults: the agent is still running" kill -0 "$agent_pid"
else
	not_ok "defaults: the agent starts"
fi

# --- commands blocked one by one give their capabilities up
if start blocked --block-rpcs porthole-ports,porthole-logs; then
	expect_caps "block_rpcs porthole-ports,porthole-logs: no CAP_NET_ADMIN, no CAP_SYSLOG" \
		$(($(bits $CAP_SYS_TIME $CAP_SYS_ADMIN) & host_bnd))
else
	not_ok "block_rpcs: the agent starts"
fi
# (the CLI resyncs with guest-sync-delimited first)
if start ping-only --allow-rpcs guest-ping,guest-info,guest-sync-delimited --cmdline \
	"porthole.agent.ptp_sync=0 porthole.agent.trim_interval=0"; then
	expect_caps "allow_rpcs guest-ping,guest-info, no PTP sync, no periodic trim: nothing" 0
	expect_status "allow_rpcs guest-ping,guest-info: still filtered" 2 1
	check "allow_rpcs guest-ping,guest-info: ping answers" sh -c "$CLI ping >/dev/null"
else
	not_ok "allow_rpcs: the agent starts"
fi

# --- the filter's modes: log keeps a filter (allowing), off loads none;
# both trim the capabilities as enforce does
if start log --seccomp log; then
	expect_status "seccomp=log: a filter, logging" 2 1 asked
	expect_caps "seccomp=log: the same capabilities" $default
else
	not_ok "seccomp=log: the agent starts"
fi
if start off --cmdline porthole.agent.seccomp=off; then
	expect_status "seccomp=off (kernel command line): no filter, no_new_privs still" 0 1
	expect_caps "seccomp=off: the same capabilities" $default
else
	not_ok "seccomp=off: the agent starts"
fi
stop_agent
timeout 20 "$AGENT" --unix "$dir/bad.sock" --no-vsock --no-serial --config /dev/null --cmdline "" \
	--seccomp strict 2>"$dir/bad.log"
rc=$?
if [ $rc -eq 100 ] && grep -q "agent.seccomp: invalid value 'strict'" "$dir/bad.log"; then
	ok "an unknown seccomp mode is refused at start (usage, 100)"
else
	not_ok "an unknown seccomp mode is refused at start (usage, 100)"
	echo "#   status $rc"
	sed 's/^/#   /' "$dir/bad.log"
fi

# --- guest-exec enabled: the host's commands are started by the launcher,
# forked before the drop, so they have root's capabilities while the agent
# keeps its trimmed set and its filter
if start exec --enable-exec; then
	expect_status "exec enabled: the agent is still filtered" 2 1
	expect_caps "exec enabled: the agent keeps the defaults' capabilities" $default
	launcher=$(pgrep -P "$agent_pid" -x porthole-launch)
	if [ -n "$launcher" ] && [ "$(field "$launcher" Seccomp)" = 0 ] &&
		[ $((16#$(field "$launcher" CapBnd))) -eq "$host_bnd" ]; then
		ok "exec enabled: the launcher, the agent's child, has neither filter nor trimmed set"
	else
		not_ok "exec enabled: the launcher, the agent's child, has neither filter nor trimmed set"
	fi
	check "exec enabled: a command runs with root's capabilities and no filter" \
		sh -c "$CLI exec -- /bin/grep -q '^CapEff:.*$(printf %016x "$host_bnd")' /proc/self/status &&
			$CLI exec -- /bin/grep -q '^Seccomp:.0' /proc/self/status"
	check "exec enabled: its output and exit status come back" \
		sh -c "[ \"\$($CLI exec -- /bin/sh -c 'echo out; exit 3')\" = out ]; [ \$? -eq 0 ] || exit 1
			$CLI exec -- /bin/sh -c 'exit 3'; [ \$? -ne 0 ]"
	stop_agent
	check "exec enabled: the launcher ends with the agent" \
		wait_for 10 sh -c "! kill -0 $launcher 2>/dev/null"
else
	not_ok "exec enabled: the agent starts"
fi
# --- porthole-shell enabled: its sessions are forked by the launcher too
if start shell --enable-shell; then
	expect_status "shell enabled: the agent is still filtered" 2 1
	expect_caps "shell enabled: the agent keeps the defaults' capabilities" $default
	check "shell enabled: the log says the launcher starts them" \
		grep -q 'least privilege: .*; guest-exec and porthole-shell through the launcher' "$log"
	check "shell enabled: a session's command runs with root's capabilities and no filter" \
		sh -c "$CLI exec -i -- /bin/grep -q '^CapEff:.*$(printf %016x "$host_bnd")' /proc/self/status </dev/null &&
			$CLI exec -i -- /bin/grep -q '^Seccomp:.0' /proc/self/status </dev/null"
else
	not_ok "shell enabled: the agent starts"
fi
