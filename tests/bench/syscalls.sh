#!/usr/bin/env bash
# No system call but the doorbell's on the message path (issue 14's goal):
# no_alloc (a master and a remote node in one process, round trips through
# an inbox, sleeping and adaptive) runs under strace twice, with 1000 and
# with 6000 round trips per mode. What the 10 000 extra round trips add is
# the message path's: futex (the doorbell: a sleeper's wait, a ringer's
# wake) may grow with them, nothing else may (a call made once per message
# would add 10 000; the watchdog's looks, once per 50 ms, add a few dozen).
#   syscalls.sh NO_ALLOC LINK.dts
# Skipped (77) without strace.
set -euo pipefail
no_alloc=$1 link=$2
command -v strace >/dev/null || {
	echo "bench.syscalls: strace is not installed: skipped"
	exit 77
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

for n in 1000 6000; do
	strace -f -qq -c -U name,calls -o "$dir/calls-$n" "$no_alloc" "$link" $n >"$dir/out-$n" ||
		{ cat "$dir/out-$n" >&2; echo "bench.syscalls: no_alloc failed" >&2; exit 1; }
done
extra=10000 # round trips: (6000 - 1000) in each of two modes
awk -v extra=$extra '
FNR == 1 { file++ }
$1 ~ /^[a-z_0-9]+$/ && $1 != "total" && $2 ~ /^[0-9]+$/ { calls[file, $1] = $2; names[$1] = 1 }
END {
	bad = 0
	for (name in names) {
		grown = calls[2, name] - calls[1, name]
		per = grown / extra
		if (name == "futex")
			printf "futex: %.2f per round trip (the doorbell)\n", per
		else if (grown > extra / 5) {
			printf "FAIL: %s: %d more calls for %d more round trips\n", name, grown, extra
			bad = 1
		} else if (grown > 0)
			printf "%s: %d more (not per message: the watchdog)\n", name, grown
	}
	if (!((2, "futex") in calls)) {
		print "FAIL: strace counted no futex call: did it follow the threads?"
		bad = 1
	}
	exit bad
}' "$dir/calls-1000" "$dir/calls-6000"
echo "bench.syscalls: no system call but futex grows with the messages"
