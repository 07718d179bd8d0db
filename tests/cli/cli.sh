#!/usr/bin/env bash
# The rpk command as a user meets it: help, usage errors, bad devicetrees,
# and the demo cleaning up after Ctrl-C.
set -uo pipefail
rpk=$1
data=$2
seed=$data/../examples/dts/seed-tcc807x.dts
. "$(dirname "$0")/lib.sh"

expect 0 'commands:' -- "$rpk" --help
expect 0 '^rpk \(rpmsg-kit\) [0-9]+\.[0-9]+\.[0-9]+$' -- "$rpk" --version
expect 2 'usage: rpk' -- "$rpk"
expect 2 "unknown command 'bogus'" -- "$rpk" bogus
for cmd in run demo ping vhost-user gen rsc; do
	expect 0 "usage: rpk $cmd" -- "$rpk" $cmd --help
	expect 2 "usage: rpk $cmd" -- "$rpk" $cmd --no-such-option
done
expect 2 'need one devicetree file' -- "$rpk" run
expect 2 "no link node named 'nosuch'" -- "$rpk" run "$seed" --node nosuch
expect 1 'nosuch.dts: No such file' -- "$rpk" run "$out/nosuch.dts" --node remote
expect 1 '/reserved-memory/vdev0vring1@200c9000: overlaps /reserved-memory/vdev0vring0@200c8000' \
	-- "$rpk" run "$data/cli/bad-overlap.dts" --node remote
expect 1 'devicetree rejected' -- "$rpk" demo --dt "$data/cli/bad-overlap.dts"
printf 'not a devicetree' >"$out/junk.dts"
expect 1 'dtc could not compile' -- "$rpk" run "$out/junk.dts" --node remote
expect 2 'size takes 1..496' -- "$rpk" ping --size 497
expect 2 'count takes' -- "$rpk" demo --count 0
expect 1 'no master set DRIVER_OK within 300 ms' -- \
	"$rpk" run "$seed" --node remote --instance "cli-$$" --timeout 300
dtc -q -I dts -O dtb -o "$out/seed.dtb" "$seed"
expect 1 'no resource table appeared within 300 ms' -- \
	"$rpk" run "$out/seed.dtb" --node master --instance "cli-dtb-$$" --timeout 300
rm -f /dev/shm/rpk-cli-dtb-$$-*

# A link run by hand from a .dtb: both sides as separate commands.
"$rpk" run "$out/seed.dtb" --node remote --instance "cli-run-$$" >"$out/remote" 2>&1 &
remote=$!
expect 0 '10/10 messages came back intact' -- \
	"$rpk" run "$out/seed.dtb" --node master --instance "cli-run-$$" --count 10
kill -TERM $remote
wait $remote
expect 0 'remote -> master: 11 messages' -- cat "$out/remote"

# Ctrl-C during the demo: exit 130, no process and no shared memory left.
"$rpk" demo --count 10000000 >"$out/demo" 2>&1 &
demo=$!
for _ in $(seq 200); do
	grep -q 'bound "rpmsg-client-sample"' "$out/demo" && break
	sleep 0.05
done
kill -INT $demo
wait $demo
code=$?
if [ $code -ne 130 ]; then
	fail "demo after SIGINT exited $code, want 130"
	sed 's/^/    /' "$out/demo" >&2
fi
if ls /dev/shm | grep -q "rpk-demo-$demo-"; then
	fail "demo left shared memory behind: $(ls /dev/shm | grep "rpk-demo-$demo-")"
fi
if pgrep -P $demo >/dev/null; then
	fail "demo left child processes"
fi

finish cli
