#!/usr/bin/env bash
# rpk run --chaos with real processes: the honest side's rpk stat counts
# what the chaos side wrote, and echoes keep coming back intact.
set -uo pipefail
rpk=$1
dts=$2/integration/link16.dts
inst=chaos-$$
. "$(dirname "$0")/lib.sh"

# Poll (bounded, 20 s) until NODE's rpk stat matches PATTERN.
wait_stat() {
	local node=$1 pattern=$2
	for _ in $(seq 200); do
		"$rpk" stat "$dts" --node "$node" --instance "$inst" >"$out/st" 2>&1
		grep -qE -- "$pattern" "$out/st" && return 0
		sleep 0.1
	done
	fail "rpk stat --node $node never matched /$pattern/: $(cat "$out/st")"
}

# A chaos master posts a descriptor outside the buffers now and then; the
# remote refuses each, and the master's echoes all come back.
start remote remote.log
"$rpk" run "$dts" --node master --instance "$inst" --count 300 --chaos desc-addr \
	--chaos-every 1 >"$out/master.log" 2>&1 || fail "chaos master: $(cat "$out/master.log")"
grep -q '300/300 messages came back intact' "$out/master.log" ||
	fail "chaos master: $(cat "$out/master.log")"
wait_stat remote 'vring1 .* bad descriptors 0, addresses outside [1-9]'

# A chaos remote returns buffers with a header longer than what it wrote; the
# honest master counts them as bad lengths and keeps running.
kill -INT "${pids[0]}"
wait "${pids[0]}"
start remote remote2.log --chaos msg-len --chaos-every 20
start master master2.log
wait_stat master 'bad length [1-9]'
wait_stat master '^/master \(instance '"$inst"'\): attached'
wait_stat remote 'chaos    corruptions written [1-9]'

# Usage errors.
"$rpk" run "$dts" --node master --chaos nosuch >"$out/u" 2>&1
[ $? -eq 2 ] && grep -q "unknown chaos class 'nosuch'" "$out/u" || fail "--chaos nosuch: $(cat "$out/u")"
"$rpk" run "$dts" --node master --chaos used-idx >"$out/u" 2>&1
[ $? -eq 2 ] && grep -q "corrupts what a remote writes" "$out/u" ||
	fail "--chaos used-idx on a master: $(cat "$out/u")"
"$rpk" run --chaos list >"$out/u" 2>&1 && grep -q 'ns-flood' "$out/u" || fail "--chaos list: $(cat "$out/u")"

finish chaos
