#!/bin/bash
# The Debian packages alone make a working guest (issue 20): scripts/build-deb
# builds porthole-guest, porthole-engine-config and porthole-host from
# debian/ (lintian: no error, no warning); scripts/image installs
# porthole-guest, and nothing else of porthole, into the minimal profile's
# Debian 12 tree (mmdebstrap's, from the package cache) as the image
# "package"; that image boots, and porthole-host's own CLI gets answers from
# the agent. One boot; the package build is most of the test's time.
. "$(dirname "$0")/../lib.sh"
# shellcheck disable=SC2034 # lib-vm.sh boots VM_PROFILE's image
VM_PROFILE=package
. "$(dirname "$0")/lib-vm.sh"
work=$(mktemp -d /tmp/porthole-package.XXXXXX)
trap 'vm_cleanup; rm -rf "$work"' EXIT

if [ "$ARCH" != "$HOST_ARCH" ]; then
	skip "the Debian packages boot" "built for the host's architecture only, not $ARCH"
	exit 0
fi
for c in dpkg-buildpackage dh lintian; do
	if ! command -v "$c" >/dev/null; then
		skip "the Debian packages boot" "no $c here (scripts/deps installs it)"
		exit 0
	fi
done

if ! debs=$(BUILD=$BUILD "$REPO/scripts/build-deb" 2>"$work/build-deb.err"); then
	not_ok "dpkg-buildpackage builds the packages, lintian reports no error or warning"
	sed 's/^/# /' "$work/build-deb.err" | tail -n 30
	exit 1
fi
ok "dpkg-buildpackage builds the packages, lintian reports no error or warning"
deb_of() { grep "/$1_[^/]*\.deb\$" <<<"$debs" | head -n 1; }
guest=$(deb_of porthole-guest) host=$(deb_of porthole-host) engine=$(deb_of porthole-engine-config)
check "three packages: porthole-guest, porthole-engine-config, porthole-host" \
	eval '[ -f "$guest" ] && [ -f "$host" ] && [ -f "$engine" ]'

# What the guest's package holds: the agent where its service file says,
# init's configuration marked as configuration
dpkg-deb -x "$guest" "$work/guest"
cmd=$(sed -n 's/^command *= *//p' "$work/guest/etc/porthole/services/porthole-agent.conf")
check "porthole-guest: the agent's service file names the installed agent ($cmd)" \
	test -x "$work/guest$cmd"
check "porthole-guest: /etc/porthole/init.conf is a conffile" \
	eval 'dpkg-deb --ctrl-tarfile "$guest" | tar -xOf - ./conffiles | grep -qx /etc/porthole/init.conf'
dpkg-deb -x "$engine" "$work/engine"
check "porthole-engine-config: the engine's service files, daemon.json and containerd.toml" \
	test -f "$work/engine/etc/porthole/services/dockerd.conf" -a -f "$work/engine/etc/docker/daemon.json" \
	-a -f "$work/engine/etc/porthole/containerd.toml" -a -f "$work/engine/etc/porthole/services/containerd.conf"
check "porthole-engine-config leaves /etc/containerd (the containerd package's) alone" \
	test ! -e "$work/engine/etc/containerd"

# porthole-host's CLI drives the VM: the package's, not BUILD/bin's
dpkg-deb -x "$host" "$work/host"
CLI=$work/host/usr/bin/porthole

if ! out=$(IMAGE_NAME=package PORTHOLE_DEBS=$guest BUILD=$BUILD "$REPO/scripts/image" minimal 2>&1); then
	not_ok "an image of the minimal tree with porthole-guest installed"
	sed 's/^/# /' <<<"$out" | tail -n 20
	exit 1
fi
ok "an image of the minimal tree with porthole-guest installed"
echo "# ${out##*$'\n'}"
check "the image has porthole from the package only (no BUILD/bin programs)" \
	eval '[ ! -e "$VM_IMAGE/root/usr/bin/porthole" ] && grep -q "^porthole-guest " "$VM_IMAGE/packages.txt"'

vm_require
if ! VM_AGENT=serial vm_start package; then
	not_ok "the package's image boots"
	exit 1
fi
ok "the package's image boots"
cli() { timeout 60 "$CLI" --connect "unix:$VM_DIR/agent.sock" --timeout 10 "$@"; }
agent_up() { cli ping >/dev/null 2>&1; }
if wait_for 90 agent_up; then ok "porthole ping: the packaged agent answers"; else
	not_ok "porthole ping: the packaged agent answers"
	grep -a -e agent -e porthole-init "$VM_DIR/console.log" | tail -n 20 | sed 's/^/# /'
	exit 1
fi
health=$(cli --json health)
check "porthole health: a status" grep -Eq '"status": *"(ok|starting|degraded)"' <<<"$health"
services=$(cli services)
running() { grep -Eq "^$1 +running" <<<"$services"; }
check "porthole services: porthole-agent and porthole-relay running (the package's service files)" \
	eval 'running porthole-agent && running porthole-relay'
exe=$(vm 'readlink /proc/$(pidof porthole-agent)/exe' | tail -n 1)
check "the agent runs from /usr/libexec/porthole ($exe)" test "$exe" = /usr/libexec/porthole/porthole-agent
