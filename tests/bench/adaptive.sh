#!/usr/bin/env bash
# Adaptive waiting (rpk run --adaptive, rpk_node_opts.adaptive): a link whose
# sides spin a while before sleeping carries a checked echo stream, also when
# only one side spins and the other sleeps or polls. Its speed is rpk bench's
# business; this checks that nothing is lost or stuck.
set -uo pipefail
rpk=$1
dts=$2/integration/link16.dts
inst=adaptive-$$
. "$2/cli/lib.sh"

for pair in "--adaptive --adaptive" "--adaptive none" "none --adaptive" "--polling --adaptive"; do
	read -r r m <<<"$pair"
	[ "$r" = none ] && r=""
	[ "$m" = none ] && m=""
	start remote remote.log $r
	expect 0 "received 2001 messages" -- timeout 60 "$rpk" run "$dts" --node master \
		--instance "$inst" --count 2000 $m
	kill -TERM "${pids[-1]}"
	wait "${pids[-1]}" 2>/dev/null
done
finish bench.adaptive
