#!/bin/bash
# The network in the VM, through porthole alone: QEMU's user networking
# hands out 10.0.2.15/24, router 10.0.2.2 and DNS 10.0.2.3 by DHCP to init's
# client; `porthole network` shows them; a TCP connection from the guest
# reaches a listener on the host (10.0.2.2 is the host's loopback there).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require
listener=
trap 'vm_cleanup; [ -n "$listener" ] && kill "$listener" 2>/dev/null' EXIT
CLI=$BUILD/bin/porthole

if ! vm_start net; then
	not_ok "minimal image boots"
	exit 1
fi
c="$CLI --connect $(vm_agent) --timeout 30"
agent_up() { $c ping >/dev/null 2>&1; }
wait_for 60 agent_up || { not_ok "the agent answers"; exit 1; }
bound() { grep -aq 'eth0: dhcp: bound 10.0.2.15/24' "$VM_DIR/console.log"; }
check "init's DHCP client: bound 10.0.2.15/24 (console)" wait_for 60 bound

net=$($c --json network)
check "porthole-network: eth0 10.0.2.15/24 by DHCP from 10.0.2.2, router 10.0.2.2, DNS 10.0.2.3" python3 -c '
import json, sys
n = json.loads(sys.argv[1])
e = [i for i in n["interfaces"] if i["name"] == "eth0"][0]
assert {"ip-address": "10.0.2.15", "ip-address-type": "ipv4", "prefix": 24} in e["addresses"], e
d = e["dhcp"]
assert d["state"] == "bound" and d["router"] == "10.0.2.2" and d["dns"] == ["10.0.2.3"], d
assert any(r["destination"] == "default" and r.get("gateway") == "10.0.2.2" and r.get("interface") == "eth0" for r in n["routes"]), n["routes"]
assert "10.0.2.3" in n["dns"]["servers"], n["dns"]' "$net" || echo "# $net"
out=$($c network)
echo "$out" | sed 's/^/# /'
check "porthole network: eth0's address and lease" grep -q 'eth0: dhcp bound, 10.0.2.15/24 from 10.0.2.2' <<<"$out"
check "the guest's resolv.conf names 10.0.2.3" eval 'vm "cat /etc/resolv.conf" | grep -q "^nameserver 10.0.2.3"'
check "the guest's default route is via 10.0.2.2" eval 'vm "ip route show default" | grep -q "default via 10.0.2.2 dev eth0"'
check "sysctl.conf applied: ip_forward and inotify watches" \
	test "$(vm 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/fs/inotify/max_user_watches' | tr -d '\r' | tr '\n' ' ')" = "1 524288 "

# A listener on the host's loopback; the guest reaches it as 10.0.2.2.
got=$VM_DIR/tcp-got
rm -f "$got"
port_file=$VM_DIR/tcp-port
rm -f "$port_file"
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(120)
c, _ = s.accept(); c.settimeout(30)
data = b""
while not data.endswith(b"\n"):
    b = c.recv(100)
    if not b: break
    data += b
open(sys.argv[2], "wb").write(data)
c.sendall(b"hello-from-host\n"); c.close()' "$port_file" "$got" &
listener=$!
wait_for 10 test -s "$port_file"
port=$(cat "$port_file")
reply=$(vm "echo hello-from-guest | nc -w 10 10.0.2.2 $port")
check "TCP from the guest to the host's listener: the host got the guest's line" \
	wait_for 10 grep -qx hello-from-guest "$got"
check "TCP from the guest to the host's listener: the guest got the reply" grep -q hello-from-host <<<"$reply"
