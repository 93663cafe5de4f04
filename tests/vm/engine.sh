#!/bin/bash
# The engine image with a data disk: init starts containerd and dockerd and
# dockerd becomes ready. Then a new Docker Desktop user's first steps, all from
# the host's shell: scripts/host-side starts the clock keeper, `porthole
# forward docker` and `porthole forward ports`, and Debian's docker CLI
# (scripts/deps) drives the VM's engine through them: docker version; a base
# image made here from busybox (no registry) imported from a tar, an image
# built on it from a context sent by the host, a container run, its logs
# followed, a command exec'd in it, its published port answering the host
# through QEMU's port forward and, with nothing named before boot, through
# porthole forward ports, as a UDP echo container's does; containers on a
# user network reaching each other by address and by name, and not a
# container on a second user network (docker's isolation); docker run -it on
# a pty; docker ps and stop, the published port gone from the host. A
# container over its --memory limit is OOM-killed and the kill is counted;
# dockerd killed with SIGKILL is restarted by init and ready again, the VM's
# health degraded meanwhile, the forward serving again. docker image rm of a
# 200 MiB image gives the space back to the host's disk file by itself within
# a minute (the agent trims after the engine's deletes), as porthole-health
# and porthole df report. The kernel loads what iptables and dockerd ask
# for through /sbin/modprobe (kmod's). Last, `make stop`
# and `make run` on the same disk: the image built before is still there,
# and make stop ends the host side with the VM.
. "$(dirname "$0")/../lib.sh"
VM_PROFILE=engine
. "$(dirname "$0")/lib-vm.sh"
# (ARCH=arm64 runs it on the arm64 engine image, by hand: the vm-arm64 tier
# has tests/vm-arm64/engine.sh, a shorter one)
if [ ! -f "$VM_IMAGE/initramfs.img" ]; then
	skip "engine image" "no $ARCH engine image: make image PROFILE=engine ARCH=$ARCH"
	exit 0
fi
tree=$VM_IMAGE/root
HOST=$(mktemp -d "$BUILD/engine-host.XXXXXX")
poller=""
trap '[ -z "$poller" ] || kill "$poller" 2>/dev/null; vm_cleanup; rm -rf "$HOST"' EXIT
CLI=$BUILD/bin/porthole
# Debian's docker CLI, which scripts/deps takes out of docker.io's package:
# the one make run's user has, not whatever `docker` comes first in PATH (this
# machine may have one no package installed). Its configuration is the
# test's own, not the user's ~/.docker, and no context of theirs applies.
D=$BUILD/docker-cli/docker
export DOCKER_CONFIG=$HOST/docker-config
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_HOST

# The base image's tree: the image's static busybox and its applet links,
# as `busybox --install -s` would make them; packed here, imported by the
# host's docker CLI.
mkdir -p "$HOST/ctx" "$HOST/base/bin"
cp "$tree/bin/busybox" "$HOST/base/bin/busybox"
# (a foreign guest's busybox runs here under qemu-user: scripts/deps --arch)
guest_busybox() {
	if [ "$ARCH" = "$HOST_ARCH" ]; then
		"$tree/bin/busybox" "$@"
	else
		qemu-aarch64 "$tree/bin/busybox" "$@"
	fi
}
guest_busybox --list-full | while IFS= read -r f; do
	case $f in */*) ;; *) continue ;; esac
	[ "$f" = bin/busybox ] && continue
	mkdir -p "$HOST/base/${f%/*}" && ln -s /bin/busybox "$HOST/base/$f"
done
tar -C "$HOST/base" --owner=0 --group=0 --numeric-owner -cf "$HOST/base.tar" .
# a page no run has served before: what comes back was served now
token="porthole engine test $$ $(date +%s%N)"
echo "<h1>$token</h1>" >"$HOST/ctx/index.html"
cat >"$HOST/ctx/Dockerfile" <<'EOF'
FROM thatbase
COPY index.html /www/
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
EOF
truncate -s 2G "$HOST/data.img"
# free_port tcp|udp: a port nothing uses on the host's 127.0.0.1 now
free_port() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$1"
}
# QEMU's forward to the guest's 8080; then two ports that porthole forward
# ports is to follow, for TCP and UDP
port=$(free_port tcp)
pport=$(free_port tcp)
uport=$(free_port udp)

if ! vm_start engine --disk "$HOST/data.img" --forward "$port:8080"; then
	not_ok "the engine image boots to the ready line"
	exit 1
fi
ok "the engine image boots to the ready line"
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
# The root's form (rootfs/profiles/engine.rootform, docs/image.md): on its
# read-only disk, / is an overlay whose writes land in a tmpfs, and everything
# above (dockerd's start, pivot_root for the containers below) runs on it.
if [ -f "$VM_IMAGE/root.img" ]; then
	mounts=$(vm 'cat /proc/mounts')
	check "/ is an overlay: the read-only root disk under a tmpfs" \
		grep -q '^overlay / overlay rw,.*lowerdir=/.porthole/ro,upperdir=/.porthole/rw/upper,workdir=/.porthole/rw/work' <<<"$mounts"
	rdev=$(sed -n 's|^/dev/\(vd[a-z]*\) /.porthole/ro erofs ro,.*|\1|p' <<<"$mounts")
	check "the root disk ($rdev) is erofs, mounted read-only, serial porthole-root, read-only to the block layer" \
		eval '[ -n "$rdev" ] && [ "$(vm "cat /sys/block/$rdev/serial; echo; cat /sys/block/$rdev/ro" | tr "\n" " ")" = "porthole-root 1 " ]'
	check "the writes' tmpfs is on /.porthole/rw" grep -q '^tmpfs /.porthole/rw tmpfs rw,' <<<"$mounts"
	vm 'echo written >/etc/porthole-root-probe' >/dev/null
	check "a write to / lands in the tmpfs, not on the disk" \
		eval '[ "$(vm "cat /.porthole/rw/upper/etc/porthole-root-probe; [ ! -e /.porthole/ro/etc/porthole-root-probe ] || echo also on the disk")" = written ]'
	# what the guest holds with the engine ready (docs/image.md's figures)
	echo "# RAM held, root on its disk: $(vm "awk '/^(MemTotal|MemAvailable|Shmem):/ { v[\$1] = \$2 } END { printf \"%d MiB (MemTotal - MemAvailable), Shmem %d MiB\", (v[\"MemTotal:\"] - v[\"MemAvailable:\"]) / 1024, v[\"Shmem:\"] / 1024 }' /proc/meminfo"); $(grep -a -m 1 'root disk: moved to it' "$VM_DIR/console.log" | sed 's/.*porthole-init: //')"
else
	skip "/ is the overlay of the read-only root disk" \
		"the engine image's root is its initramfs (rootfs/profiles/engine.rootform)"
fi
# containerd's configuration is porthole's own file (the containerd package
# keeps /etc/containerd/config.toml): named on its command line, and in
# effect: the Kubernetes CRI plugin it disables, which Debian's file loads,
# has no state directory in /run/containerd (the task plugin's is there)
ccmd=$(vm 'tr "\0" " " </proc/$(pidof containerd)/cmdline; echo; ls -1 /run/containerd')
check "containerd runs with --config /etc/porthole/containerd.toml" \
	grep -qx "/usr/bin/containerd --config /etc/porthole/containerd.toml " <<<"$ccmd"
check "... and without the Kubernetes CRI plugin (its state directory: none; the task plugin's: there)" \
	eval 'grep -qx io.containerd.runtime.v2.task <<<"$ccmd" && ! grep -q io.containerd.grpc.v1.cri <<<"$ccmd"'
dpid=$(vm 'pidof dockerd')
check "dockerd runs in its own cgroup, a leaf of its delegated subtree" \
	eval 'vm "cat /proc/$dpid/cgroup" | grep -q "^0::/porthole/dockerd/"'
check "the kernel runs kmod's /sbin/modprobe for request_module" \
	test "$(vm 'cat /proc/sys/kernel/modprobe; readlink -f /sbin/modprobe' | tr '\n' ' ')" = "/sbin/modprobe /bin/kmod "

## the host side: the clock keeper and the docker socket's forward ##########

# What make run starts beside the VM, here on the test's VM.
if "$REPO/scripts/host-side" start --dir "$VM_DIR" --profile engine >"$HOST/host-side.out" 2>&1; then
	ok "scripts/host-side start: porthole time watch, forward docker and forward ports run"
else
	not_ok "scripts/host-side start: porthole time watch, forward docker and forward ports run"
	sed 's/^/# /' "$HOST/host-side.out"
fi
check "the clock keeper synced the guest's clock" grep -q '^sync: ' "$VM_DIR/time-watch.log"
check "the forward serves $VM_DIR/docker.sock, mode 0600" \
	test "$(stat -c %a "$VM_DIR/docker.sock" 2>/dev/null)" = 600
export DOCKER_HOST=unix://$VM_DIR/docker.sock
# From here on, the engine answers when the host's CLI gets an answer.
docker_up() { "$D" version --format '{{.Server.Version}}' 2>/dev/null | grep -q '^[0-9]'; }

if [ ! -x "$D" ] || [ ! -s "$BUILD/docker-cli/source" ]; then
	not_ok "Debian's docker CLI in $D (scripts/deps puts it there)"
	exit 1
fi
read -r cli_pkg cli_ver _ cli_md5 <"$BUILD/docker-cli/source"
check "the host's docker CLI is $cli_pkg $cli_ver's usr/bin/docker (md5 $cli_md5, from its md5sums)" \
	test "$(md5sum <"$D" | cut -d' ' -f1)" = "$cli_md5"
engine_ver=$(awk '$1 == "docker.io" { print $2 }' "$VM_IMAGE/packages.txt")
if [ "$ARCH" != "$HOST_ARCH" ]; then
	skip "...the very file that the engine image has" "the image's docker is $ARCH's, the host's CLI $HOST_ARCH's"
elif [ "$engine_ver" = "$cli_ver" ]; then
	check "...the very file that the engine image has from Debian's archive" cmp -s "$D" "$tree/usr/bin/docker"
else
	echo "# the engine image has docker.io $engine_ver, the host's CLI is from $cli_ver"
fi
vers=$("$D" version --format '{{.Client.Version}} {{.Server.Version}}' 2>&1)
check "docker version from the host: client and the VM's server ($vers)" \
	eval '[[ $vers == [0-9]*" "[0-9]* && $engine_ver == "${vers#* }"-* ]]'

## a user's first steps, from the host #######################################

out=$("$D" import "$HOST/base.tar" thatbase 2>&1)
check "docker import of busybox's tree, from a tar on the host" grep -q '^sha256:' <<<"$out"
# A container that writes a line, then another 2 s later and exits: logs -f,
# started when run -d returns, follows it to its end.
"$D" run -d --name hello thatbase sh -c 'echo "hello from $(busybox | head -n 1 | cut -d" " -f1)"; sleep 2; echo bye' >/dev/null
out=$(timeout 60 "$D" logs -f hello 2>&1)
check "docker run -d, then docker logs -f follows its output to its end" \
	test "$(tr '\n' ' ' <<<"$out")" = "hello from BusyBox bye "
out=$(cd "$HOST/ctx" && "$D" build -q -t my-web-server . 2>&1 && "$D" images --format '{{.Repository}}' my-web-server)
if grep -qx my-web-server <<<"$out"; then
	ok "docker build -t my-web-server . (FROM thatbase, COPY, CMD; the context sent from the host)"
else
	not_ok "docker build -t my-web-server . (FROM thatbase, COPY, CMD; the context sent from the host)"
	echo "$out" | sed 's/^/# /'
fi
# fetch URL: the page, with python3 (scripts/deps) as the HTTP client,
# straight (no proxy from the environment); a failure prints its reason on
# stderr, which the report shows.
fetch() {
	python3 -c '
import sys, urllib.request
try:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(sys.argv[1], timeout=10) as r:
        sys.stdout.write(r.read().decode(errors="replace"))
except Exception as e:
    sys.exit("%s: %s" % (sys.argv[1], e))' "$1"
}
page_at() { [ "$(fetch "$1" 2>/dev/null)" = "<h1>$token</h1>" ]; }
# --init: docker-init (tini) as the container's PID 1 passes docker stop's
# SIGTERM on to httpd, which as PID 1 would ignore it for 10 s. Two ports:
# the guest's 8080, which QEMU's forward reaches, and one that only porthole
# forward ports brings to the host.
web=$("$D" run -d --init --name web -p 8080:80 -p "$pport:80" my-web-server | grep -E '^[0-9a-f]{64}$')
t_run=$(date +%s%N)
check "docker run -d -p 8080:80 -p $pport:80 my-web-server" test -n "$web"
# how long after docker run returned the port answers on the host: the
# guest's agent tells the forwarder when a socket starts listening
if wait_for 30 page_at "http://127.0.0.1:$pport/"; then
	ms=$((($(date +%s%N) - t_run) / 1000000))
	ok "porthole forward ports: http://127.0.0.1:$pport answers on the host, $ms ms after docker run returned (nothing named before boot)"
else
	not_ok "porthole forward ports: http://127.0.0.1:$pport answers on the host (got: $(fetch "http://127.0.0.1:$pport/" 2>&1 | head -c 200))"
	tail -n 5 "$VM_DIR/forward-ports.log" | sed 's/^/# /'
fi
check "...and on the host's ::1" page_at "http://[::1]:$pport/"
if wait_for 60 page_at "http://127.0.0.1:$port/"; then
	ok "the host fetches the page through QEMU's forward to the guest's 8080"
else
	not_ok "the host fetches the page through QEMU's forward to the guest's 8080 (got: $(fetch "http://127.0.0.1:$port/" 2>&1 | head -c 200))"
fi
check "the guest's own 127.0.0.1:8080 serves it too" \
	eval 'vm "wget -q -O- http://127.0.0.1:8080/" | grep -qxF "<h1>$token</h1>"'
check "docker exec web: a command in the running container" \
	eval '"$D" exec web cat /www/index.html | grep -qxF "<h1>$token</h1>"'
cpid=$("$D" inspect -f '{{.State.Pid}}' web | grep -E '^[0-9]+$')
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

## a UDP port, published and followed to the host ############################

# busybox has no UDP server: tests/helpers/udp-echo (static) is copied into a
# container made of thatbase, with docker cp from the host, then started.
echo_bin=$GUEST_BUILD/tests/helpers/udp-echo
# udp_echo: a datagram to the host's 127.0.0.1:$uport comes back, echoed
udp_echo() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(b"ping", ("127.0.0.1", int(sys.argv[1])))
sys.exit(s.recv(100) != b"echo: ping")' "$uport" 2>/dev/null
}
if [ ! -x "$echo_bin" ]; then
	skip "a UDP echo container's published port answers on the host" "no $echo_bin (make $echo_bin)"
else
	"$D" create --name echo -p "$uport:7/udp" thatbase /udp-echo 7 >/dev/null &&
		"$D" cp "$echo_bin" echo:/udp-echo && "$D" start echo >/dev/null
	check "docker run -p $uport:7/udp of a UDP echo server: a datagram to the host's 127.0.0.1:$uport comes back" \
		wait_for 30 udp_echo
	"$D" rm -f echo >/dev/null
fi

## a user network ##############################################################

out=$("$D" network create my-network 2>&1 && "$D" run -d --init --name srv --network my-network my-web-server 2>&1 &&
	"$D" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' srv)
ip=$(grep -E '^[0-9.]+$' <<<"$out" | tail -n 1)
check "docker network create my-network; a server on it has an address ($ip)" test -n "$ip"
# one client for both ways of reaching the server: each answer marked
out=$("$D" run --rm --network my-network thatbase sh -c \
	"echo ip:\$(wget -q -O- http://$ip/); echo name:\$(wget -q -O- http://srv/); ping -c 1 -W 5 srv >/dev/null && echo ping-ok" 2>&1)
check "a second container on my-network reaches the first by address" grep -qxF "ip:<h1>$token</h1>" <<<"$out"
check "...and by name (the engine's DNS): wget and ping" \
	eval 'grep -qxF "name:<h1>$token</h1>" <<<"$out" && grep -qx ping-ok <<<"$out"'

## isolation between networks ###################################################

# docker's promise: containers on two user networks do not reach each other
# (its DOCKER-ISOLATION chains). A container
# on my-other is up (it pings its gateway) and srv's address on my-network
# does not answer it, while it answered a container on my-network above.
out=$("$D" network create my-other >/dev/null 2>&1 && "$D" run --rm --network my-other thatbase sh -c \
	"gw=\$(ip route | sed -n 's/^default via \([0-9.]*\).*/\1/p'); ping -c 1 -W 5 \$gw >/dev/null && echo gw-ok; wget -q -T 5 -O- http://$ip/ || echo blocked" 2>&1)
check "a container on a second user network, my-other, is up (pings its gateway)" grep -qx gw-ok <<<"$out"
check "...and does not reach srv on my-network ($ip): the networks are isolated" \
	eval 'grep -qx blocked <<<"$out" && ! grep -qF "<h1>" <<<"$out"'
"$D" network rm my-other >/dev/null 2>&1

## docker run -it, ps, stop ####################################################

# docker run -it on a pseudo-terminal of 30x100, as at a terminal: the
# shell's prompt, then a line typed; the container's tty, its size (the CLI
# passes the terminal's on, with a resize call after the start that may come
# after the first prompt: stty is asked again for up to 30 s), its exit status.
# Bounded: 60 s, then killed.
tty_run() {
	python3 - "$@" <<'EOF'
import fcntl, os, pty, select, signal, struct, sys, termios, time

pid, fd = pty.fork()
if pid == 0:
    # the terminal's size before the CLI reads it
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    os.execv(sys.argv[1], sys.argv[1:])
out, typed, deadline = b"", False, time.monotonic() + 60
while time.monotonic() < deadline:
    if select.select([fd], [], [], 0.2)[0]:
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not data:
            break
        out += data
    if not typed and b"/ # " in out:
        os.write(fd, b"echo $((6 * 7)); tty; for i in $(seq 300); do s=$(stty size 2>&1);"
                 b" [ \"$s\" = \"30 100\" ] && break; sleep 0.1; done; echo \"size=$s\"; exit 3\r")
        typed = True
else:
    os.kill(pid, signal.SIGKILL)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
print("status=%d" % os.waitstatus_to_exitcode(status))
EOF
}
out=$(tty_run "$D" run -it --rm thatbase sh)
if grep -qx 42 <<<"$out" && grep -qx /dev/pts/0 <<<"$out" && grep -qx "size=30 100" <<<"$out" && grep -qx status=3 <<<"$out"; then
	ok "docker run -it: a shell on a terminal (tty /dev/pts/0, 30x100), exit status 3"
else
	not_ok "docker run -it: a shell on a terminal (tty /dev/pts/0, 30x100), exit status 3"
	sed 's/^/# /' <<<"$out"
fi
out=$("$D" ps --format '{{.Names}} {{.Image}} {{.Status}}')
check "docker ps: web and srv up, of my-web-server" \
	eval 'grep -q "^web my-web-server Up" <<<"$out" && grep -q "^srv my-web-server Up" <<<"$out"'
check "docker stop web" eval '"$D" stop web | grep -qx web'
check "docker ps -a: web exited" \
	eval '"$D" ps -a --filter name=^web\$ --format "{{.Status}}" | grep -q ^Exited'
# closed: nothing listens on the host's port any more (a refused connect)
port_closed() {
	python3 -c '
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$pport" 2>/dev/null
}
check "...and its port $pport is gone from the host" wait_for 30 port_closed

## the memory limit ############################################################

# dd's buffer is one block: bs=200M makes it allocate and fill 200 MiB of
# anonymous memory. Without a limit it succeeds; under --memory 64m the
# kernel's OOM killer ends it.
"$D" run --rm thatbase dd if=/dev/zero of=/dev/null bs=200M count=1 >"$HOST/dd.out" 2>&1
check "dd with a 200 MiB buffer runs without a limit" test $? = 0
oom_before=$(svc dockerd oom_kills)
"$D" run --name oom --memory 64m thatbase dd if=/dev/zero of=/dev/null bs=200M count=1 >"$HOST/dd.out" 2>&1
check "under --memory 64m it is OOM-killed: exit 137" test $? = 137
check "docker inspect: OOMKilled true" eval '"$D" inspect -f "{{.State.OOMKilled}}" oom | grep -qx true'
"$D" rm oom >/dev/null 2>&1
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
# the host's forward is left as it is: it serves the new dockerd when there is one
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
out=$("$D" run --rm thatbase echo still-works 2>&1)
check "containers run after dockerd's restart, through the same forward" grep -qx still-works <<<"$out"

## trim after deletes ##########################################################

# docker image rm of a 200 MiB image, and nothing else: the agent, reading
# dockerd's events (here after dockerd's restart above, on a new stream), trims
# the data disk a few seconds later, and the host's sparse file gives the
# blocks back (run-vm's discard=unmap; ext4 is mounted without -o discard, so
# nothing else would). The image is random data (as incompressible as real
# layers), imported from a tar on the host through the forward. The host
# file's size is stat's allocated blocks; porthole df reports the same.
alloc() { echo $(($(stat -c %b "$HOST/data.img") * $(stat -c %B "$HOST/data.img"))); }
mib() { echo $(($1 / 1048576)); }
last_trim() {
	C --json health | python3 -c '
import json, sys
for d in json.load(sys.stdin)["disks"]:
    if d["path"] == "/var/lib":
        t = d.get("last_trim") or {}
        print(t.get("time_ns", 0), t.get("trimmed_bytes", 0), t.get("reason", "none").replace(" ", "-"))'
}
mkdir -p "$HOST/big"
head -c 209715200 /dev/urandom >"$HOST/big/random.bin"
tar -C "$HOST/big" --owner=0 --group=0 -cf "$HOST/big.tar" random.bin
rm -f "$HOST/big/random.bin"
vm sync
a0=$(alloc)
out=$("$D" import "$HOST/big.tar" porthole-big 2>&1)
rm -f "$HOST/big.tar"
vm sync
a1=$(alloc)
echo "# the host file: $(mib "$a0") MiB allocated before the import, $(mib "$a1") MiB after"
imported() { grep -q '^sha256:' <<<"$out" && [ $((a1 - a0)) -ge 157286400 ]; }
check "docker import of 200 MiB of random data: the host file grew by 150 MiB or more ($(mib $((a1 - a0))) MiB)" imported
read -r t_before _ _ < <(last_trim)
t0=$SECONDS
"$D" image rm porthole-big >/dev/null
given_back() { [ "$(alloc)" -le $((a1 - 157286400)) ]; }
if wait_for 60 given_back; then
	a2=$(alloc)
	ok "docker image rm: the host file gave 150 MiB or more back by itself ($(mib "$a1") -> $(mib "$a2") MiB allocated, $((SECONDS - t0)) s after the rm)"
else
	a2=$(alloc)
	not_ok "docker image rm: the host file gave 150 MiB or more back by itself within 60 s ($(mib "$a1") -> $(mib "$a2") MiB allocated)"
	grep -a 'engine events\|trimmed' "$VM_DIR/console.log" | tail -n 10 | sed 's/^/# /'
fi
read -r t_after trimmed reason < <(last_trim)
trim_reported() { [ "$reason" = after-delete ] && [ "$t_after" -gt "${t_before:-0}" ] && [ "$trimmed" -ge 157286400 ]; }
check "porthole-health: the data disk's last_trim is after delete, new, $(mib "${trimmed:-0}") MiB trimmed" trim_reported
check "the agent's log: a trim after the engine's delete (engine events: ... trimming /var/lib)" \
	grep -aq "engine events: .*image delete.*trimming /var/lib" "$VM_DIR/console.log"
# porthole df: the guest's figures and the host file's, as stat sees them
# around the call (equal when nothing wrote meanwhile)
s1=$(alloc)
df_json=$(C --json df 2>&1)
s2=$(alloc)
check "porthole df --json: the host file (run-vm's disk.path) as stat sees it, apparent and allocated ($(mib "$s2") MiB)" \
	python3 -c '
import json, os, sys
d = json.loads(sys.argv[1])
h = d["host"]
assert h["path"] == os.path.realpath(sys.argv[2]), h
assert h["apparent_bytes"] == os.stat(sys.argv[2]).st_size, h
assert min(int(sys.argv[3]), int(sys.argv[4])) <= h["allocated_bytes"] <= max(int(sys.argv[3]), int(sys.argv[4])), h
v = [x for x in d["disks"] if x["path"] == "/var/lib"][0]
assert v["mounted"] and v["used_bytes"] + v["available_bytes"] <= v["total_bytes"], v
assert v["last_trim"]["reason"] == "after delete", v' "$df_json" "$HOST/data.img" "$s1" "$s2"
out=$(C df --disk "$HOST/data.img" 2>&1)
df_shown() {
	grep -q '^/var/lib ' <<<"$out" && grep -q '^last trim of /var/lib: .*(after delete)' <<<"$out" &&
		grep -q '^host file .*data.img: .* allocated, of 2.0 GiB apparent' <<<"$out"
}
check "porthole df (for people): the guest's /var/lib, its last trim, the host file" df_shown
sed 's/^/# /' <<<"$out"

## a helper of the host side dies ##############################################

fwd=$(pgrep -x -g "$(cat "$VM_DIR/forward-docker.pid" 2>/dev/null || echo 0)" porthole)
kill -9 "$fwd" 2>/dev/null
restarted() { grep -q 'forward-docker exited with status 137 .* restart 1 in 1 s' "$VM_DIR/forward-docker.log"; }
check "porthole forward docker killed: scripts/host-side says so and starts it again" 	eval 'wait_for 10 restarted && wait_for 20 docker_up'

## what was built survives make stop and make run ##############################

# The cycle a user goes through, with make's own recipes, on this VM's state
# directory and data disk (VM_DIR, DISK); as typed at a shell, not with
# make check's MAKEFLAGS.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$REPO" --no-print-directory BUILD="$BUILD" \
		VM_DIR="$VM_DIR" DISK="$HOST/data.img" PROFILE=engine "$@"
}
image_id=$("$D" image inspect -f '{{.Id}}' my-web-server)
if mk stop >"$HOST/make-stop.out" 2>&1; then
	ok "make stop: the VM powers off"
else
	not_ok "make stop: the VM powers off"
	sed 's/^/# /' "$HOST/make-stop.out"
fi
check "make stop ends the host side: the clock keeper, then the forwards" \
	eval 'grep -q "time-watch stopped" "$HOST/make-stop.out" && grep -q "forward-docker stopped" "$HOST/make-stop.out" &&
		grep -q "forward-ports stopped" "$HOST/make-stop.out" && [ ! -e "$VM_DIR/docker.sock" ] &&
		[ ! -e "$VM_DIR/time-watch.pid" ] && [ ! -e "$VM_DIR/forward-docker.pid" ] && [ ! -e "$VM_DIR/forward-ports.pid" ]'
unset DOCKER_HOST
t0=$SECONDS
if mk run >"$HOST/make-run.out" 2>&1; then
	ok "make run PROFILE=engine: the VM again, on the same disk ($((SECONDS - t0)) s)"
else
	not_ok "make run PROFILE=engine: the VM again, on the same disk"
	tail -n 30 "$HOST/make-run.out" | sed 's/^/# /'
fi
# what make run tells the user to type
host=$(sed -n 's/^ *the engine: *export DOCKER_HOST=//p' "$HOST/make-run.out")
check "make run prints: export DOCKER_HOST=unix://$VM_DIR/docker.sock" test "$host" = "unix://$VM_DIR/docker.sock"
export DOCKER_HOST=unix://$VM_DIR/docker.sock
check "my-web-server, built before make stop, is there after make run (docker images)" \
	test "$("$D" image inspect -f '{{.Id}}' my-web-server 2>&1)" = "$image_id"
check "...and the containers made before (docker ps -a: web, srv)" \
	eval '[ "$("$D" ps -a --filter name=^web\$ --filter name=^srv\$ -q | wc -l)" = 2 ]'
check "...and a container of it serves the same page" \
	eval '"$D" run --rm my-web-server cat /www/index.html | grep -qxF "<h1>$token</h1>"'
if mk stop >"$HOST/make-stop.out" 2>&1; then
	ok "make stop again"
else
	not_ok "make stop again"
	sed 's/^/# /' "$HOST/make-stop.out"
fi
