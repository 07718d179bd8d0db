# Shared by the CLI tests (sourced): a scratch folder in $out, background
# processes in $pids killed and the instance's shared memory removed on exit,
# failures counted. Set rpk (and inst, dts if used) before sourcing; a script
# may define extra_cleanup.
out=$(mktemp -d)
pids=()
failures=0
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	if [ "$(type -t extra_cleanup)" = function ]; then extra_cleanup; fi
	wait 2>/dev/null
	[ -n "${inst:-}" ] && rm -f /dev/shm/rpk-"$inst"-*
	rm -rf "$out"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# expect CODE PATTERN -- command...: the exit code is CODE and the output matches PATTERN.
expect() {
	local code=$1 pattern=$2
	shift 3
	"$@" >"$out/log" 2>&1
	local got=$?
	if [ "$got" -ne "$code" ] || ! grep -qE -- "$pattern" "$out/log"; then
		fail "$* -> exit $got (want $code, /$pattern/):"
		sed 's/^/    /' "$out/log" >&2
	fi
}

# start NODE LOG [args]: run a node of $dts in the background.
start() {
	local node=$1 log=$2
	shift 2
	"$rpk" run "$dts" --node "$node" --instance "$inst" "$@" >"$out/$log" 2>&1 &
	pids+=($!)
}

# wait_for FILE PATTERN [SECONDS]: until a line of FILE matches (default 20 s).
wait_for() {
	local t=$((${3:-20} * 20))
	for _ in $(seq "$t"); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "no /$2/ in $1 within ${3:-20} s"
	return 1
}

# finish NAME: print the logs if anything failed; exit accordingly.
finish() {
	if [ "$failures" -ne 0 ]; then
		for f in "$out"/*.log; do
			[ -f "$f" ] || continue
			echo "--- $f" >&2
			sed 's/^/    /' "$f" >&2
		done
		exit 1
	fi
	echo "$1: all checks passed"
	exit 0
}
