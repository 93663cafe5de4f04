#!/bin/bash
# The engine on an arm64 guest (issue 19; tests/run's vm-arm64 tier, and
# alone make check-arm64-engine; not in the vm tier, which runs tests/vm/ for
# the host's architecture): the arm64 engine image with a data disk boots under qemu-system-aarch64, init starts
# containerd and dockerd and dockerd becomes ready; from the host, through
# scripts/host-side's docker socket forward, Debian's docker CLI gets the
# VM's `docker version`, imports a base image made of the image's own arm64
# busybox and runs one container in it, which sees an aarch64 kernel. The
# rest of the engine's behaviour is tests/vm/engine.sh's, on x86_64: under
# TCG each of its steps is slower (docs/testing.md).
ARCH=arm64
export ARCH
. "$(dirname "$0")/../lib.sh"
VM_PROFILE=engine
. "$(dirname "$0")/../vm/lib-vm.sh"
vm_require
tree=$VM_IMAGE/root
HOST=$(mktemp -d "$BUILD/engine-arm64.XXXXXX")
trap 'vm_cleanup; rm -rf "$HOST"' EXIT
# Debian's docker CLI, the host's (scripts/deps): it speaks to the guest's
# dockerd through the forward whatever the guest's architecture
D=$BUILD/docker-cli/docker
export DOCKER_CONFIG=$HOST/docker-config
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_HOST
if [ ! -x "$D" ]; then
	not_ok "Debian's docker CLI in $D (scripts/deps puts it there)"
	exit 1
fi

# The base image: the guest image's static busybox alone (an arm64 program,
# which this host need not run: its applets are called as `busybox NAME`)
mkdir -p "$HOST/base/bin"
cp "$tree/bin/busybox" "$HOST/base/bin/busybox"
tar -C "$HOST/base" --owner=0 --group=0 --numeric-owner -cf "$HOST/base.tar" .
truncate -s 2G "$HOST/data.img"

if ! vm_start engine --disk "$HOST/data.img"; then
	not_ok "the $ARCH engine image boots to the ready line"
	exit 1
fi
ok "the $ARCH engine image boots to the ready line"
wait_for 60 agent_up || { not_ok "the agent answers"; exit 1; }
check "the guest's kernel is $ARCH's" \
	test "$(vm 'uname -m')" = aarch64

# dockerd's readiness as init sees it (porthole-services: the docker CLI in
# the guest costs seconds of emulated CPU per call)
dockerd_ready() {
	C --json call porthole-services 2>/dev/null |
		jq -e '.[] | select(.name == "dockerd" and .state == "running" and .ready == true)' >/dev/null ||
		{ sleep 1 && return 1; }
}
if wait_for 420 dockerd_ready; then
	ready_ms=$(C --json call porthole-services | jq '.[] | select(.name == "dockerd") | .ready_ms')
	ok "dockerd is ready ($ready_ms ms after the kernel started)"
else
	not_ok "dockerd is ready"
	grep -a -E 'containerd|dockerd' "$VM_DIR/console.log" | tail -n 20 | sed 's/^/# /'
	exit 1
fi
health=$(C --json health)
engine_ok() { jq -e '.engine.ready == true and .status == "ok"' <<<"$health" >/dev/null; }
check "porthole-health: engine ready, status ok" engine_ok

if "$REPO/scripts/host-side" start --dir "$VM_DIR" --profile engine --timeout 120 >"$HOST/host-side.out" 2>&1; then
	ok "scripts/host-side start: the docker socket's forward serves"
else
	not_ok "scripts/host-side start: the docker socket's forward serves"
	sed 's/^/# /' "$HOST/host-side.out"
fi
export DOCKER_HOST=unix://$VM_DIR/docker.sock
vers=$("$D" version --format '{{.Client.Version}} {{.Server.Version}} {{.Server.Arch}}' 2>&1)
check "docker version from the host through the forward: the VM's server, $ARCH ($vers)" \
	eval '[[ $vers == [0-9]*" "[0-9]*" $ARCH" ]]'
out=$("$D" import "$HOST/base.tar" thatbase 2>&1)
check "docker import of the image's busybox, from a tar on the host" grep -q '^sha256:' <<<"$out"
out=$(timeout 300 "$D" run --rm thatbase /bin/busybox sh -c 'echo "hello from $(/bin/busybox uname -m)"' 2>&1)
if [ "$out" = "hello from aarch64" ]; then
	ok "docker run --rm: one container runs, on the guest's kernel ($out)"
else
	not_ok "docker run --rm: one container runs, on the guest's kernel"
	echo "$out" | head -n 20 | sed 's/^/# /'
fi

if vm_stop >"$HOST/stop.out" 2>&1; then
	ok "power-off: the engine stops and QEMU exits by itself"
else
	not_ok "power-off: the engine stops and QEMU exits by itself"
	sed 's/^/# /' "$HOST/stop.out"
fi
VM_DIR=
