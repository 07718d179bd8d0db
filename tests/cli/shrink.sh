#!/usr/bin/env bash
# A region's object truncated under a running link (to nothing, or partly):
# no process dies of SIGBUS; both sides exit 1 within a few seconds, naming
# the region and its new size; nothing is left in /dev/shm.
set -uo pipefail
rpk=$1
dts=$2/integration/link16.dts
inst=shrink-$$
. "$(dirname "$0")/lib.sh"

# region:size:partial size
regions=("rsc-table@200c6000:8192:4096" "vdev0vring0@200c8000:4096:100"
	"vdev0vring1@200c9000:4096:2048" "vdev0buffer@200ca000:16384:8292"
	"mailbox@200c5000:4096:64")

wait_attached() {
	local got=""
	for _ in $(seq 200); do
		got=$("$rpk" status "$dts" --node master --instance "$inst" 2>&1 | head -1)
		[ "$got" = attached ] && return 0
		sleep 0.1
	done
	fail "state '$got', want attached"
}

# Wait up to 5 s for PID to end; its exit code in $code, or "running".
reap() {
	code=running
	for _ in $(seq 100); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"
			code=$?
			return
		fi
		sleep 0.05
	done
}

round=0
for r in "${regions[@]}"; do
	name=${r%%:*}
	rest=${r#*:}
	for size in 0 "${rest#*:}"; do
		round=$((round + 1))
		pids=()
		start remote "remote$round.log"
		start master "master$round.log" --count 100000000
		wait_attached
		sleep 0.3 # echoes in flight
		truncate -s "$size" "/dev/shm/rpk-$inst-$name"
		for side in remote master; do
			pid=${pids[0]}
			[ $side = master ] && pid=${pids[1]}
			reap "$pid"
			if [ "$code" = running ]; then
				fail "$name truncated to $size: the $side still runs after 5 s"
				kill -9 "$pid"
				wait "$pid" 2>/dev/null
			elif [ "$code" -ne 1 ]; then
				fail "$name truncated to $size: the $side exited $code (want 1, not a signal)"
			fi
			grep -qE "^$side: region [^ ]*/$name \(/dev/shm/rpk-$inst-$name\) shrank to $size bytes under us" \
				"$out/$side$round.log" ||
				fail "$name truncated to $size: the $side did not say so: $(cat "$out/$side$round.log")"
		done
		left=$(ls /dev/shm | grep -F "rpk-$inst-")
		[ -z "$left" ] || fail "$name truncated to $size: left in /dev/shm: $left"
		rm -f /dev/shm/rpk-"$inst"-*
	done
done
pids=()

finish shrink
