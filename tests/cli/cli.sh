#!/usr/bin/env bash
# The rpk command as a user meets it: help, usage errors, bad devicetrees,
# and the demo cleaning up after Ctrl-C.
set -uo pipefail
rpk=$1
data=$2
seed=$data/../examples/dts/seed-tcc807x.dts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect CODE PATTERN -- command...: exit code is CODE and output matches PATTERN
expect() {
	local code=$1 pattern=$2
	shift 3
	"$@" >"$tmp/out" 2>&1
	local got=$?
	if [ "$got" -ne "$code" ] || ! grep -qE -- "$pattern" "$tmp/out"; then
		echo "FAIL: $* -> exit $got (want $code), output:" >&2
		sed 's/^/    /' "$tmp/out" >&2
		echo "    (wanted /$pattern/)" >&2
		failures=$((failures + 1))
	fi
}

expect 0 'commands:' -- "$rpk" --help
expect 2 'usage: rpk' -- "$rpk"
expect 2 "unknown command 'bogus'" -- "$rpk" bogus
for cmd in run demo ping vhost-user gen rsc; do
	expect 0 "usage: rpk $cmd" -- "$rpk" $cmd --help
	expect 2 "usage: rpk $cmd" -- "$rpk" $cmd --no-such-option
done
expect 2 'need one devicetree file' -- "$rpk" run
expect 2 "no link node named 'nosuch'" -- "$rpk" run "$seed" --node nosuch
expect 1 'nosuch.dts: No such file' -- "$rpk" run "$tmp/nosuch.dts" --node remote
expect 1 '/reserved-memory/vdev0vring1@200c9000: overlaps /reserved-memory/vdev0vring0@200c8000' \
	-- "$rpk" run "$data/cli/bad-overlap.dts" --node remote
expect 1 'devicetree rejected' -- "$rpk" demo --dt "$data/cli/bad-overlap.dts"
printf 'not a devicetree' >"$tmp/junk.dts"
expect 1 'dtc could not compile' -- "$rpk" run "$tmp/junk.dts" --node remote
expect 2 'size takes 1..496' -- "$rpk" ping --size 497
expect 2 'count takes' -- "$rpk" demo --count 0
expect 1 'no master set DRIVER_OK within 300 ms' -- \
	"$rpk" run "$seed" --node remote --instance "cli-$$" --timeout 300
dtc -q -I dts -O dtb -o "$tmp/seed.dtb" "$seed"
expect 1 'no resource table appeared within 300 ms' -- \
	"$rpk" run "$tmp/seed.dtb" --node master --instance "cli-dtb-$$" --timeout 300
rm -f /dev/shm/rpk-cli-dtb-$$-*

# A link run by hand from a .dtb: both sides as separate commands.
"$rpk" run "$tmp/seed.dtb" --node remote --instance "cli-run-$$" >"$tmp/remote" 2>&1 &
remote=$!
expect 0 '10/10 messages came back intact' -- \
	"$rpk" run "$tmp/seed.dtb" --node master --instance "cli-run-$$" --count 10
kill -TERM $remote
wait $remote
expect 0 'remote -> master: 11 messages' -- cat "$tmp/remote"

# Ctrl-C during the demo: exit 130, no process and no shared memory left.
"$rpk" demo --count 10000000 >"$tmp/demo" 2>&1 &
demo=$!
for _ in $(seq 200); do
	grep -q 'bound "rpmsg-client-sample"' "$tmp/demo" && break
	sleep 0.05
done
kill -INT $demo
wait $demo
code=$?
if [ $code -ne 130 ]; then
	echo "FAIL: demo after SIGINT exited $code, want 130" >&2
	sed 's/^/    /' "$tmp/demo" >&2
	failures=$((failures + 1))
fi
if ls /dev/shm | grep -q "rpk-demo-$demo-"; then
	echo "FAIL: demo left shared memory behind: $(ls /dev/shm | grep "rpk-demo-$demo-")" >&2
	failures=$((failures + 1))
fi
if pgrep -P $demo >/dev/null; then
	echo "FAIL: demo left child processes" >&2
	failures=$((failures + 1))
fi

[ $failures -eq 0 ] && echo "cli: all checks passed"
exit $((failures > 0))
