#!/usr/bin/env bash
# A link's life seen through rpk status and rpk trace, with real rpk processes:
# offline -> detached (remote up) -> attached (master up) -> detached (master
# gone, remote waits) -> attached again -> crashed (remote killed) -> attached
# (remote back, the master re-attaches by itself).
set -uo pipefail
rpk=$1
dts=$2/integration/link16.dts
inst=lifecycle-$$
. "$(dirname "$0")/lib.sh"

# Poll (bounded, 20 s) until the first line of rpk status is the state wanted.
wait_state() {
	local want=$1 got=""
	for _ in $(seq 200); do
		got=$("$rpk" status "$dts" --node master --instance "$inst" | head -1)
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	fail "state '$got', want '$want'"
	"$rpk" status "$dts" --node master --instance "$inst" | sed 's/^/    /' >&2
}

# Poll until the trace holds a line matching PATTERN COUNT times.
wait_trace() {
	local pattern=$1 count=$2 got=0
	for _ in $(seq 200); do
		got=$("$rpk" trace "$dts" --node remote --instance "$inst" | grep -cE -- "$pattern")
		[ "$got" -ge "$count" ] && return 0
		sleep 0.1
	done
	fail "trace has /$pattern/ $got times, want $count"
	"$rpk" trace "$dts" --node remote --instance "$inst" | sed 's/^/    /' >&2
}


wait_state offline
"$rpk" trace "$dts" --node remote --instance "$inst" >"$out/t" 2>&1 &&
	fail "rpk trace on no link exited 0"
grep -q "no running link" "$out/t" || fail "rpk trace on no link: $(cat "$out/t")"

start remote remote.log
remote=${pids[-1]}
wait_state detached
wait_trace 'resource table published at 0x200c63b8, session [0-9]+' 1

"$rpk" trace "$dts" --node remote --instance "$inst" --follow >"$out/follow" 2>&1 &
follow=$!
pids+=($follow)

start master master.log
master=${pids[-1]}
wait_state attached
wait_trace 'master attached \(session [0-9]+\), features 0x20000001' 1
"$rpk" status "$dts" --node remote --instance "$inst" >"$out/s"
grep -q 'vdev    status 0x07 ACKNOWLEDGE DRIVER DRIVER_OK, features offered 0x20000001, accepted 0x20000001' \
	"$out/s" || fail "status lacks the handshake: $(cat "$out/s")"

# The master leaves (Ctrl-C): it detaches, the remote keeps running.
kill -INT "$master"
wait "$master" || fail "master exited non-zero on Ctrl-C"
wait_state detached
wait_trace 'link down: the master of session [0-9]+ reset it' 1

# A new master attaches to the same remote and gets its echoes.
"$rpk" run "$dts" --node master --instance "$inst" --count 50 >"$out/m2" 2>&1 ||
	fail "second master: $(cat "$out/m2")"
grep -q '50/50 messages came back intact' "$out/m2" || fail "second master: $(cat "$out/m2")"
wait_trace 'master attached' 2

# The remote's counters: the second master's 50 messages came and went back.
for _ in $(seq 100); do
	"$rpk" stat "$dts" --node remote --instance "$inst" >"$out/st" 2>&1
	grep -qE 'link     attaches 2, crashes 0, broken by the peer 0, resets 2' "$out/st" && grep -q detached "$out/st" && break
	sleep 0.1
done
grep -qE '^/remote \(instance '"$inst"'\): detached, pid [0-9]+$' "$out/st" ||
	fail "rpk stat: $(cat "$out/st")"
grep -qE 'link     attaches 2, crashes 0, broken by the peer 0, resets 2' "$out/st" || fail "rpk stat: $(cat "$out/st")"
msgs=$(sed -nE 's/^  messages sent ([0-9]+), received ([0-9]+)$/\1 \2/p' "$out/st")
read -r sent received <<<"$msgs"
[ "${sent:-0}" -ge 50 ] && [ "${received:-0}" -ge 50 ] || fail "rpk stat messages: $(cat "$out/st")"
grep -q 'vring0  index jumps 0, bad heads 0' "$out/st" || fail "rpk stat peer errors: $(cat "$out/st")"
"$rpk" stat "$dts" --node master --instance "$inst" >"$out/u" 2>&1 &&
	fail "rpk stat of a node that is not running exited 0"
grep -q "is not running" "$out/u" || fail "rpk stat of a stopped node: $(cat "$out/u")"

# The remote dies under an attached master; a new one comes up; the master
# re-attaches by itself and the link works.
start master master3.log
wait_state attached
kill -9 "$remote"
wait "$remote" 2>/dev/null
wait_state crashed
start remote remote2.log
wait_state attached
"$rpk" status "$dts" --node master --instance "$inst" >"$out/s"
grep -qE 'remote  pid [0-9]+, session 2, running' "$out/s" ||
	fail "new remote session not shown: $(cat "$out/s")"

# --follow printed the lines as they came, and the new remote's after a restart.
for _ in $(seq 100); do
	[ "$(grep -c 'master attached' "$out/follow")" -ge 4 ] && break
	sleep 0.1
done
grep -q 'link down: the master of session' "$out/follow" || fail "follow missed the reset"
[ "$(grep -c 'master attached' "$out/follow")" -ge 4 ] ||
	fail "follow saw $(grep -c 'master attached' "$out/follow") attaches, want 4: $(cat "$out/follow")"

# Usage errors; without --node, every link (tests/topology/topology.sh).
"$rpk" status "$dts" >"$out/u" 2>&1
[ $? -eq 0 ] && grep -qE "^master +remote +[a-z]+ " "$out/u" ||
	fail "rpk status without --node should print a row per link: $(cat "$out/u")"
"$rpk" status >"$out/u" 2>&1
[ $? -eq 2 ] || fail "rpk status without a file should exit 2"
"$rpk" status "$dts" --node nosuch >"$out/u" 2>&1
[ $? -eq 1 ] && grep -q "no link node 'nosuch'" "$out/u" || fail "status --node nosuch: $(cat "$out/u")"

finish lifecycle
