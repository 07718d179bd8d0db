#!/usr/bin/env bash
# rpk run --polling on either side: the polling side asks its peer not to
# ring, and the peer rings no doorbell for the messages it sends it.
set -uo pipefail
rpk=$1
dts=$2/integration/link16.dts
inst=polling-$$
. "$(dirname "$0")/lib.sh"

# KICKS LOG: the doorbells a node rang, from the counts it prints at exit.
kicks() {
	sed -nE 's/.* messages, ([0-9]+) kicks;.*/\1/p' "$out/$1"
}

# A polling master: the remote echoes 300 messages and rings it 0 times.
start remote remote.log
"$rpk" run "$dts" --node master --instance "$inst" --count 300 --polling >"$out/master.log" 2>&1 ||
	fail "polling master: $(cat "$out/master.log")"
grep -q '300/300 messages came back intact' "$out/master.log" ||
	fail "polling master: $(cat "$out/master.log")"
kill -INT "${pids[0]}"
wait "${pids[0]}"
# None per message. One can come at the end: when the master leaves right
# after the last echo, its detach zeroes the rings (flags included) while a
# slow remote (a sanitizer build) is still giving the last buffer back.
[ "$(kicks remote.log)" -le 1 ] 2>/dev/null || fail "the remote rang a polling master: $(cat "$out/remote.log")"

# Control: toward a sleeping master the same remote does ring.
start remote remote2.log
"$rpk" run "$dts" --node master --instance "$inst" --count 300 >"$out/master2.log" 2>&1 ||
	fail "master: $(cat "$out/master2.log")"
kill -INT "${pids[1]}"
wait "${pids[1]}"
[ "$(kicks remote2.log)" -gt 0 ] 2>/dev/null || fail "no kicks toward a sleeping master: $(cat "$out/remote2.log")"

# A polling remote: the master rings it once, at start (its receive buffers
# are posted before the remote's flag can be there), not for 300 messages.
start remote remote3.log --polling
"$rpk" run "$dts" --node master --instance "$inst" --count 300 >"$out/master3.log" 2>&1 ||
	fail "master toward a polling remote: $(cat "$out/master3.log")"
grep -q '300/300 messages came back intact' "$out/master3.log" || fail "$(cat "$out/master3.log")"
[ "$(kicks master3.log)" -le 1 ] 2>/dev/null ||
	fail "the master rang a polling remote: $(cat "$out/master3.log")"

finish polling
