#!/bin/bash
# Time: a guest booted with its RTC years off is brought within milliseconds
# of the host by one `porthole time sync`; a small offset is slewed (the
# kernel works it off), a large one stepped; absurd offsets are refused and
# change nothing; a jump made by someone else in the guest shows as an event;
# the RTC is the machine's (x86's CMOS RTC, arm64's PL031) and guest-set-time
# writes it and reads it back; a halt asked over a port is reported as taken.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-vm.sh"
vm_require
trap vm_cleanup EXIT

if ! vm_start time --rtc-base 2020-01-01T00:00:00; then
	not_ok "boots with its RTC at 2020"
	exit 1
fi
C="$BUILD/bin/porthole --connect $(vm_agent) --timeout 30"
agent_up() { $C ping >/dev/null 2>&1; }
wait_for 60 agent_up || { not_ok "the agent answers"; exit 1; }

# offset_ns: the guest's offset from the host now, measured NTP's way
offset_ns() { $C --json time | sed -n 's/.*"offset_ns": *\(-\?[0-9]*\).*/\1/p'; }
abs() { local v=$1; echo "${v#-}"; }

off=$(offset_ns)
echo "# booted: the guest is $((off / 1000000000)) s off"
check "the guest starts years behind (RTC at 2020)" test "$off" -lt -100000000000000000

sync=$($C --json time sync)
echo "# $sync"
after=$(sed -n 's/.*"after_ns": *\(-\?[0-9]*\).*/\1/p' <<<"$sync")
bound=$(sed -n 's/.*"after_bound_ns": *\(-\?[0-9]*\).*/\1/p' <<<"$sync")
applied=$(sed -n 's/.*"applied": *"\([a-z]*\)".*/\1/p' <<<"$sync")
check "time sync: years of offset are stepped" test "$applied" = step
if [ -n "$after" ] && [ "$(abs "$after")" -lt 5000000 ]; then
	ok "time sync: the guest is within 5 ms of the host ($after ns, +/- $bound ns)"
else
	not_ok "time sync: the guest is within 5 ms of the host (got ${after:-nothing} ns)"
fi

# A small offset is slewed: adjtimex shows it being worked off.
$C call porthole-time-adjust '{"offset_ns": 40000000, "mode": "slew"}' >/dev/null
remaining() { $C --json call porthole-time | sed -n 's/.*"slew_remaining_ns": *\(-\?[0-9]*\).*/\1/p'; }
r1=$(remaining)
sleep 2
r2=$(remaining)
echo "# slew remaining: $r1 ns, then $r2 ns"
check "slew: the offset is being worked off (adjtimex)" eval '[ "$r1" -gt 0 ] && [ "$r2" -lt "$r1" ]'
# auto: 40 ms is below the 100 ms threshold: a slew; 2 s above it: a step
auto=$($C --json call porthole-time-adjust '{"offset_ns": -30000000}')
check "auto: 30 ms is slewed" grep -q '"applied":"slew"' <<<"$auto"
before=$(offset_ns)
auto=$($C --json call porthole-time-adjust '{"offset_ns": 2000000000}')
check "auto: 2 s is stepped" grep -q '"applied":"step"' <<<"$auto"
now=$(offset_ns)
delta=$((now - before))
check "step: the clock moved by 2 s ($delta ns)" test "$(abs $((delta - 2000000000)))" -lt 5000000

# Absurd offsets: refused, nothing changes.
before=$(offset_ns)
out=$($C call porthole-time-adjust '{"offset_ns": 3200000000000000000}' 2>&1)
check "an offset of more than a century is refused" grep -q "more than a century" <<<"$out"
out=$($C call porthole-time-adjust '{"offset_ns": -1600000000000000000}' 2>&1)
check "a result before the image was built is refused" grep -q "before this image was built" <<<"$out"
out=$($C call porthole-time-adjust '{"offset_ns": 600000000, "mode": "slew"}' 2>&1)
check "a slew of more than 0.5 s is refused" grep -q "too much to slew" <<<"$out"
now=$(offset_ns)
check "after the refusals the clock is where it was" test "$(abs $((now - before)))" -lt 5000000

# Someone else sets the clock in the guest: an event the host can read.
since=$($C --json call porthole-events | sed -n 's/.*"next": *\([0-9]*\).*/\1/p')
vm 'date -s "2031-01-01 00:00:00" >/dev/null' >/dev/null
ev=$($C --json call porthole-events "{\"since\": $since, \"timeout_ms\": 5000}")
check "a clock set by someone else is an event (clock-set, external)" \
	eval 'grep -q "\"type\":\"clock-set\"" <<<"$ev" && grep -q external <<<"$ev"'

# time watch brings it back and keeps it
out=$($C time watch --interval 1 --count 2)
echo "$out" | sed 's/^/# /'
final=$(offset_ns)
check "time watch: syncs, and the guest is back within 5 ms ($final ns)" test "$(abs "$final")" -lt 5000000

# The hardware clock is the machine's own RTC, which init read at boot (the
# years of offset above) and the agent writes and reads as rtc(4): x86's CMOS
# RTC (rtc_cmos), arm64 virt's PL031 (rtc-pl031).
case $ARCH in
arm64) rtc_driver=pl031 ;;
*) rtc_driver=rtc_cmos ;;
esac
rtc_name=$(vm 'cat /sys/class/rtc/rtc0/name')
check "the guest's RTC is $ARCH's $rtc_driver (rtc0: $rtc_name)" grep -q "$rtc_driver" <<<"$rtc_name"
# a day ahead, so that what the RTC holds can only be this write's
ahead=$(($(date +%s) + 86400))
$C call guest-set-time "{\"time\": ${ahead}000000000}" >/dev/null
rtc=$(vm 'cat /sys/class/rtc/rtc0/since_epoch')
check "guest-set-time writes $rtc_driver: it holds the time asked for ($rtc, asked $ahead)" \
	eval '[ -n "$rtc" ] && [ "$(abs $((rtc - ahead)))" -le 5 ]'
# the system clock put back to the host's time in the guest, then set from
# the RTC (hwclock -s's way): a day ahead again
vm "date -s @$(date +%s) >/dev/null" >/dev/null
$C call guest-set-time >/dev/null
back=$(offset_ns)
check "guest-set-time without a time reads $rtc_driver back into the system clock (${back:-nothing} ns)" \
	eval '[ -n "$back" ] && [ "$(abs $((back - 86400000000000)))" -lt 3000000000 ]'
$C time sync >/dev/null

if grep -q 'on kvm' "$VM_DIR/run-vm.out"; then
	ptp=$($C --json call porthole-time)
	check "ptp_kvm: the agent keeps the clock on the host's" grep -q '"ptp"' <<<"$ptp"
else
	skip "ptp_kvm keeps the clock without the host" "KVM only: this VM runs under TCG, which has no ptp_kvm"
fi

# A halt over a port: QEMU keeps a halted guest, and the port's socket open,
# so only the guest-sync behind guest-shutdown can tell the CLI it was taken
out=$($C shutdown --halt 2>&1)
rc=$?
check "shutdown --halt on a port: the CLI reports success ($out)" \
	eval '[ $rc = 0 ] && grep -q "halt requested" <<<"$out"'
if wait_for 120 eval 'grep -aq "shutdown: halt after" "$VM_DIR/console.log"'; then
	ok "shutdown --halt: init halted in order"
else
	not_ok "shutdown --halt: init halted in order"
fi
# a halted guest does not answer the power button: power it off hard
"$REPO/scripts/stop-vm" --dir "$VM_DIR" --timeout 2 >/dev/null 2>&1
VM_DIR=
