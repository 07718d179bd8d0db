#!/usr/bin/env bash
# Topologies (issue 17, items 3 and 4): processors and their links under
# rpk up and rpk status, one case per CTest test:
#   topology.sh CASE RPK TRAFFIC SRCDIR
#   cli      bad devicetrees (tests/topology/*.dts) and command lines refused by
#            name, nothing started; both examples load (rpk status's table)
#   traffic  rpk up FILE on seed 003's three processors: one process per
#            processor, checked traffic on all six directions at once, each
#            link's counters, a clean stop; the same on the four-processor
#            mesh (twelve directions)
#   restart  a process per processor (rpk up --processor); B SIGKILLed and
#            restarted: A-C traffic runs on, checked, through B's outage, only
#            B's links reset, and B's links carry checked traffic again
#   status   rpk status FILE: a row per link, each processor's links in one
#            process, offline once stopped
#   timeout  a link of a processor whose peer does not come within --timeout
#            stops its running sibling, and the exit status says so
# The endpoint devices are FUSE: root and /dev/fuse (CI has both), else the
# cases that run links exit 77 (skipped).
set -uo pipefail
case_=$1 rpk=$(realpath "$2") traffic=$(realpath "$3") src=$4
inst=topology-$case_-$$
dts=$src/examples/dts/topology-abc.dts
if [ "$case_" != cli ] && { [ "$(id -u)" -ne 0 ] || [ ! -c /dev/fuse ]; }; then
	echo "topology.$case_: needs root and /dev/fuse; skipped"
	exit 77
fi
source "$src/tests/cli/lib.sh"
extra_cleanup() {
	# A processor killed hard leaves its mounts behind.
	awk -v d="$out" 'index($2, d) == 1 {print $2}' /proc/mounts | xargs -r -n1 umount -l
}

# up_processor NAME: rpk up --processor NAME in the background, its pid in $up_pid.
up_processor() {
	"$rpk" up "$dts" --processor "$1" --instance "$inst" --dir "$out/$1" >>"$out/$1.log" 2>&1 &
	up_pid=$!
	pids+=("$up_pid")
}

# ready LOG N: until LOG holds N readiness lines more than it held at the mark.
ready_count() { grep -c "^rpk up: .* ready: link attached" "$1" 2>/dev/null || true; }
ready() {
	local t=400
	for _ in $(seq $t); do
		[ "$(ready_count "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	fail "$1: fewer than $2 links ready within 20 s"
	return 1
}

# received LOG PAIR: the last count traffic printed for PAIR.
received() {
	awk -v p="$2" '$1 == "progress" && $2 == p {n = $3} END {print n + 0}' "$1"
}

# wait_received LOG PAIR MIN: until PAIR has received MIN messages (20 s).
wait_received() {
	for _ in $(seq 400); do
		[ "$(received "$1" "$2")" -ge "$3" ] && return 0
		grep -q "^FAIL" "$1" && break
		sleep 0.05
	done
	fail "pair $2 of $1 did not reach $3 messages: $(grep -E '^FAIL' "$1"; tail -1 "$1")"
	return 1
}

# field FILE NAME: "NAME: VALUE" of a stats file.
field() { sed -n "s/^$2: //p" "$1"; }

# table_until PATTERN: until a row of rpk status's table matches PATTERN
# (20 s); the table is then in $out/log. A master's state comes from its
# counter page, which it rewrites within a watchdog period: it follows the
# link a little behind.
table_until() {
	for _ in $(seq 400); do
		"$rpk" status "$dts" --instance "$inst" >"$out/log" 2>&1
		grep -qE -- "$1" "$out/log" && return 0
		sleep 0.05
	done
	fail "rpk status: no row /$1/ within 20 s: $(cat "$out/log")"
	return 1
}

# directions DIR PROCESSORS: both directions of the link between every two
# of PROCESSORS (DIR/PROC/to-PEER/rpmsg1_13 pairs, for traffic).
directions() {
	local d=$1 procs=$2
	for x in $procs; do
		for y in $procs; do
			[[ $x < $y ]] || continue
			echo "$d/$x/to-$y/rpmsg1_13 $d/$y/to-$x/rpmsg1_13 $d/$y/to-$x/rpmsg1_13 $d/$x/to-$y/rpmsg1_13"
		done
	done
}

case $case_ in
cli)
	for f in nested-link nested-processor duplicate-name empty-processor same-processor; do
		expect 1 "devicetree rejected, nothing was started" -- \
			"$rpk" up "$src/tests/topology/$f.dts" --instance "$inst"
		expect 1 "devicetree rejected" -- "$rpk" status "$src/tests/topology/$f.dts"
	done
	expect 1 "^/a/sides/to-b: a link side inside processor /a but not its child" -- \
		"$rpk" up "$src/tests/topology/nested-link.dts" --instance "$inst"
	expect 1 "^/a/b: a processor inside processor /a: processors do not nest" -- \
		"$rpk" up "$src/tests/topology/nested-processor.dts" --instance "$inst"
	expect 1 '^/soc/a: processor "a": /a has that name too' -- \
		"$rpk" up "$src/tests/topology/duplicate-name.dts" --instance "$inst"
	expect 1 "^/c: processor has no link sides" -- \
		"$rpk" up "$src/tests/topology/empty-processor.dts" --instance "$inst"
	expect 1 "^/a/remote-side: both sides of one link in processor /a" -- \
		"$rpk" run "$src/tests/topology/same-processor.dts" --node a/master-side
	ls /dev/shm | grep -q "rpk-$inst-" && fail "a refused devicetree left shared memory"
	expect 2 "has no processor named 'd'" -- "$rpk" up "$dts" --processor d --instance "$inst"
	expect 2 "has no link node named 'to-b'" -- "$rpk" up "$dts" --node to-b --instance "$inst"
	expect 2 "--node or --processor, not both" -- \
		"$rpk" up "$dts" --node a/to-b --processor a --instance "$inst"
	expect 1 "no link node 'b'" -- "$rpk" status "$dts" --node b --instance "$inst"
	expect 1 "No such file" -- "$rpk" status "$out/none.dts"
	# Both examples load: a row per link, nothing running.
	expect 0 "^b/to-c +c/to-b +offline" -- "$rpk" status "$dts" --instance "$inst"
	[ "$(grep -c offline "$out/log")" = 3 ] || fail "three links: $(cat "$out/log")"
	expect 0 "^c/to-d +d/to-c +offline" -- \
		"$rpk" status "$src/examples/dts/topology-mesh4.dts" --instance "$inst"
	[ "$(grep -c offline "$out/log")" = 6 ] || fail "six links: $(cat "$out/log")"
	# A devicetree of one link: each side its own processor, as before.
	expect 0 "^master +remote +offline" -- \
		"$rpk" status "$src/examples/dts/seed-tcc807x.dts" --instance "$inst"
	;;
traffic)
	# up_file FILE DIR LOG LINK-SIDES PROCESSORS: rpk up FILE, its sides ready,
	# one process per processor (not per link); its pid in $up.
	up_file() {
		"$rpk" up "$1" --instance "$inst" --dir "$2" >"$3" 2>&1 &
		up=$!
		pids+=("$up")
		ready "$3" "$4"
		[ "$(pgrep -P "$up" | wc -l)" = "$5" ] ||
			fail "rpk up runs $(pgrep -P "$up" | wc -l) processes, want $5"
	}
	up_file "$dts" "$out/d" "$out/up.log" 6 3
	# shellcheck disable=SC2046
	expect 0 "^PASS 5 " -- timeout 120 "$traffic" 2000 $(directions "$out/d" "a b c")
	cat "$out/log"
	[ "$(grep -c '^PASS .*: 2000 messages in order' "$out/log")" = 6 ] || fail "not every direction passed"
	for side in a/to-b a/to-c b/to-a b/to-c c/to-a c/to-b; do
		f=$out/d/$side/stats/link
		[ "$(field "$f" tx_msgs)" -ge 2000 ] && [ "$(field "$f" rx_msgs)" -ge 2000 ] &&
			[ "$(field "$f" resets)" = 0 ] || fail "$side: $(tr '\n' ' ' <"$f")"
	done
	kill -TERM "$up"
	wait "$up"
	rc=$?
	[ "$rc" = 0 ] || fail "rpk up exited $rc after SIGTERM"
	[ "$(grep -c '^rpk up: .* stopped$' "$out/up.log")" = 6 ] || fail "not every link said it stopped"
	grep -q " $out/d" /proc/mounts && fail "a mount stayed after the stop"
	# Four processors, every two linked: twelve directions at once.
	up_file "$src/examples/dts/topology-mesh4.dts" "$out/m" "$out/mesh.log" 12 4
	# shellcheck disable=SC2046
	expect 0 "^PASS 11 " -- timeout 120 "$traffic" 500 $(directions "$out/m" "a b c d")
	grep "^PASS" "$out/log"
	[ "$(grep -c '^PASS .*: 500 messages in order' "$out/log")" = 12 ] || fail "mesh: $(cat "$out/log")"
	kill -TERM "$up"
	wait "$up" || fail "rpk up of the mesh exited $? after SIGTERM"
	;;
restart)
	for p in a b c; do
		up_processor "$p"
		declare "pid_$p=$up_pid"
	done
	for p in a b c; do ready "$out/$p.log" 2; done
	# A-C both ways, until told to stop.
	"$traffic" 0 "$out/a/to-c/rpmsg1_13" "$out/c/to-a/rpmsg1_13" \
		"$out/c/to-a/rpmsg1_13" "$out/a/to-c/rpmsg1_13" >"$out/ac.log" 2>&1 &
	ac=$!
	pids+=("$ac")
	wait_received "$out/ac.log" 0 200
	wait_received "$out/ac.log" 1 200
	at_kill0=$(received "$out/ac.log" 0) at_kill1=$(received "$out/ac.log" 1)
	kill -KILL "$pid_b"
	wait "$pid_b" 2>/dev/null
	# B is gone: A sees its remote crash.
	for _ in $(seq 400); do [ "$(field "$out/a/to-b/stats/link" state)" = crashed ] && break; sleep 0.05; done
	[ "$(field "$out/a/to-b/stats/link" state)" = crashed ] ||
		fail "a/to-b is $(field "$out/a/to-b/stats/link" state) with B killed, want crashed"
	# B's links: A's remote gone (crashed), C's master gone (detached); A-C on.
	table_until "^a/to-b +b/to-a +crashed +pid $pid_a running +pid $pid_b gone "
	table_until "^b/to-c +c/to-b +detached +pid $pid_b gone +pid $pid_c running "
	grep -qE "^a/to-c +c/to-a +attached +pid $pid_a running +pid $pid_c running +0x07 DRIVER_OK$" \
		"$out/log" || fail "A-C with B gone: $(cat "$out/log")"
	# Messages cross A-C, checked, while B is down.
	for pair in 0 1; do
		before=$(received "$out/ac.log" $pair)
		wait_received "$out/ac.log" $pair $((before + 500))
	done
	# For the record (the figure depends on the machine): what crossed A-C
	# from B's kill to its restart.
	echo "A-C messages while B was down: $(($(received "$out/ac.log" 0) - at_kill0)) A->C," \
		"$(($(received "$out/ac.log" 1) - at_kill1)) C->A"
	up_processor b
	ready "$out/b.log" 4 # its first two lines, and two more
	# B's links carry checked traffic again, both ways.
	expect 0 "^PASS 3 " -- timeout 120 "$traffic" 500 \
		"$out/a/to-b/rpmsg1_13" "$out/b/to-a/rpmsg1_13" "$out/b/to-a/rpmsg1_13" "$out/a/to-b/rpmsg1_13" \
		"$out/b/to-c/rpmsg1_13" "$out/c/to-b/rpmsg1_13" "$out/c/to-b/rpmsg1_13" "$out/b/to-c/rpmsg1_13"
	kill -TERM "$ac"
	wait "$ac"
	rc=$?
	[ "$rc" = 0 ] || fail "A-C traffic: exit $rc: $(grep -E '^FAIL' "$out/ac.log")"
	grep -E "^PASS" "$out/ac.log"
	[ "$(grep -c '^PASS .* messages in order' "$out/ac.log")" = 2 ] || fail "A-C: $(tail -3 "$out/ac.log")"
	# Only B's links reset: A-C attached once, never crashed or reset, on both sides.
	for side in a/to-c c/to-a; do
		[ "$(field "$out/$side/stats/link" resets)" = 0 ] &&
			[ "$(field "$out/$side/stats/link" state)" = attached ] ||
			fail "$side: $(tr '\n' ' ' <"$out/$side/stats/link")"
		expect 0 "link +attaches 1, crashes 0, broken by the peer 0, resets 0" -- \
			"$rpk" stat "$dts" --node "$side" --instance "$inst"
	done
	expect 0 "link +attaches 2, crashes 1," -- "$rpk" stat "$dts" --node a/to-b --instance "$inst"
	[ "$(field "$out/a/to-b/stats/link" resets)" -ge 1 ] || fail "a/to-b counts no reset"
	# SIGTERM stops each processor's links, cleanly.
	for p in "$pid_a" "$up_pid" "$pid_c"; do kill -TERM "$p"; done
	for p in "$pid_a" "$up_pid" "$pid_c"; do
		wait "$p"
		rc=$?
		[ "$rc" = 0 ] || fail "rpk up --processor (pid $p) exited $rc after SIGTERM"
	done
	;;
status)
	"$rpk" up "$dts" --instance "$inst" --dir "$out/d" >"$out/up.log" 2>&1 &
	up=$!
	pids+=("$up")
	ready "$out/up.log" 6
	attached='^[abc]/to-[abc] +[abc]/to-[abc] +attached +pid [0-9]+ running +pid [0-9]+ running +0x07 DRIVER_OK$'
	for _ in $(seq 400); do
		"$rpk" status "$dts" --instance "$inst" >"$out/log" 2>&1
		[ "$(grep -cE "$attached" "$out/log")" = 3 ] && break
		sleep 0.05
	done
	cat "$out/log"
	[ "$(grep -cE "$attached" "$out/log")" = 3 ] || fail "three attached links"
	expect 0 "^MASTER +REMOTE +STATE +MASTER PROCESS +REMOTE PROCESS +VDEV$" -- \
		"$rpk" status "$dts" --instance "$inst"
	[ "$(wc -l <"$out/log")" = 4 ] || fail "a header and three rows: $(cat "$out/log")"
	# Each processor's sides share its process; the three processes differ.
	pid_of() { awk -v m="$1" '$1 == m {print $5}' "$out/log"; }
	rpid_of() { awk -v m="$1" '$1 == m {print $8}' "$out/log"; }
	a=$(pid_of a/to-b) b=$(rpid_of a/to-b) c=$(rpid_of a/to-c)
	[ "$(pid_of a/to-c)" = "$a" ] || fail "a's links in two processes"
	[ "$(pid_of b/to-c)" = "$b" ] || fail "b's links in two processes"
	[ "$(rpid_of b/to-c)" = "$c" ] || fail "c's links in two processes"
	[ "$a" != "$b" ] && [ "$b" != "$c" ] && [ "$a" != "$c" ] || fail "processors share a process: $a $b $c"
	for p in $a $b $c; do [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$up" ] || fail "$p is not rpk up's child"; done
	# The long form of one link says the same.
	expect 0 "remote  pid $c, session [0-9]+, running" -- "$rpk" status "$dts" --node c/to-b --instance "$inst"
	# A user the links refuse (docs/access.md): a row each all the same, why
	# on stderr, and exit 0, since the devicetree was read.
	if id nobody >/dev/null 2>&1; then
		runuser -u nobody -- "$rpk" status "$dts" --instance "$inst" >"$out/st" 2>"$out/st.err"
		rc=$?
		[ "$rc" = 0 ] || fail "rpk status as nobody: exit $rc"
		[ "$(grep -cE '^[abc]/to-[abc] +[abc]/to-[abc] +unknown +- +- +-$' "$out/st")" = 3 ] ||
			fail "rows as nobody: $(cat "$out/st")"
		[ "$(grep -c 'permission denied' "$out/st.err")" = 3 ] || fail "why, as nobody: $(cat "$out/st.err")"
	fi
	kill -TERM "$up"
	wait "$up"
	expect 0 "^a/to-b +b/to-a +offline" -- "$rpk" status "$dts" --instance "$inst"
	[ "$(grep -c offline "$out/log")" = 3 ] || fail "after the stop: $(cat "$out/log")"
	;;
timeout)
	# C's side of B-C alone: B's link to C comes up, its link to A never does.
	"$rpk" up "$dts" --node c/to-b --instance "$inst" --dir "$out/c" >"$out/c.log" 2>&1 &
	pids+=($!)
	expect 1 "b/to-a: the peer did not come within 5000 ms" -- \
		"$rpk" up "$dts" --processor b --timeout 5000 --instance "$inst" --dir "$out/b"
	cat "$out/log"
	grep -q "^rpk up: b/to-c ready: link attached" "$out/log" || fail "b/to-c never came up"
	grep -q "^rpk up: b/to-c stopped$" "$out/log" || fail "b/to-c was not stopped"
	grep -q " $out/b" /proc/mounts && fail "b/to-c's mount stayed"
	;;
*)
	echo "topology.sh: unknown case $case_" >&2
	exit 2
	;;
esac
finish "topology.$case_"
