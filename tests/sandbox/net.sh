#!/bin/bash
# The network in a sandbox: porthole-init as PID 1 of a network namespace
# wired with veth pairs to two others where dnsmasq serves DHCP. One init
# holds every case, each on its own interface:
#   eth0  DHCP from dnsmasq A: every option applied, renewals, link down/up,
#         the host name, dns-set through the agent kept across a renewal
#   eth1  DHCP from dnsmasq B, which is stopped: the address goes at expiry
#   eth2  static, applied exactly; eth3 has an invalid prefix; nosuch0 is missing
#   eth4  appears after boot (moved in): DHCP from dnsmasq A
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"
sandbox_require
if ! command -v dnsmasq >/dev/null; then
	not_ok "dnsmasq is not installed (scripts/deps)"
	exit 1
fi

tag=ph$$
NS_I=$tag-i NS_A=$tag-a NS_B=$tag-b
work=$(mktemp -d /tmp/porthole-net.XXXXXX)
agent_pid=
cleanup() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null
	for f in "$work"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	sandbox_cleanup
	for ns in $NS_I $NS_A $NS_B; do ip netns del "$ns" 2>/dev/null; done
	ip link del "$tag-l4" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# The host's kernel must make network namespaces and veth pairs (the veth
# module): where it cannot, the cases are skipped, saying why.
if ! why=$(ip netns add "$tag-p" 2>&1 && ip -n "$tag-p" link add p0 type veth peer name p1 2>&1); then
	ip netns del "$tag-p" 2>/dev/null
	skip "the network in a sandbox" "the host cannot make a network namespace with a veth pair: $why"
	exit 0
fi
ip netns del "$tag-p"
for ns in $NS_I $NS_A $NS_B; do ip netns add "$ns" && ip -n "$ns" link set lo up; done
# veth NAME_IN_INIT MAC SERVER_NS SERVER_END SERVER_ADDR: a pair from init's
# namespace to a server's
veth() {
	ip link add "$tag-x" address "$2" type veth peer name "$tag-y" &&
		ip link set "$tag-x" netns "$NS_I" && ip -n "$NS_I" link set "$tag-x" name "$1" &&
		ip link set "$tag-y" netns "$3" && ip -n "$3" link set "$tag-y" name "$4" &&
		ip -n "$3" addr add "$5" dev "$4" && ip -n "$3" link set "$4" up
}
veth eth0 02:00:00:00:00:01 "$NS_A" a0 10.99.0.1/24
veth eth1 02:00:00:00:00:02 "$NS_B" b0 10.98.0.1/24
veth eth2 02:00:00:00:00:12 "$NS_B" c2 192.168.50.1/24
veth eth3 02:00:00:00:00:03 "$NS_B" c3 10.3.0.1/24
# eth4 waits on the host until init runs
ip link add "$tag-l4" address 02:00:00:00:00:04 type veth peer name "$tag-y" &&
	ip link set "$tag-y" netns "$NS_A" && ip -n "$NS_A" link set "$tag-y" name a4 &&
	ip -n "$NS_A" addr add 10.97.0.1/24 dev a4 && ip -n "$NS_A" link set a4 up

# dnsmasq NAME NS ARGS...: DHCP only (--port=0), in the foreground, logging
# each exchange. Leases are 2 minutes, dnsmasq's minimum.
dnsmasq_start() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" dnsmasq --conf-file=/dev/null --keep-in-foreground --port=0 -u root \
		--bind-interfaces --no-ping --log-dhcp --log-facility="$work/$name.log" \
		--dhcp-leasefile="$work/$name.leases" --pid-file="$work/$name.pid" "$@" &
	wait_for 10 test -s "$work/$name.pid"
}
# A: every option init takes, T1 3 s and T2 5 s so that renewals come quickly
dnsmasq_start a "$NS_A" --interface=a0 --interface=a4 --dhcp-rapid-commit \
	--dhcp-range=10.99.0.50,10.99.0.99,255.255.255.0,2m \
	--dhcp-range=10.97.0.50,10.97.0.99,255.255.255.0,2m \
	--dhcp-option=tag:a0,option:router,10.99.0.1 --dhcp-option=tag:a4,option:router,10.97.0.1 \
	--dhcp-option=option:dns-server,10.99.0.53,10.99.0.54 \
	--dhcp-option=option:domain-name,sandbox.test --dhcp-option=option:mtu,1400 \
	--dhcp-option=option:T1,3 --dhcp-option=option:T2,5 \
	--dhcp-host=02:00:00:00:00:01,10.99.0.77,leasehost
dnsmasq_start b "$NS_B" --interface=b0 --dhcp-range=10.98.0.50,10.98.0.99,255.255.255.0,2m \
	--dhcp-option=option:router,10.98.0.1

add_sysctl_lines() {
	printf '%s\n' "net.ipv4.conf.all.no_such_key = 1" "-net.bridge.bridge-nf-call-iptables = 1" \
		>>"$1/etc/porthole/sysctl.conf"
	install -m 755 "$BIN/porthole-agent" "$1/usr/bin/porthole-agent"
}
if ! SB_NETNS=$NS_I SB_PREPARE=add_sysctl_lines sandbox_start "log = debug
hostname = sandbox-net
[net]
dhcp = eth0 02:00:00:00:00:02 eth4
static = eth2 192.168.50.2/24 fd00:50::2/64 gw 192.168.50.1 mtu 1300
static = eth3 10.3.0.2/40
static = nosuch0 10.9.0.2/24
dhcp_hostname = 1
accept_ra = 0"; then
	not_ok "init comes up in a network namespace"
	exit 1
fi
ok "init comes up in a network namespace"
state=/proc/$SB_PID/root/run/porthole/net.state
in_net() { nsenter -t "$SB_PID" -n "$@"; }
# addr_of IFACE: "ADDR/PREFIX" of its IPv4 addresses, from ip -j addr
addr_of() {
	in_net ip -j addr show dev "$1" | python3 -c '
import json, sys
for i in json.load(sys.stdin):
    for a in i.get("addr_info", []):
        if a["family"] == "inet": print("%s/%d" % (a["local"], a["prefixlen"]))'
}
# route_of DST IFACE: "DST via GW proto P metric M" from ip -j route
route_of() {
	in_net ip -j route show "$1" dev "$2" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print("%s via %s proto %s metric %s" % (r["dst"], r.get("gateway", "-"), r.get("protocol", "-"), r.get("metric", 0)))'
}
mtu_of() { in_net ip -o link show dev "$1" | grep -o 'mtu [0-9]*' | cut -d' ' -f2; }
has_addr() { [ -n "$(addr_of "$1")" ]; }
no_addr() { [ -z "$(addr_of "$1")" ]; }
resolv() { cat "$SB_ROOT/etc/resolv.conf" 2>/dev/null; }
leases_of() { awk -v s="[$1]" '$0 == s { on = 1; next } /^\[/ { on = 0 } on && $1 == "leases" { print $3 }' "$state" 2>/dev/null; }

# --- eth1 first: its server goes away as soon as it has a lease; the lease
# ends 2 minutes later, checked at the end
if wait_for 30 has_addr eth1; then
	kill "$(cat "$work/b.pid")"
	rm -f "$work/b.pid"
	ok "eth1 (by MAC): a lease from dnsmasq B, which is then stopped"
	b_stopped=$SECONDS
else
	not_ok "eth1 (by MAC): a lease from dnsmasq B"
fi

# --- eth0: the lease and every option
check "eth0: lease from dnsmasq A (10.99.0.77/24)" wait_for 30 eval '[ "$(addr_of eth0)" = 10.99.0.77/24 ]'
check "eth0: default route via the router, proto dhcp" \
	wait_for 10 eval '[ "$(route_of default eth0)" = "default via 10.99.0.1 proto dhcp metric 1024" ]'
check "eth0: MTU 1400 from option 26" test "$(mtu_of eth0)" = 1400
expected_resolv="search sandbox.test
nameserver 10.99.0.53
nameserver 10.99.0.54"
check "resolv.conf: the lease's servers and domain" \
	wait_for 10 eval '[ "$(resolv | grep -v "^#")" = "$expected_resolv" ]'
check "host name from the lease (net.dhcp_hostname = 1)" \
	wait_for 10 eval '[ "$(nsenter -t "$SB_PID" -u hostname)" = leasehost ]'
check "net.state: eth0 bound, server 10.99.0.1" \
	grep -qx 'server = 10.99.0.1' "$state"
check "eth0: renewals at T1 (3 s)" wait_for 20 eval '[ "$(leases_of eth0)" -ge 3 ]'
check "dnsmasq saw the renewals" test "$(grep -c 'DHCPACK(a0)' "$work/a.log")" -ge 3

# --- eth2 static, exactly; eth3 bad prefix, nosuch0 missing: named errors
check "eth2: static address 192.168.50.2/24" test "$(addr_of eth2)" = 192.168.50.2/24
check "eth2: static IPv6 address fd00:50::2/64" \
	eval 'in_net ip -6 -o addr show dev eth2 | grep -q "fd00:50::2/64"'
check "eth2: default route via 192.168.50.1, proto static" \
	test "$(route_of default eth2)" = "default via 192.168.50.1 proto static metric 0"
check "eth2: MTU 1300" test "$(mtu_of eth2)" = 1300
check "eth3: invalid prefix named in the log" \
	grep -q "net.static: invalid value 'eth3 10.3.0.2/40' (expected .*'10.3.0.2/40' is an invalid prefix)" "$SB_LOG"
check "eth3: not configured" no_addr eth3
check "nosuch0: missing interface named in the log" \
	grep -q 'error: net.static: nosuch0: no such interface' "$SB_LOG"
check "accept_ra = 0 on configured interfaces" test "$(in_net cat /proc/sys/net/ipv6/conf/eth2/accept_ra)" = 0

# --- sysctl.conf: applied (net.* in a sandbox), a bad key named
check "sysctl.conf: net.ipv4.ip_forward = 1 in the namespace" test "$(in_net cat /proc/sys/net/ipv4/ip_forward)" = 1
check "sysctl.conf: a bad key named with file:line, key, value and errno" \
	grep -Eq 'error: sysctl.conf:[0-9]+: net.ipv4.conf.all.no_such_key = 1: No such file or directory' "$SB_LOG"
check "sysctl.conf: a '-' key that fails is no error" eval '! grep -q "error: .*bridge-nf-call-iptables" "$SB_LOG"'

# --- eth4 appears after boot
sandbox_move_link "$tag-l4" && in_net ip link set "$tag-l4" name eth4
check "eth4, moved in after boot: a lease" wait_for 30 eval '[[ "$(addr_of eth4)" == 10.97.0.*/24 ]]'

# --- link down and up: the address goes, a new lease comes
in_net ip link set eth0 down
check "eth0 down: the lease's address removed" wait_for 10 no_addr eth0
in_net ip link set eth0 up
# the address first, then its routes: two netlink requests, and a query
# between them (porthole-network below) would see a lease without its route
check "eth0 up: a new lease, and its default route" wait_for 30 eval '[ "$(addr_of eth0)" = 10.99.0.77/24 ] &&
	[ "$(route_of default eth0)" = "default via 10.99.0.1 proto dhcp metric 1024" ]'

# --- the agent in the sandbox: porthole-network, porthole-dns-set
sock=/proc/$SB_PID/root/run/porthole/t.sock
nsenter -t "$SB_PID" -m -n -p -u -r -w /usr/bin/porthole-agent --unix /run/porthole/t.sock \
	--no-vsock --no-serial --config /dev/null --cmdline "" 2>"$work/agent.log" &
agent_pid=$!
CLI="$BIN/porthole --connect unix:$sock --timeout 10"
if wait_for 10 test -S "$sock"; then
	net=$($CLI --json network)
	check "porthole-network: eth0's lease, server and DNS" python3 -c '
import json, sys
n = json.loads(sys.argv[1])
e = [i for i in n["interfaces"] if i["name"] == "eth0"][0]
d = e["dhcp"]
assert e["mtu"] == 1400 and e["method"] == "dhcp" and e["state"] == "up", e
assert d["address"] == ["10.99.0.77/24"] and d["server"] == "10.99.0.1", d
assert d["dns"] == ["10.99.0.53", "10.99.0.54"] and d["expires"] > d["obtained"], d
assert any(r["destination"] == "default" and r.get("gateway") == "10.99.0.1" for r in n["routes"])
assert n["dns"]["servers"] == ["10.99.0.53", "10.99.0.54"], n["dns"]' "$net"
	check "porthole network (text) shows eth0's lease" eval '$CLI network | grep -q "eth0: dhcp bound, 10.99.0.77/24 from 10.99.0.1"'
	out=$($CLI dns set 192.0.2.53 not-an-address --search corp.test 2>&1)
	check "dns set: an invalid server is named, nothing written" \
		eval '[[ "$out" == *"Invalid name server '"'"'not-an-address'"'"'"* ]] && resolv | grep -q 10.99.0.53'
	$CLI dns set 192.0.2.53 2001:db8::53 --search corp.test example.org
	expected_set="search corp.test example.org
nameserver 192.0.2.53
nameserver 2001:db8::53"
	check "dns set: resolv.conf rewritten" eval '[ "$(resolv | grep -v "^#")" = "$expected_set" ]'
	n=$(leases_of eth0)
	check "dns set: kept across a DHCP renewal" \
		eval 'wait_for 20 eval "[ \"\$(leases_of eth0)\" -gt $n ]" && [ "$(resolv | grep -v "^#")" = "$expected_set" ]'
else
	not_ok "the agent listens in the sandbox"
	sed 's/^/# /' "$work/agent.log"
fi

# --- eth1: its server gone, the address is removed when the lease ends
if [ -n "${b_stopped-}" ]; then
	left=$((150 - (SECONDS - b_stopped)))
	echo "# waiting up to $left s for eth1's lease to end"
	check "eth1: the address removed at the lease's end (server stopped)" wait_for "$left" no_addr eth1
	check "eth1: the expiry logged" grep -q 'eth1: dhcp: lease of 10.98.0.* expired: address removed' "$SB_LOG"
fi
check "no packet refused from dnsmasq" eval '! grep -q "packet of .* ignored" "$SB_LOG"'
sandbox_stop TERM
check "init shuts down cleanly" test "$SB_STATUS" = 0
