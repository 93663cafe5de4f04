#!/bin/bash
# porthole-relay in the minimal image, from the host through porthole-vsockd:
# the agent's porthole-ports following a guest listener that comes and goes;
# a TCP target in the guest (busybox httpd) reached with the CONNECT line and
# the request after it in one write; the refusals with their reasons; and
# `porthole forward docker` where the VM has no engine (the client's
# connection closed, the reason on the forward's stderr). The engine's
# socket itself is forwarded in tests/vm/engine.sh.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require
trap 'vm_cleanup; [ -z "${fpid:-}" ] || kill "$fpid" 2>/dev/null' EXIT
if ! vm_start relay; then
	not_ok "boots"
	exit 1
fi
CLI=$BUILD/bin/porthole
SOCK=$VM_DIR/vsock.sock
H="python3 $REPO/tests/helpers/hvsock.py"

relay_up() { [ "$("$CLI" --connect "$(vm_agent)" --json services | jq -r '.[] | select(.name == "porthole-relay") | .state')" = running ]; }
check "porthole-relay runs as a service" wait_for 60 relay_up
vm 'mkdir -p /tmp/www && echo "hello from the guest" >/tmp/www/index.html && httpd -p 127.0.0.1:8081 -h /tmp/www && echo started' >/dev/null

out=$($H raw "$SOCK" 'CONNECT 1025\nCONNECT tcp:127.0.0.1:8081\nGET /index.html HTTP/1.0\r\n\r\n')
check "tcp:127.0.0.1:8081: OK, then the page, the request sent with the line ($(head -n 1 <<<"$out"))" \
	eval 'grep -q "^OK 4" <<<"$out" && grep -qx "OK" <<<"$out" && grep -q "hello from the guest" <<<"$out"'
for case in 'CONNECT unix:/etc/passwd|not one the relay serves' \
	'CONNECT tcp:127.0.0.1:8082|Connection refused' \
	'HELLO|expected "CONNECT <target>"' \
	'CONNECT tcp:localhost:80|not an IPv4 address' \
	'CONNECT tcp:[::1]:0|the port must be 1 to 65535'; do
	line=${case%%|*} want=${case#*|}
	out=$($H raw "$SOCK" "CONNECT 1025\n$line\n")
	check "'$line': refused, saying why ($(tail -n 1 <<<"$out"))" grep -qF "ERR" <<<"$out"
	check "...$want" grep -qF "$want" <<<"$out"
done

# porthole-ports: the listener above is there; one started later is reported
# by the long poll, and its end too
P() { "$CLI" --connect "$(vm_agent)" --timeout 70 --json call porthole-ports "$@"; }
out=$(P)
gen=$(jq .generation <<<"$out")
check "porthole-ports lists httpd's tcp 127.0.0.1:8081 (generation $gen)" \
	eval 'jq -e ".ports[] | select(.protocol == \"tcp\" and .port == 8081 and .address == \"127.0.0.1\")" <<<"$out" >/dev/null'
check "...and not the DHCP client's udp 68" eval '! jq -e ".ports[] | select(.port == 68)" <<<"$out" >/dev/null'
P "{\"after\": $gen, \"timeout_ms\": 60000}" >"$VM_DIR/ports.out" &
ppid=$!
sleep 0.5
vm 'httpd -f -p 0.0.0.0:8090 -h /tmp/www </dev/null >/dev/null 2>&1 & echo $! >/tmp/h8090.pid' >/dev/null
wait $ppid
out=$(cat "$VM_DIR/ports.out")
check "the long poll answers when httpd listens on 0.0.0.0:8090 ($(jq -c '[.generation, [.ports[].port]]' <<<"$out"))" \
	eval 'jq -e ".ports[] | select(.port == 8090)" <<<"$out" >/dev/null'
gen=$(jq .generation <<<"$out")
P "{\"after\": $gen, \"timeout_ms\": 60000}" >"$VM_DIR/ports.out" &
ppid=$!
sleep 0.5
vm 'kill $(cat /tmp/h8090.pid); echo killed' >/dev/null
wait $ppid
out=$(cat "$VM_DIR/ports.out")
check "...and again when it is gone ($(jq -c '[.generation, [.ports[].port]]' <<<"$out"))" \
	eval '! jq -e ".ports[] | select(.port == 8090)" <<<"$out" >/dev/null && [ "$(jq .generation <<<"$out")" -gt "$gen" ]'

# porthole forward docker: no engine in this image
"$CLI" --connect "hvsock:$SOCK:1024" forward docker >"$VM_DIR/forward.out" 2>"$VM_DIR/forward.err" &
fpid=$!
check "forward docker: listens on docker.sock beside vsock.sock" wait_for 10 test -S "$VM_DIR/docker.sock"
check "forward docker: says how to use it" grep -q "export DOCKER_HOST=unix://$VM_DIR/docker.sock" "$VM_DIR/forward.out"
out=$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
try:
    print("closed" if s.recv(100) == b"" else "data")
except ConnectionResetError:
    print("closed")  # with its request unread: a reset
' "$VM_DIR/docker.sock" 2>&1)
check "forward docker without an engine: the client's connection is closed ($out)" test "$out" = closed
check "...and the forward says why" grep -q "No such file or directory" "$VM_DIR/forward.err"
kill "$fpid"
wait "$fpid"
check "forward docker: SIGTERM ends it, and its socket goes" eval '[ ! -e "$VM_DIR/docker.sock" ] && grep -q "stopped: 0 connections served, 1 failed" "$VM_DIR/forward.err"'
fpid=
