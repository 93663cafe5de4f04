#!/bin/bash
# The engine image with a data disk: init starts containerd and dockerd and
# dockerd becomes ready; a base image made here from busybox (no registry) is
# imported, an image is built on it, and a container's published port answers
# the host through QEMU's port forward; containers on a user network reach each
# other by address and by name; a container over its --memory limit is
# OOM-killed and the kill is counted; dockerd killed with SIGKILL is restarted
# by init and ready again, the VM's health degraded meanwhile. The kernel loads
# what iptables and dockerd ask for through /sbin/modprobe (kmod's).
. "$(dirname "$0")/../lib.sh"
VM_PROFILE=engine
. "$(dirname "$0")/lib-vm.sh"
if [ ! -f "$BUILD/image/engine/initramfs.img" ]; then
	skip "engine image" "no engine image: make image PROFILE=engine"
	exit 0
fi
tree=$BUILD/image/engine/root
HOST=$(mktemp -d "$BUILD/engine-host.XXXXXX")
poller=""
trap '[ -z "$poller" ] || kill "$poller" 2>/dev/null; vm_cleanup; rm -rf "$HOST"' EXIT
CLI=$BUILD/bin/porthole

# The base image's tree: the image's static busybox and its applet links,
# as `busybox --install -s` would make them; packed here, imported there.
mkdir -p "$HOST/share/ctx" "$HOST/base/bin"
cp "$tree/bin/busybox" "$HOST/base/bin/busybox"
"$tree/bin/busybox" --list-full | while IFS= read -r f; do
	case $f in */*) ;; *) continue ;; esac
	[ "$f" = bin/busybox ] && continue
	mkdir -p "$HOST/base/${f%/*}" && ln -s /bin/busybox "$HOST/base/$f"
done
tar -C "$HOST/base" --owner=0 --group=0 --numeric-owner -cf "$HOST/share/base.tar" .
# a page no run has served before: what comes back was served now
token="porthole engine test $$ $(date +%s%N)"
echo "<h1>$token</h1>" >"$HOST/share/ctx/index.html"
cat >"$HOST/share/ctx/Dockerfile" <<'EOF'
FROM thatbase
COPY index.html /www/
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
EOF
truncate -s 2G "$HOST/data.img"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

if ! vm_start engine --disk "$HOST/data.img" --share9p "engine=$HOST/share" --forward "$port:8080" \
	--append "porthole.share=engine:/mnt/engine:ro"; then
	not_ok "the engine image boots to the ready line"
	exit 1
fi
ok "the engine image boots to the ready line"
C() { "$CLI" --connect "$(vm_agent)" --timeout 30 "$@"; }
agent_up() { C ping >/dev/null 2>&1; }
wait_for 60 agent_up || { not_ok "the agent answers"; exit 1; }

# The agent reports init's services once both sides have landed: the checks
# that need it say so when it is not there.
services_json() { C --json call porthole-services 2>/dev/null; }
have_services=0
if services_json | grep -q '"name":"dockerd"'; then
	have_services=1
else
	why=$(C --json call porthole-services 2>&1 | head -n 1)
fi
# svc NAME FIELD: one field of one service, from porthole-services
svc() {
	services_json | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["name"] == sys.argv[1]:
        print(json.dumps(s.get(sys.argv[2])))' "$1" "$2" 2>/dev/null
}

## the engine starts #########################################################

# The docker CLI takes 2 s of CPU per call under TCG: ask init (through the
# agent) whether dockerd is ready when it can tell, and the CLI once then.
docker_up() { vm 'docker version --format "{{.Server.Version}}"' 2>/dev/null | grep -q '^[0-9]'; }
engine_up() {
	if [ $have_services = 1 ]; then
		[ "$(svc dockerd ready)" = true ] || { sleep 0.5; return 1; }
	else
		sleep 2
	fi
	docker_up
}
if wait_for 240 engine_up; then
	ok "dockerd answers (docker version in the guest)"
else
	not_ok "dockerd answers (docker version in the guest)"
	grep -a -E 'containerd|dockerd' "$VM_DIR/console.log" | tail -n 20 | sed 's/^/# /'
	exit 1
fi
if [ $have_services = 1 ]; then
	check "porthole-services: containerd and dockerd running and ready" \
		test "$(svc containerd state) $(svc containerd ready) $(svc dockerd state) $(svc dockerd ready)" = \
		'"running" true "running" true'
	health=$(C --json health)
	check "porthole-health: engine ready, status ok" python3 -c '
import json, sys
h = json.loads(sys.argv[1])
assert h["engine"]["ready"] is True and h["engine"]["ready_ms"] > 0, h.get("engine")
assert h["status"] == "ok", h["reasons"]' "$health"
	ready_ms=$(svc dockerd ready_ms)
	echo "# dockerd ready $ready_ms ms after the kernel started"
else
	skip "porthole-services: containerd and dockerd ready" "the agent has no porthole-services: $why"
	skip "porthole-health: engine ready" "the agent has no porthole-services: $why"
fi

info=$(vm 'docker info --format "{{.Driver}} {{.CgroupDriver}} {{.CgroupVersion}} {{.DockerRootDir}} {{.LoggingDriver}} {{json .DriverStatus}}"')
echo "# docker info: $info"
check "docker info: overlay2, cgroupfs on cgroup v2, /var/lib/docker, json-file" \
	grep -q '^overlay2 cgroupfs 2 /var/lib/docker json-file ' <<<"$info"
check "docker info: overlay2 on the data disk's ext4 (extfs)" grep -q '"Backing Filesystem","extfs"' <<<"$info"
check "/var/lib/docker is on the data disk" \
	eval 'vm "stat -f -c %T /var/lib/docker; grep \" /var/lib \" /proc/mounts" | tr "\n" " " | grep -q "^ext2/ext3 /dev/vda /var/lib ext4"'
dpid=$(vm 'pidof dockerd')
check "dockerd runs in its own cgroup, a leaf of its delegated subtree" \
	eval 'vm "cat /proc/$dpid/cgroup" | grep -q "^0::/porthole/dockerd/"'
check "the kernel runs kmod's /sbin/modprobe for request_module" \
	test "$(vm 'cat /proc/sys/kernel/modprobe; readlink -f /sbin/modprobe' | tr '\n' ' ')" = "/sbin/modprobe /bin/kmod "

## an image from a tar, built on, served to the host #########################

out=$(vm 'docker import /mnt/engine/base.tar thatbase && docker run --rm thatbase sh -c "echo hello from \$(busybox | head -n 1 | cut -d\" \" -f1)"' 2>&1)
check "docker import of busybox's tree; a container runs its shell" grep -q '^hello from BusyBox' <<<"$out"
out=$(vm 'cp -r /mnt/engine/ctx /tmp/ctx && cd /tmp/ctx && docker build -q -t my-web-server . && docker images --format "{{.Repository}}" my-web-server' 2>&1)
if grep -qx my-web-server <<<"$out"; then
	ok "docker build -t my-web-server (FROM thatbase, COPY, CMD)"
else
	not_ok "docker build -t my-web-server (FROM thatbase, COPY, CMD)"
	echo "$out" | sed 's/^/# /'
fi
web=$(vm 'docker run -d --name web -p 8080:80 my-web-server' | grep -E '^[0-9a-f]{64}$')
check "docker run -d -p 8080:80 my-web-server" test -n "$web"
# fetch: the page at the forwarded port, with python3 (scripts/deps) as the
# HTTP client, straight (no proxy from the environment); a failure prints its
# reason on stderr, which the report shows.
fetch() {
	python3 -c '
import sys, urllib.request
try:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(sys.argv[1], timeout=10) as r:
        sys.stdout.write(r.read().decode(errors="replace"))
except Exception as e:
    sys.exit("%s: %s" % (sys.argv[1], e))' "http://127.0.0.1:$port/"
}
page_served() { [ "$(fetch 2>/dev/null)" = "<h1>$token</h1>" ]; }
if wait_for 60 page_served; then
	ok "the host fetches the page through QEMU's forward to the guest's 8080"
else
	not_ok "the host fetches the page through QEMU's forward to the guest's 8080 (got: $(fetch 2>&1 | head -c 200))"
fi
check "the guest's own 127.0.0.1:8080 serves it too (route_localnet, no docker-proxy)" \
	eval 'vm "wget -q -O- http://127.0.0.1:8080/" | grep -qxF "<h1>$token</h1>"'
cpid=$(vm "docker inspect -f '{{.State.Pid}}' web" | grep -E '^[0-9]+$')
check "the container's cgroup is under dockerd's (cgroup-parent /porthole/dockerd)" \
	eval 'vm "cat /proc/$cpid/cgroup" | grep -q "^0::/porthole/dockerd/${web:-none}"'
# None of these is in init.conf's modules: the kernel asked modprobe for them
# when iptables-nft and dockerd set up the NAT rules and the container's link.
mods=$(vm 'cut -d" " -f1 /proc/modules' | tr '\n' ' ')
missing=""
for m in nft_compat nft_chain_nat xt_MASQUERADE xt_addrtype xt_conntrack nf_nat veth bridge br_netfilter overlay; do
	case " $mods " in *" $m "*) ;; *) missing="$missing $m" ;; esac
done
check "modules loaded on demand: nft_compat nft_chain_nat xt_MASQUERADE xt_addrtype xt_conntrack nf_nat veth bridge br_netfilter overlay${missing:+ (missing:$missing)}" \
	test -z "$missing"

## a user network ##############################################################

out=$(vm 'docker network create my-network >/dev/null && docker run -d --name srv --network my-network my-web-server >/dev/null && docker inspect -f "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}" srv')
ip=$(grep -E '^[0-9.]+$' <<<"$out" | tail -n 1)
check "docker network create my-network; a server on it has an address ($ip)" test -n "$ip"
by_ip=$(vm "docker run --rm --network my-network thatbase wget -q -O- http://$ip/")
check "a second container on my-network reaches the first by address" grep -qxF "<h1>$token</h1>" <<<"$by_ip"
by_name=$(vm "docker run --rm --network my-network thatbase sh -c 'wget -q -O- http://srv/ && ping -c 1 -W 5 srv >/dev/null && echo ping-ok'")
check "...and by name (the engine's DNS): wget and ping" \
	eval 'grep -qxF "<h1>$token</h1>" <<<"$by_name" && grep -qx ping-ok <<<"$by_name"'

## the memory limit ############################################################

# dd's buffer is one block: bs=200M makes it allocate and fill 200 MiB of
# anonymous memory. Without a limit it succeeds; under --memory 64m the
# kernel's OOM killer ends it.
out=$(vm 'docker run --rm thatbase dd if=/dev/zero of=/dev/null bs=200M count=1 2>&1; echo "exit=$?"')
check "dd with a 200 MiB buffer runs without a limit" grep -q '^exit=0' <<<"$out"
oom_before=$(svc dockerd oom_kills)
out=$(vm 'docker run --name oom --memory 64m thatbase dd if=/dev/zero of=/dev/null bs=200M count=1 2>&1; echo "exit=$?"; docker inspect -f "oomkilled={{.State.OOMKilled}}" oom')
check "under --memory 64m it is OOM-killed: exit 137" grep -q '^exit=137' <<<"$out"
check "docker inspect: OOMKilled true" grep -q '^oomkilled=true' <<<"$out"
if [ $have_services = 1 ]; then
	oom_counted() { [ "$(svc dockerd oom_kills)" -gt "${oom_before:-0}" ] 2>/dev/null; }
	check "porthole-services: dockerd's oom_kills counts it ($oom_before before)" wait_for 10 oom_counted
	oom_event() {
		C --json call porthole-events '{"service_after":0}' | python3 -c '
import json, sys
e = json.load(sys.stdin).get("service_events", [])
sys.exit(not any(x["service"] == "dockerd" and x["type"] == "oom_kill" for x in e))'
	}
	check "porthole-events: an oom_kill event for dockerd" wait_for 10 oom_event
else
	skip "porthole-services: dockerd's oom_kills counts it" "the agent has no porthole-services: $why"
	skip "porthole-events: an oom_kill event for dockerd" "the agent has no porthole-services: $why"
fi

## dockerd killed ##############################################################

# The health is watched from before the kill, on the other virtio-serial port
# (the agent answers on both), so that a short degraded spell (a fast
# machine restarts dockerd in a second or two) is not missed.
if [ $have_services = 1 ]; then
	(
		for _ in $(seq 3000); do
			"$CLI" --connect "unix:$VM_DIR/qga.sock" --timeout 10 --json health 2>/dev/null
			echo
			sleep 0.1
		done
	) >"$HOST/health.log" &
	poller=$!
	sleep 1
fi
vm "kill -9 $dpid"
new_pid() { p=$(vm 'pidof dockerd' | grep -E '^[0-9]+$'); [ -n "$p" ] && [ "$p" != "$dpid" ]; }
check "dockerd killed with SIGKILL: init starts a new one" wait_for 60 new_pid
check "dockerd ready again after the kill" wait_for 240 engine_up
if [ $have_services = 1 ]; then
	health_ok() { C --json health | grep -q '"status":"ok"'; }
	check "porthole-health: ok again" wait_for 60 health_ok
	kill "$poller" 2>/dev/null
	wait "$poller" 2>/dev/null
	reasons=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    try:
        h = json.loads(line)
    except ValueError:
        continue
    if h.get("status") == "degraded":
        print("; ".join(h["reasons"]))
        break' "$HOST/health.log")
	check "porthole-health was degraded after the kill ($reasons)" \
		grep -q 'service dockerd' <<<"$reasons"
	restarts=$(svc dockerd restarts)
	check "porthole-services: dockerd restarted once ($restarts)" test "$restarts" = 1
	killed_event() {
		C --json call porthole-events '{"service_after":0}' | python3 -c '
import json, sys
e = json.load(sys.stdin).get("service_events", [])
sys.exit(not any(x["service"] == "dockerd" and x["type"] == "exited" and "signal 9" in x["detail"] for x in e))'
	}
	check "porthole-events: dockerd exited, killed by signal 9" killed_event
else
	skip "porthole-health: degraded, then ok again" "the agent has no porthole-services: $why"
fi
out=$(vm 'docker run --rm thatbase echo still-works')
check "containers run after dockerd's restart" grep -qx still-works <<<"$out"

vm_stop >/dev/null 2>&1 || not_ok "the engine VM powers off"
