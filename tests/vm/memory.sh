#!/bin/bash
# The guest gives memory back (issue 17), in the real VM: a 500 MiB page
# cache (a file read on the data disk) is given back by
# porthole-memory-reclaim, and by the agent's own idle reclaim without any
# request; memory.reclaim on a service's cgroup lowers its memory.current;
# porthole-memory reports the balloon, the cgroups and the history; the
# engine's memory.high is set and cleared. Two boots: the first with the
# idle reclaim off (agent.memory_reclaim=0), so that what the requests free
# is theirs alone, the second with the defaults. The host's side (QEMU's
# RSS with and without free page reporting) is tests/vm/memory-host.sh.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require

work=$(mktemp -d "$BUILD/memory.XXXXXX")
trap 'vm_cleanup; rm -rf "$work"' EXIT
disk=$work/data.img
truncate -s 1G "$disk"
MiB=1048576
# svc-cache reads a file into its cgroup's page cache when told
mkdir -p "$work/overlay/etc/porthole/services" "$work/overlay/usr/local/bin"
install -m 755 "$REPO/tests/helpers/svc-cache/svc-cache" "$work/overlay/usr/local/bin/svc-cache"
install -m 644 "$REPO/tests/helpers/svc-cache/svc-cache.conf" "$work/overlay/etc/porthole/services/"

# the memory_engine is svc-cache: a cgroup porthole-memory-target can set
if ! vm_start memory --disk "$disk" --overlay "$work/overlay" \
	--append "porthole.agent.memory_reclaim=0 porthole.agent.memory_engine=svc-cache"; then
	not_ok "boots with a data disk, svc-cache, the idle reclaim off"
	exit 1
fi
ok "boots with a data disk, svc-cache, the idle reclaim off"
CLI="$BUILD/bin/porthole --connect $(vm_agent) --timeout 120"

# mem EXPR: a Python expression over m, porthole-memory's answer, printed
mem() { $CLI --json call porthole-memory >"$work/m.json" && python3 -c "import json; m = json.load(open('$work/m.json')); print($1)"; }
# res EXPR: the same over r, the last porthole-memory-reclaim's answer
res() { python3 -c "import json; r = json.load(open('$work/r.json')); print($1)"; }
reclaim() { $CLI --json call porthole-memory-reclaim "${1:-{\}}" >"$work/r.json" 2>"$work/r.err"; }
cg() { echo "[c for c in m['cgroups'] if c['name'] == '$1'][0]['$2']"; }

check "porthole-memory: totals, the idle reclaim off as configured" \
	test "$(mem "m['total_bytes'] > 512 * $MiB and m['available_bytes'] > 0 and m['reclaim']['auto'] is False")" = True
if [ "$(mem "m['balloon']['present']")" = True ]; then
	check "porthole-memory: the balloon, with free page reporting" \
		test "$(mem "m['balloon']['free_page_reporting']")" = True
else
	not_ok "porthole-memory: the balloon (run-vm's virtio-balloon-pci, init's virtio_balloon)"
fi
check "porthole-memory: svc-cache's cgroup, no limit" \
	test "$(mem "$(cg svc-cache high_bytes) is None and $(cg svc-cache current_bytes) > 0")" = True

# 500 MiB on the data disk, then read into the page cache by the console's
# shell (the root cgroup's, no service's)
vm 'dd if=/dev/zero of=/var/lib/big bs=1M count=500 2>/dev/null; sync; echo 3 >/proc/sys/vm/drop_caches; cat /var/lib/big >/dev/null; echo read' >"$work/dd.out"
cache=$(mem "m['page_cache_bytes'] // $MiB")
echo "# page cache after reading 500 MiB: $cache MiB"
check "reading 500 MiB fills the page cache ($cache MiB)" test "$cache" -ge 450

# --- on request, gently: the root's page cache goes
if reclaim; then
	echo "# reclaim: $(res "'page cache %d -> %d MiB, freed %d MiB, %d ms' % (r['page_cache_before_bytes'] // $MiB, r['page_cache_after_bytes'] // $MiB, r['freed_bytes'] // $MiB, r['duration_ms'])")"
	check "porthole-memory-reclaim gives back the page cache" \
		test "$(res "r['full'] is False and r['page_cache_before_bytes'] - r['page_cache_after_bytes'] >= 400 * $MiB and r['freed_bytes'] >= 400 * $MiB")" = True
else
	not_ok "porthole-memory-reclaim gives back the page cache: $(cat "$work/r.err")"
fi
check "porthole-memory: the page cache is low afterwards ($(mem "m['page_cache_bytes'] // $MiB") MiB)" \
	test "$(mem "m['page_cache_bytes'] < 100 * $MiB")" = True
check "porthole-memory: the history holds the request" \
	test "$(mem "[(h['reason'], h['full']) for h in m['reclaim']['history']] == [('request', False)] and m['reclaim']['count'] == 1")" = True

# --- memory.reclaim on a service's cgroup: svc-cache reads the file
vm 'rm -f /run/svc-cache.done; echo /var/lib/big >/run/svc-cache.fifo'
svc_read() { [ "$(vm 'test -e /run/svc-cache.done && echo yes')" = yes ]; }
if ! wait_for 120 svc_read; then
	not_ok "svc-cache read the file"
else
	before=$(mem "$(cg svc-cache current_bytes) // $MiB")
	echo "# svc-cache's memory.current after its read: $before MiB"
	check "svc-cache's cgroup holds the file's pages ($before MiB)" test "$before" -ge 450
	if reclaim; then
		echo "# svc-cache: $(res "[(c['before_bytes'] // $MiB, c['after_bytes'] // $MiB) for c in r['cgroups'] if c['name'] == 'svc-cache']") MiB"
		check "memory.reclaim lowers svc-cache's memory.current" \
			test "$(res "[c['after_bytes'] < 64 * $MiB and c['before_bytes'] >= 450 * $MiB for c in r['cgroups'] if c['name'] == 'svc-cache'] == [True]")" = True
	else
		not_ok "memory.reclaim lowers svc-cache's memory.current: $(cat "$work/r.err")"
	fi
	check "porthole-memory: svc-cache's cgroup is small again" \
		test "$(mem "$(cg svc-cache current_bytes) < 64 * $MiB")" = True
fi

# --- full: drop_caches and compact_memory, allowed to the agent
if reclaim '{"full": true}'; then
	check "porthole-memory-reclaim full" test "$(res "r['full'] is True and r['duration_ms'] >= 0")" = True
else
	not_ok "porthole-memory-reclaim full: $(cat "$work/r.err")"
fi

# --- the engine's soft limit: memory.high on memory_engine's cgroup
if $CLI --json call porthole-memory-target '{"engine_high_bytes": 134217728}' >"$work/t.json" 2>"$work/t.err"; then
	check "porthole-memory-target sets memory.high (read back)" \
		test "$(mem "$(cg svc-cache high_bytes) == 134217728")" = True
else
	not_ok "porthole-memory-target sets memory.high: $(cat "$work/t.err")"
fi
$CLI call porthole-memory-target '{"engine_high_bytes": 1048576}' >/dev/null 2>"$work/t.err"
check "porthole-memory-target refuses 1 MiB, and changes nothing" \
	eval 'grep -q "too low" "$work/t.err" && test "$(mem "$(cg svc-cache high_bytes) == 134217728")" = True'
$CLI call porthole-memory-target '{"engine_high_bytes": 0}' >/dev/null
check "porthole-memory-target 0 takes the limit away" \
	test "$(mem "$(cg svc-cache high_bytes) is None")" = True
vm_stop >/dev/null

# --- boot 2, the defaults: the idle reclaim gives the cache back unasked
if ! vm_start memory --disk "$disk" --overlay "$work/overlay"; then
	not_ok "boots again with the defaults"
	exit 1
fi
ok "boots again with the defaults"
CLI="$BUILD/bin/porthole --connect $(vm_agent) --timeout 120"
check "porthole-memory: the idle reclaim is on" test "$(mem "m['reclaim']['auto']")" = True
# the idle period after boot (nothing but polls since): its full reclaim
idle_count() { mem "len([h for h in m['reclaim']['history'] if h['reason'] == 'idle' and h['full']])"; }
first_idle() { [ "$(idle_count)" -ge 1 ]; }
if wait_for 120 first_idle; then
	ok "idle after boot: a full reclaim, unasked (porthole-memory's polls are no activity)"
else
	not_ok "idle after boot: a full reclaim, unasked: $(mem "m['reclaim']")"
fi
n0=$(idle_count)
vm 'cat /var/lib/big >/dev/null; echo read' >/dev/null
t0=$SECONDS
grown=$(mem "m['page_cache_bytes'] // $MiB")
echo "# page cache after reading 500 MiB again: $grown MiB"
given_back() { [ "$(mem "m['page_cache_bytes'] < 100 * $MiB and len([h for h in m['reclaim']['history'] if h['reason'] == 'idle' and h['full']]) > $n0")" = True ]; }
if wait_for 120 given_back; then
	echo "# given back $((SECONDS - t0)) s after the read: $(mem "m['reclaim']['history'][-1]")"
	ok "the idle reclaim gives back a page cache that grew while idle, unasked"
else
	not_ok "the idle reclaim gives back a page cache that grew while idle: $(mem "(m['page_cache_bytes'] // $MiB, m['reclaim'])")"
fi
check "no reclaim was asked for in this boot" \
	test "$(mem "[h for h in m['reclaim']['history'] if h['reason'] == 'request']")" = "[]"
# a request that is not a poll ends the idle period
$CLI call guest-get-osinfo >/dev/null
sleep 11
check "a request ends the idle period" test "$(mem "m['reclaim']['idle']")" = False
vm_stop >/dev/null
