# Shell helpers for sandbox and vm tests: TAP output and assertions.
# Sourced; each test script calls plan-free TAP ("ok N - name").

T_N=0
ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); echo "not ok $T_N - $*"; }
skip() { T_N=$((T_N + 1)); echo "ok $T_N - $1 # SKIP $2"; }
# check NAME COMMAND...: ok when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s (a bounded wait, not a timing test).
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
}
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "$1" "needs root (namespaces)"
		exit 0
	fi
}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$REPO/build}
# The programs under test: BUILD/bin, or the sanitizer builds (BUILD/bin-san)
# when tests/run's sandbox-san tier sets PORTHOLE_BIN_DIR.
BIN=${PORTHOLE_BIN_DIR:-$BUILD/bin}
# The guest's architecture for the vm tests (ARCH: x86_64 or arm64, as
# scripts/image and run-vm take it; by default the host's). A foreign one's
# image is below BUILD/ARCH (the Makefile's layout): GUEST_BUILD is where
# the guest's image and programs are. The programs that drive the VM (the
# porthole CLI, porthole-vsockd, the loadgen) are the host's, in BUILD/bin,
# whatever the guest's architecture.
case $(uname -m) in
aarch64 | arm64) HOST_ARCH=arm64 ;;
*) HOST_ARCH=$(uname -m) ;;
esac
ARCH=${ARCH:-$HOST_ARCH}
export ARCH
GUEST_BUILD=$BUILD
[ "$ARCH" = "$HOST_ARCH" ] || GUEST_BUILD=$BUILD/$ARCH

# san_options DIR: ASAN_OPTIONS and UBSAN_OPTIONS for the sanitizer builds,
# with their reports written to DIR/asan.PID and DIR/ubsan.PID. Any report
# ends the program with status 86 (not one a test expects), and leaks are
# reported when it exits.
san_options() {
	ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=86:detect_leaks=1:log_path=$1/asan"
	UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$1/ubsan"
}
# under_san: the programs under test are the sanitizer builds, whose memory
# figures are ASan's (its shadow memory, and freed memory held in quarantine
# to catch uses after free), not the program's: a bound on them is skipped.
under_san() { [ -n "${PORTHOLE_SAN_DIR-}" ]; }
# The sandbox-san tier names a directory for the test's reports; tests/run
# fails the test when one is there at its end.
if [ -n "${PORTHOLE_SAN_DIR-}" ]; then
	mkdir -p "$PORTHOLE_SAN_DIR"
	san_options "$PORTHOLE_SAN_DIR"
	export ASAN_OPTIONS UBSAN_OPTIONS
fi
