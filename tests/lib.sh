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
