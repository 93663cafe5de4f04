#!/bin/bash
# Memory given back to the host, seen from the host: QEMU's RSS
# (/proc/PID/status) while a guest process (tests/helpers/memtouch) holds
# 600 MiB, and after it exits. With run-vm's balloon (free page reporting,
# the default) the RSS falls back within 10 s of the exit; with --balloon off
# it stays up: both measured, so that the test can tell the difference. Then
# porthole memory (human and --json) and the balloon's target through QMP:
# porthole memory target --balloon 768M brings query-balloon's actual down,
# --balloon max brings it back. The RSS curve is printed as TAP comments.
# check's eval strings expand when they run (SC2016); sed marks whole
# outputs as TAP comments (SC2001).
# shellcheck disable=SC2016,SC2001
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require
CLI=$BIN/porthole
# the guest's program, built for its architecture (GUEST_BUILD)
toucher=$GUEST_BUILD/tests/helpers/memtouch
if [ ! -x "$toucher" ]; then
	not_ok "memory-host: $toucher is not built (make $toucher)"
	exit 1
fi
MIB=600
HOLD=5
overlay=$(mktemp -d "$BUILD/memory-host-overlay.XXXXXX")
sampler=""
trap '[ -z "$sampler" ] || kill "$sampler" 2>/dev/null; vm_cleanup; rm -rf "$overlay"' EXIT
mkdir -p "$overlay/usr/local/bin"
cp "$toucher" "$overlay/usr/local/bin/"

# rss_mib: QEMU's VmRSS in MiB (empty when QEMU is gone)
rss_mib() { awk '/^VmRSS:/ { printf "%d\n", $2 / 1024 }' "/proc/$(cat "$VM_DIR/qemu.pid")/status" 2>/dev/null; }
# qmp COMMAND [ARGS-JSON]: the command's "return" as JSON, through DIR/qmp.sock
qmp() {
	python3 - "$VM_DIR/qmp.sock" "$1" "${2:-{\}}" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
def call(cmd, args):
    f.write(json.dumps({"execute": cmd, "arguments": args}) + "\n")
    f.flush()
    while True:
        m = json.loads(f.readline())
        if "event" in m:
            continue
        if "error" in m:
            sys.exit("QMP %s: %s" % (cmd, m["error"]))
        return m["return"]
json.loads(f.readline())  # the greeting
call("qmp_capabilities", {})
print(json.dumps(call(sys.argv[2], json.loads(sys.argv[3]))))
EOF
}
balloon_mib() { qmp query-balloon | python3 -c 'import json,sys; print(json.load(sys.stdin)["actual"] >> 20)'; }

# workload LABEL: idle RSS, then memtouch MIB HOLD in the guest with the RSS
# sampled twice a second, then the RSS each second for 10 s after its exit.
# Sets idle, peak and after (MiB), and prints the curve.
workload() {
	local samples=$overlay/samples.$1 curve="" r
	# the boot's own churn settles first: the idle figure is the lowest of
	# five seconds' samples
	idle=$(for _ in 1 2 3 4 5; do rss_mib; sleep 1; done | sort -n | head -n 1)
	(while :; do rss_mib; sleep 0.5; done >"$samples") &
	sampler=$!
	out=$(vm "/usr/local/bin/memtouch $MIB $HOLD")
	kill "$sampler" 2>/dev/null
	wait "$sampler" 2>/dev/null
	sampler=""
	peak=$(sort -n "$samples" | tail -n 1)
	for _ in $(seq 10); do
		sleep 1
		r=$(rss_mib)
		curve="$curve $r"
	done
	after=$r
	echo "# $1: QEMU's RSS idle $idle MiB, peak $peak MiB with $MIB MiB held; after the exit, each second:$curve MiB"
	grep -q "touched $MIB MiB" <<<"$out"
}

## With the balloon (run-vm's default) ########################################

if ! vm_start memory-host --overlay "$overlay"; then
	not_ok "boot with the balloon"
	exit 1
fi
drivers=$(vm 'ls /sys/bus/virtio/drivers')
check "the guest drives the balloon (virtio_balloon loaded)" grep -qw virtio_balloon <<<"$drivers"
check "free page reporting is on (QEMU's device, the guest's driver)" \
	grep -q 'free-page-reporting=on' "$VM_DIR/qemu.cmdline"
if workload balloon; then ok "balloon: memtouch held $MIB MiB in the guest"; else
	not_ok "balloon: memtouch held $MIB MiB in the guest"; echo "$out" | sed 's/^/# /'; fi
# the host saw the workload: at least two thirds of it on top of the idle RSS
rise=$((peak - idle))
check "balloon: QEMU's RSS rose with the workload ($rise MiB over idle)" [ "$rise" -ge $((MIB * 2 / 3)) ]
# given back: within 10 s of the exit, no more than a quarter of the rise left
check "balloon: QEMU's RSS fell back within 10 s of the exit ($((after - idle)) MiB over idle of $rise)" \
	[ $((after - idle)) -le $((rise / 4)) ]
balloon_idle=$idle balloon_peak=$peak balloon_after=$after

# porthole memory: the guest's side from the agent, the host's from /proc and QMP
c="$CLI --connect $(vm_agent) --timeout 30"
if ! $c --json info | grep -q '"porthole-memory"'; then
	skip "porthole memory shows the guest's and the host's side" "the agent has no porthole-memory"
else
	human=$($c memory 2>&1)
	echo "$human" | sed 's/^/# /'
	check "porthole memory: the guest's totals and the balloon" \
		eval 'grep -q "^guest: *total " <<<"$human" && grep -q "free page reporting on" <<<"$human"'
	check "porthole memory: QEMU's RSS on the host, and the balloon's actual through QMP" \
		eval 'grep -q "^host: *QEMU (pid $(cat "$VM_DIR/qemu.pid")) holds " <<<"$human" && grep -q "actual 1.0 GiB (QMP query-balloon)" <<<"$human"'
	json=$($c memory --json)
	check "porthole memory --json: the agent's figures and the host's" python3 -c '
import json, sys
m = json.loads(sys.argv[1])
h = m["host"]
assert 0 < m["available_bytes"] <= m["total_bytes"] <= 1 << 30, m
assert m["balloon"]["present"] and m["balloon"]["free_page_reporting"], m["balloon"]
assert h["qemu_pid"] == int(sys.argv[2]) and h["rss_bytes"] > 0, h
assert h["balloon_actual_bytes"] == 1 << 30, h
' "$json" "$(cat "$VM_DIR/qemu.pid")"
fi

# the balloon's target, through QMP: the guest's driver inflates it
out=$($CLI --connect "$(vm_agent)" memory target --balloon 768M 2>&1)
echo "# $out"
check "memory target --balloon 768M: set" grep -q "^balloon: target 768.0 MiB" <<<"$out"
at_target() { [ "$(balloon_mib)" -le 768 ]; }
if wait_for 60 at_target; then ok "query-balloon's actual came down to 768 MiB ($(balloon_mib) MiB)"; else
	not_ok "query-balloon's actual came down to 768 MiB (still $(balloon_mib) MiB)"; fi
if [ "$($c --json info | grep -c '"porthole-memory"')" -gt 0 ]; then
	inflated=$($c memory --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["balloon"]["inflated_bytes"] >> 20)')
	check "the guest's agent sees the balloon inflated by 256 MiB ($inflated MiB)" [ "$inflated" = 256 ]
fi
out=$($CLI --connect "$(vm_agent)" memory target --balloon max 2>&1)
echo "# $out"
check "memory target --balloon max: set to all of the guest's memory" grep -q "^balloon: target 1.0 GiB" <<<"$out"
at_max() { [ "$(balloon_mib)" -eq 1024 ]; }
if wait_for 60 at_max; then ok "query-balloon's actual back to 1024 MiB"; else
	not_ok "query-balloon's actual back to 1024 MiB (still $(balloon_mib) MiB)"; fi
vm_cleanup

## Without the balloon ########################################################

if ! vm_start memory-host --overlay "$overlay" --balloon off; then
	not_ok "boot with --balloon off"
	exit 1
fi
check "--balloon off: no balloon device" eval '! grep -q virtio-balloon "$VM_DIR/qemu.cmdline"'
if workload no-balloon; then ok "no balloon: memtouch held $MIB MiB in the guest"; else
	not_ok "no balloon: memtouch held $MIB MiB in the guest"; echo "$out" | sed 's/^/# /'; fi
rise=$((peak - idle))
check "no balloon: QEMU's RSS rose with the workload ($rise MiB over idle)" [ "$rise" -ge $((MIB * 2 / 3)) ]
# the guest freed the pages but the host keeps them: three quarters of the
# rise or more still there
check "no balloon: QEMU's RSS stays up after the exit ($((after - idle)) MiB over idle of $rise)" \
	[ $((after - idle)) -ge $((rise * 3 / 4)) ]
echo "# given back 10 s after the exit: balloon $((balloon_peak - balloon_after)) MiB of $((balloon_peak - balloon_idle)), none $((peak - after)) MiB of $rise"
