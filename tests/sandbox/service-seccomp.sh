#!/bin/bash
# Services' seccomp filters in a sandbox (docs/services.md): a call a
# service's deny list names fails with EPERM while the same call in a
# service without a filter works; the default profile; a kill action and an
# allow-list end the process by SIGSYS; no_new_privs comes with a filter
# unless the file says no; a bad name is refused with its file and line;
# --check shows it all. The calls are busybox's (unshare, swapoff).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"
sandbox_require
trap sandbox_cleanup EXIT
if ! grep -q '^Seccomp:' /proc/self/status; then
	skip "service seccomp filters" "the host kernel has no seccomp (no Seccomp: in /proc/self/status)"
	exit 0
fi

svc() { # svc NAME TEXT: a service file in the tree being prepared
	mkdir -p "$SB_ROOT/etc/porthole/services"
	printf '%s\n' "$2" >"$SB_ROOT/etc/porthole/services/$1.conf"
}

# unshare(CLONE_NEWUTS) works for root without a filter; the result is said,
# then the service waits to be looked at
UNSHARE='unshare -u true && echo unshare: allowed || echo unshare: refused; exec sleep 1000'
# swapoff of a file that is not there: ENOENT from the kernel, EPERM from a filter
SWAPOFF='swapoff /nonexistent; exec sleep 1000'
prepare() {
	svc free "[service]
command = /bin/sh -c \"$UNSHARE\""
	svc denied "[service]
command = /bin/sh -c \"$UNSHARE\"
seccomp = deny: unshare"
	svc plain "[service]
command = /bin/sh -c \"$SWAPOFF\""
	svc profiled "[service]
command = /bin/sh -c \"$SWAPOFF\"
seccomp = default"
	svc setuid-ok "[service]
command = /bin/sh -c \"$SWAPOFF\"
seccomp = default
no_new_privs = no"
	# (unshare itself: the shell would run it in a child of its own)
	svc killed "[service]
command = /usr/bin/unshare -u /bin/true
seccomp = deny: unshare
seccomp_action = kill
restart = never"
	# busybox's first call after execve is not in the list
	svc allowed "[service]
command = /bin/true
seccomp = allow: exit_group
restart = never"
	svc typo "[service]
command = /bin/true
seccomp = deny: unshare
	sys_mount"
}

if ! SB_PREPARE=prepare sandbox_start; then
	not_ok "init starts with seccomp service files"
	exit 1
fi
ok "init starts with seccomp service files"
R=/proc/$SB_PID/root
SOCK=$R/run/porthole/init.sock
ask() { socat -t 5 - "UNIX-CONNECT:$SOCK" <<<"$1"; }
field() { ask '{"op":"services"}' | jq -r --arg n "$1" --arg f "$2" '.services[] | select(.name == $n) | .[$f]'; }
in_log() { grep -q "$2" "$R/var/log/porthole/$1.log" 2>/dev/null; }
status_of() { # status_of SERVICE FIELD: FIELD of /proc/PID/status of its process
	local pid
	pid=$(field "$1" pid)
	awk -v f="$2:" '$1 == f { print $2 }' "$R/proc/$pid/status" 2>/dev/null
}

check "deny: unshare: the service's unshare is refused" wait_for 10 in_log denied "unshare: refused"
check "deny: unshare: with EPERM" in_log denied "Operation not permitted"
check "without a filter, the same unshare works" wait_for 10 in_log free "unshare: allowed"
check "default: swapoff fails with EPERM" wait_for 10 in_log profiled "Operation not permitted"
check "without a filter, swapoff reaches the kernel (ENOENT)" \
	wait_for 10 in_log plain "No such file or directory"
check "a service with a filter runs in filter mode (Seccomp: 2)" test "$(status_of profiled Seccomp)" = 2
check "a service without one does not (Seccomp: 0)" test "$(status_of plain Seccomp)" = 0
check "no_new_privs comes with the filter" test "$(status_of profiled NoNewPrivs)" = 1
check "no_new_privs = no: filtered (Seccomp: 2) without it" \
	test "$(status_of setuid-ok Seccomp) $(status_of setuid-ok NoNewPrivs)" = "2 0"
check "no filter, no no_new_privs" test "$(status_of plain NoNewPrivs)" = 0
is_state() { [ "$(field "$1" state)" = "$2" ]; }
killed_by_sigsys() { wait_for 10 is_state "$1" failed && [ "$(field "$1" last_exit | jq -c .)" = '{"signal":31}' ]; }
check "seccomp_action = kill: the service is killed by SIGSYS" killed_by_sigsys killed
check "allow: exit_group: killed by SIGSYS at its first other call" killed_by_sigsys allowed
check "a bad system call name: refused with its file and line" \
	grep -q '/etc/porthole/services/typo.conf:4: seccomp: "sys_mount" is not a system call' "$SB_LOG"

plan=$("$BUILD/bin/porthole-init" --check /dev/null --services-dir "$SB_ROOT/etc/porthole/services" 2>&1)
check "--check: a deny list, its action, no_new_privs" \
	grep -qx "  capabilities: all; seccomp: deny: unshare (eperm); no_new_privs: yes" <<<"$plan"
check "--check: a profile without no_new_privs" \
	grep -qx "  capabilities: all; seccomp: default (eperm); no_new_privs: no" <<<"$plan"
check "--check: an allow-list kills by default" \
	grep -qx "  capabilities: all; seccomp: allow: exit_group (kill); no_new_privs: yes" <<<"$plan"
check "--check: no filter" grep -qx "  capabilities: all; seccomp: none; no_new_privs: no" <<<"$plan"
check "--check: the bad name's file and line" grep -q 'typo.conf:4: seccomp: "sys_mount"' <<<"$plan"

sandbox_stop TERM
check "init powered off (status $SB_STATUS)" test "$SB_STATUS" = 0
