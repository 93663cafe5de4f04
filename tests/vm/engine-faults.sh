#!/bin/bash
# The engine's daemons killed with SIGKILL while containers run (issue 16's
# faults): init supervises containerd and dockerd and starts them again; what
# happens to the containers is what Docker and containerd document.
# - containerd killed: its shims (containerd-shim-runc-v2) hold the running
#   containers and outlive it (containerd.conf's kill_mode = process); init
#   starts a new containerd, which finds them again; both containers keep
#   running, the same processes, and docker answers (ps, exec).
# - dockerd killed: init starts a new dockerd, which becomes ready. Without
#   live-restore (daemon.json sets none; Docker's default is off) "when the
#   Docker daemon terminates, it shuts down running containers"
#   (docs.docker.com, engine/daemon/live-restore), and on its start a
#   container of restart policy `always` is started again while one of
#   policy `no` is not ("Don't automatically restart the container",
#   docs.docker.com, engine/containers/start-containers-automatically): the
#   first runs (a new process), the second has exited.
# Timings are printed for the record, never checked.
. "$(dirname "$0")/../lib.sh"
VM_PROFILE=engine
. "$(dirname "$0")/lib-vm.sh"
if [ ! -f "$BUILD/image/engine/initramfs.img" ]; then
	skip "engine faults" "no engine image: make image PROFILE=engine"
	exit 0
fi
D=$BUILD/docker-cli/docker
if [ ! -x "$D" ]; then
	not_ok "Debian's docker CLI in $D (scripts/deps puts it there)"
	exit 1
fi
tree=$BUILD/image/engine/root
HOST=$(mktemp -d "$BUILD/engine-faults.XXXXXX")
fwd=""
trap '[ -z "$fwd" ] || kill "$fwd" 2>/dev/null; vm_cleanup; rm -rf "$HOST"' EXIT
CLI=$BUILD/bin/porthole
export DOCKER_CONFIG=$HOST/docker-config
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
export DOCKER_HOST=unix://$HOST/docker.sock

# a base image of the image's static busybox, as tests/vm/engine.sh makes it
mkdir -p "$HOST/base/bin"
cp "$tree/bin/busybox" "$HOST/base/bin/busybox"
for a in sh sleep cat; do ln -s /bin/busybox "$HOST/base/bin/$a"; done
tar -C "$HOST/base" --owner=0 --group=0 --numeric-owner -cf "$HOST/base.tar" .
truncate -s 2G "$HOST/data.img"

t0=$SECONDS
if ! vm_start engine-faults --disk "$HOST/data.img"; then
	not_ok "the engine image boots to the ready line"
	exit 1
fi
wait_for 60 agent_up || {
	not_ok "the agent answers"
	exit 1
}
# svc NAME FIELD: one field of one service, from porthole-services
svc() {
	C --json call porthole-services 2>/dev/null | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["name"] == sys.argv[1]:
        print(json.dumps(s.get(sys.argv[2])))' "$1" "$2" 2>/dev/null
}
gpid() { vm "pidof $1" | grep -E '^[0-9]+$'; }
# the docker socket's forward, as scripts/host-side runs it for make run
"$CLI" --connect "$(cat "$VM_DIR/vsock.address"):1025" forward docker --socket "$HOST/docker.sock" \
	>"$HOST/forward.log" 2>&1 &
fwd=$!
docker_up() { "$D" version --format '{{.Server.Version}}' 2>/dev/null | grep -q '^[0-9]'; }
ready() { [ "$(svc "$1" ready)" = true ] || { sleep 0.5 && return 1; }; }
if wait_for 240 ready dockerd && wait_for 60 docker_up; then
	ok "dockerd ready, answering the host's docker CLI ($((SECONDS - t0)) s after the boot began)"
else
	not_ok "dockerd ready, answering the host's docker CLI"
	tail -n 5 "$HOST/forward.log" | sed 's/^/# /'
	exit 1
fi
check "daemon.json: live-restore off (Docker's default), the case this test asserts" \
	test "$("$D" info --format '{{.LiveRestoreEnabled}}')" = false

"$D" import "$HOST/base.tar" faultbase >/dev/null
"$D" run -d --name always --restart=always faultbase sleep 100000 >/dev/null
"$D" run -d --name plain faultbase sleep 100000 >/dev/null
# state NAME: "Status Running Pid RestartCount" of a container
state() { "$D" inspect -f '{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.RestartCount}}' "$1" 2>&1; }
read -r s_always _ p_always _ <<<"$(state always)"
read -r s_plain _ p_plain _ <<<"$(state plain)"
check "two containers running: always (--restart=always, pid $p_always), plain (no policy, pid $p_plain)" \
	test "$s_always $s_plain" = "running running"

## containerd killed ##########################################################

c_old=$(gpid containerd)
d_old=$(gpid dockerd)
shims=$(vm 'pidof containerd-shim-runc-v2')
t=$SECONDS
vm "kill -9 $c_old" >/dev/null
new_containerd() { p=$(gpid containerd) && [ "$p" != "$c_old" ]; }
check "containerd (pid $c_old) killed with SIGKILL: init starts a new one" wait_for 60 new_containerd
check "...and it becomes ready (its socket answers)" wait_for 120 ready containerd
echo "# containerd running again and ready $((SECONDS - t)) s after the kill"
check "porthole-services: containerd restarted once" test "$(svc containerd restarts)" = 1
check "the shims kept running ($shims)" test "$(vm 'pidof containerd-shim-runc-v2')" = "$shims"
check "both containers' processes kept running (pids $p_always, $p_plain)" \
	eval 'vm "kill -0 $p_always && kill -0 $p_plain && echo alive" | grep -qx alive'
# docs/services.md: "When a service it depends on restarts later, it is
# left running"; dockerd's client dials containerd's socket again
d_now=$(gpid dockerd)
check "dockerd, which requires containerd, is left running (pid $d_old, now ${d_now:-none}; restarts $(svc dockerd restarts))" \
	test "$d_now $(svc dockerd restarts)" = "$d_old 0"
check "docker ps answers again: both containers up" wait_for 120 eval \
	'[ "$("$D" ps --filter status=running --format "{{.Names}}" 2>/dev/null | sort | tr "\n" " ")" = "always plain " ]'
check "docker inspect: both running, the same processes" \
	eval '[ "$(state always | cut -d" " -f1-3) $(state plain | cut -d" " -f1-3)" = "running true $p_always running true $p_plain" ]'
# (docker ps answers from dockerd's own state; exec needs dockerd's client
# to have dialled the new containerd, which it retries with a backoff)
check "docker exec in a container: the new containerd reached its shim" \
	wait_for 60 eval '"$D" exec plain cat /proc/1/cmdline | tr "\0" " " | grep -q "^sleep 100000"'

## dockerd killed #############################################################

d_old=$(gpid dockerd)
t=$SECONDS
vm "kill -9 $d_old" >/dev/null
new_dockerd() { p=$(gpid dockerd) && [ "$p" != "$d_old" ]; }
check "dockerd (pid $d_old) killed with SIGKILL: init starts a new one" wait_for 60 new_dockerd
check "...and it becomes ready (porthole-services)" wait_for 240 ready dockerd
check "...and answers the host's docker CLI through the same forward" wait_for 60 docker_up
echo "# dockerd running again and ready $((SECONDS - t)) s after the kill"
restarts=$(svc dockerd restarts)
check "porthole-services: dockerd restarted once ($restarts)" test "$restarts" = 1
# init's own lines about it (started, ready, not ready, exited) say why not
[ "$restarts" = 1 ] || C logs dockerd -n 400 | grep 'porthole-init:' | sed 's/^/# /'
health_ok() { C --json health | grep -q '"status":"ok"'; }
check "porthole-health: ok again" wait_for 60 health_ok
# the restart policy acts once the daemon has restored its containers
always_up() { read -r s r p _ <<<"$(state always)" && [ "$s $r" = "running true" ] && [ "$p" != "$p_always" ]; }
check "the --restart=always container runs again, a new process (docker inspect: $(state always))" \
	wait_for 120 always_up
out=$(state plain)
echo "# plain after dockerd's restart: exit code $("$D" inspect -f '{{.State.ExitCode}}' plain), finished $("$D" inspect -f '{{.State.FinishedAt}}' plain)"
check "the container without a restart policy has exited, not restarted (docker inspect: $out)" \
	eval '[[ $out == "exited false 0 0" ]]'
check "...and its process is gone" eval '! vm "kill -0 $p_plain 2>/dev/null && echo alive" | grep -qx alive'
check "docker start brings it back: the engine works on" \
	eval '"$D" start plain >/dev/null && [ "$(state plain | cut -d" " -f1)" = running ]'
"$D" rm -f always plain >/dev/null 2>&1
vm_stop >/dev/null
echo "# wall time $((SECONDS - t0)) s"
