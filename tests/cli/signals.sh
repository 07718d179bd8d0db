#!/usr/bin/env bash
# SIGINT and SIGTERM end every long-running rpk command promptly, whatever it
# is waiting for, and it removes what it created. Every command here would
# otherwise wait 30 s (its --timeout) or forever; each must be gone within
# STOP_BOUND_MS of the signal (a bound far below those waits, not a timing
# measurement: the latency is printed, not asserted).
set -uo pipefail
rpk=$1
dts=$2/integration/link16.dts
inst=signals-$$
. "$(dirname "$0")/lib.sh"
STOP_BOUND_MS=3000

# until_true TRIES CMD...: poll CMD every 50 ms, at most TRIES times.
until_true() {
	local tries=$1
	shift
	for _ in $(seq "$tries"); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

shm_left() {
	ls /dev/shm 2>/dev/null | grep "^rpk-$inst-" | tr '\n' ' '
}

# stop_and_check WHAT PID SIG WANT_CODE: signal PID, expect it gone within
# the bound with exit code WANT_CODE.
stop_and_check() {
	local what=$1 pid=$2 sig=$3 want=$4 t0 t1 code
	t0=$(date +%s%N)
	kill -"$sig" "$pid"
	for _ in $(seq $((STOP_BOUND_MS / 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$what: still running ${STOP_BOUND_MS} ms after SIG$sig"
		kill -9 "$pid"
	fi
	wait "$pid"
	code=$?
	t1=$(date +%s%N)
	echo "$what: SIG$sig -> exit $code after $(((t1 - t0) / 1000000)) ms"
	[ "$code" -eq "$want" ] || fail "$what: exit $code after SIG$sig, want $want"
}

run_bg() { # LOG ARGS...: rpk in the background; its pid in $bg
	local log=$1
	shift
	"$rpk" "$@" >"$out/$log" 2>&1 &
	bg=$!
	pids+=("$bg")
}

published() { "$rpk" status "$dts" --node master --instance "$inst" 2>/dev/null | grep -q '^detached'; }
attached() { "$rpk" status "$dts" --node master --instance "$inst" 2>/dev/null | grep -q '^attached'; }
has_shm() { [ -e "/dev/shm/rpk-$inst-stats-$1" ]; }

for sig in INT TERM; do
	# A remote waiting for its first master: it removes its memory.
	run_bg remote.log run "$dts" --node remote --instance "$inst" --timeout 30000
	until_true 100 published || fail "the remote never published its table"
	stop_and_check "remote waiting for a master" "$bg" "$sig" 130
	[ -z "$(shm_left)" ] || fail "remote waiting: left $(shm_left)"

	# A master waiting for a remote's table.
	run_bg master.log run "$dts" --node master --instance "$inst" --timeout 30000
	until_true 100 has_shm master || fail "the master never started"
	stop_and_check "master waiting for a table" "$bg" "$sig" 130
	rm -f /dev/shm/rpk-"$inst"-*

	# A linked pair: a master in the middle of a long --count, then the
	# remote serving nobody.
	run_bg remote.log run "$dts" --node remote --instance "$inst"
	remote=$bg
	until_true 100 published || fail "the remote never published its table"
	run_bg master.log run "$dts" --node master --instance "$inst" --count 100000000
	until_true 100 attached || fail "the master never attached"
	stop_and_check "master sending" "$bg" "$sig" 130
	run_bg master.log run "$dts" --node master --instance "$inst"
	until_true 100 attached || fail "the master never attached again"
	stop_and_check "master serving" "$bg" "$sig" 0
	stop_and_check "remote serving" "$remote" "$sig" 0
	[ -z "$(shm_left)" ] || fail "linked pair: left $(shm_left)"

	# rpk ping in the middle of a long run, rpk demo likewise.
	run_bg ping.log ping --count 10000000 --dt "$dts"
	until_true 100 bash -c "ls /dev/shm | grep -q '^rpk-ping-$bg-'" || fail "ping never started"
	sleep 0.2
	stop_and_check "ping" "$bg" "$sig" 130
	ls /dev/shm | grep -q "^rpk-ping-$bg-" && fail "ping left shared memory"

	# rpk trace --follow of a live remote.
	run_bg remote.log run "$dts" --node remote --instance "$inst"
	remote=$bg
	until_true 100 published || fail "the remote never published its table"
	run_bg trace.log trace "$dts" --node remote --instance "$inst" --follow
	until_true 100 grep -q 'resource table published' "$out/trace.log" || fail "trace printed nothing"
	stop_and_check "trace --follow" "$bg" "$sig" 0
	stop_and_check "remote traced, waiting for a master" "$remote" "$sig" 130

	# rpk vhost-user waiting for a guest.
	run_bg vhu.log vhost-user --socket "$out/vhu.sock"
	until_true 100 test -S "$out/vhu.sock" || fail "vhost-user never listened"
	stop_and_check "vhost-user waiting" "$bg" "$sig" 0
	[ -e "$out/vhu.sock" ] && fail "vhost-user left its socket"
done

finish signals
