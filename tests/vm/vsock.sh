#!/bin/bash
# vsock between the host and the guest through porthole-vsockd, the
# vhost-user-vsock back-end run-vm starts (no /dev/vhost-vsock needed): the
# agent over vsock; bytes both ways checked by crc32; many connections at
# once; half-close; bad CONNECT lines; a guest's connection to the host; the
# guest's close and reset; a guest reboot; QEMU killed with connections open.
# The guest's end is tests/helpers/vsock-peer, a service in an overlay; the
# host's is tests/helpers/hvsock.py.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require
# the guest's program: built for the guest's architecture (GUEST_BUILD)
peer=$GUEST_BUILD/tests/helpers/vsock-peer
if [ ! -x "$peer" ]; then
	not_ok "vsock: $peer is not built (make $peer)"
	exit 1
fi
overlay=$(mktemp -d "$BUILD/vsock-overlay.XXXXXX")
trap 'vm_cleanup; rm -rf "$overlay"' EXIT
mkdir -p "$overlay/usr/local/bin" "$overlay/etc/porthole/services"
cp "$peer" "$overlay/usr/local/bin/"
cat >"$overlay/etc/porthole/services/vsock-peer.conf" <<'E'
[service]
description = the vsock tests' guest end (tests/helpers/vsock-peer.c)
command = /usr/local/bin/vsock-peer serve 5000
E

if ! vm_start vsock --overlay "$overlay" --append "porthole.agent.shell=1"; then
	not_ok "boots with porthole-vsockd"
	exit 1
fi
ok "boots with porthole-vsockd"
CLI=$BUILD/bin/porthole
SOCK=$VM_DIR/vsock.sock
H="python3 $REPO/tests/helpers/hvsock.py"
vsockd_pid=$(cat "$VM_DIR/vsockd.pid")

check "run-vm names the hybrid socket in vsock.address" \
	test "$(cat "$VM_DIR/vsock.address")" = "hvsock:$SOCK"
check "porthole-vsockd: QEMU connected" grep -q "QEMU connected" "$VM_DIR/vsockd.log"

# The agent, from the host, over vsock
out=$("$CLI" --connect "hvsock:$SOCK:1024" --timeout 30 health 2>&1)
check "health over hvsock:$SOCK:1024" grep -q "^status: *ok" <<<"$out"
out=$("$BUILD/bin/porthole-loadgen" --connect "hvsock:$SOCK:1024" --command guest-ping -n 500 \
	--pipeline 16 --connections 4 2>&1)
check "500 pings, 16 in flight on each of 4 vsock connections, all answered ($out)" test $? = 0

peer_up() { $H connect "$SOCK" 5000 | grep -q "^OK "; }
if wait_for 60 peer_up; then ok "the guest's vsock-peer listens on port 5000"; else
	not_ok "the guest's vsock-peer listens on port 5000"
	exit 1
fi
out=$($H connect "$SOCK" 5000)
check "CONNECT 5000 is answered OK with a host port from 49152 up ($out)" \
	eval '[[ $out =~ ^OK\ [0-9]+$ ]] && [ "${out#OK }" -ge 49152 ]'
out=$($H connect "$SOCK" 5999)
check "CONNECT to a port nothing listens on: closed, no OK (the guest's RST) ($out)" \
	test "$out" = closed

# Bytes both ways, 100 MB each, checked end to end
out=$($H sink "$SOCK" 5000 100000000)
check "host to guest: 100 MB, crc32 checked ($out)" test $? = 0
echo "# $out"
out=$($H source "$SOCK" 5000 100000000 7)
check "guest to host: 100 MB, crc32 checked ($out)" test $? = 0
echo "# $out"

out=$($H echo "$SOCK" 5000 100)
check "100 connections at once, each echoed whole ($out)" test $? = 0
out=$($H halfclose "$SOCK" 5000)
check "half-close both ways ($out)" test $? = 0
out=$($H guestclose "$SOCK" 5000)
check "the guest closes while the host sends: the host sees it, nothing hangs ($out)" test $? = 0

# Bad CONNECT lines: closed without an answer; the back-end goes on
for line in 'CONNECT x\n' 'HELLO\n' 'CONNECT 99999999999\n' 'CONNECT  5000\n' 'CONNECT 5000'; do
	out=$(timeout 60 $H raw "$SOCK" "$line" 2>&1)
	# the last one never ends its line: closed after the hand-shake time-out
	check "bad CONNECT line '$line': closed without an answer ($out)" eval '[[ $out == closed* ]]'
done
check "porthole-vsockd says what was wrong" grep -q 'sent "HELLO", not "CONNECT <port>' "$VM_DIR/vsockd.log"
check "the back-end still serves after them" eval '"$CLI" --connect "hvsock:$SOCK:1024" --timeout 30 ping >/dev/null'

# A shell over vsock: a command on a pty with its status; a login shell on
# a terminal where Ctrl-C reaches the guest's foreground command
out=$("$CLI" --connect "hvsock:$SOCK:1024" --timeout 30 exec -t -- sh -c 'tty; exit 7' </dev/null 2>&1)
rc=$?
check "exec -t over vsock: the command has a pty ($(head -n 1 <<<"$out")) and its status is porthole's (7: $rc)" \
	eval '[ $rc = 7 ] && grep -q "^/dev/pts/" <<<"$out"'
out=$(timeout 120 python3 "$REPO/tests/helpers/shellclient.py" pty interrupt -- \
	"$CLI" --connect "hvsock:$SOCK:1024" --timeout 30 shell 2>&1)
echo "# $out" | tr '\n' ' '
echo
# (the helper's pid-file checks look at the host's files: here only $? tells)
check "porthole shell over vsock: Ctrl-C kills the guest's foreground command (\$? 130), not the session" \
	grep -q "ctrl-c: rc=130 True" <<<"$out"
check "porthole shell over vsock: porthole exits with the shell's status (exit 5)" grep -q "status 5" <<<"$out"

# The guest connects to the host: CID 2, port P is the unix socket vsock.sock_P
$H listen "$SOCK"_6000 >"$overlay/listen.out" 2>&1 &
lpid=$!
wait_for 10 grep -q listening "$overlay/listen.out"
out=$(vm '/usr/local/bin/vsock-peer send 2 6000 10000000 5; echo "rc=$?"')
wait $lpid
want=$(python3 -c "import sys; sys.path.insert(0, '$REPO/tests/helpers'); import hvsock; print('10000000 %08x' % hvsock.pattern_crc(10000000, 5))")
check "guest to host port 6000: 10 MB through vsock.sock_6000, crc32 checked ($want)" \
	eval 'grep -q "^$want\$" <<<"$out" && grep -q "rc=0" <<<"$out"'
out=$(vm '/usr/local/bin/vsock-peer send 2 6001 10 5; echo "rc=$?"')
check "guest to a host port nothing listens on: the guest's connect is reset" \
	eval 'grep -q "Connection reset by peer" <<<"$out" && grep -q "rc=1" <<<"$out"'

# A reboot resets the device: the guest forgets its connections, and so
# must the back-end; vsock works again once the guest is up
$H hold "$SOCK" 5000 5 >"$overlay/hold.out" 2>&1 &
hpid=$!
wait_for 30 grep -q open "$overlay/hold.out"
lines=$(grep -ac 'porthole-init: ready' "$VM_DIR/console.log")
"$CLI" --connect "hvsock:$SOCK:1024" --timeout 30 shutdown --reboot >/dev/null 2>&1
rebooted() { [ "$(grep -ac 'porthole-init: ready' "$VM_DIR/console.log")" -gt "$lines" ]; }
if wait_for 180 rebooted; then ok "the guest rebooted"; else not_ok "the guest rebooted"; fi
wait_for 60 eval '! kill -0 $hpid 2>/dev/null'
check "connections open across the reboot are closed on the host ($(tail -n 1 "$overlay/hold.out"))" \
	grep -q "ended: \['EOF'\]" "$overlay/hold.out"
check "porthole-vsockd saw the device reset" grep -q "the guest reset the device" "$VM_DIR/vsockd.log"
check "health over vsock after the reboot" \
	wait_for 60 eval '"$CLI" --connect "hvsock:$SOCK:1024" --timeout 10 ping >/dev/null 2>&1'
check "the guest's vsock-peer answers again" wait_for 60 peer_up

# QEMU killed with connections open: every host connection ends, and the
# back-end exits and takes its socket with it
$H hold "$SOCK" 5000 20 >"$overlay/hold.out" 2>&1 &
hpid=$!
wait_for 30 grep -q open "$overlay/hold.out"
kill -KILL "$(cat "$VM_DIR/qemu.pid")"
if wait_for 30 eval '! kill -0 $hpid 2>/dev/null'; then
	ok "QEMU killed: the 20 open host connections end ($(tail -n 1 "$overlay/hold.out"))"
else
	not_ok "QEMU killed: the 20 open host connections end"
	kill "$hpid" 2>/dev/null
fi
check "QEMU killed: porthole-vsockd exits" wait_for 30 eval '! kill -0 $vsockd_pid 2>/dev/null'
check "QEMU killed: its sockets are gone" eval '[ ! -e "$SOCK" ] && [ ! -e "$VM_DIR/vhost-vsock.sock" ]'
sed 's/^/# vsockd: /' "$VM_DIR/vsockd.log" | tail -n 3
check "no malformed chain from the guest in the whole run" grep -q " 0 malformed chains" "$VM_DIR/vsockd.log"

# The kernel's vhost-vsock, where the machine has it
if [ -c /dev/vhost-vsock ] && { : <>/dev/vhost-vsock; } 2>/dev/null; then
	vm_cleanup
	if vm_start vsock-kernel --vsock kernel; then
		out=$("$CLI" --connect "$(cat "$VM_DIR/vsock.address"):1024" --timeout 30 ping 2>&1)
		check "kernel vhost-vsock: ping over $(cat "$VM_DIR/vsock.address"):1024 ($out)" test $? = 0
	else
		not_ok "kernel vhost-vsock: boots"
	fi
else
	skip "kernel vhost-vsock: ping over vsock:CID:1024" "/dev/vhost-vsock is not usable here"
fi
