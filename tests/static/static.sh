#!/usr/bin/env bash
# Static links, seen as a user runs them (docs/static-links.md):
#   static.sh CASE RPK SRCDIR [DTS]
# on tests/integration/DTS (default static16.dts; symmetric16.dts is the
# same link with each side's own buffers):
#   any_order   either side first: the link comes up and 2000 echoes come back
#   restarts    a master killed at random points 100 times while echoing; the
#               remote serves each next one, and a last run gets every echo
#   refused     sides of two devicetrees refuse each other, whichever starts
#               first, each saying why; layouts a static link may not have
set -uo pipefail
case_=$1 rpk=$(realpath "$2") src=$3
inst=static-$case_-$$
dts=$src/tests/integration/${4:-static16.dts}
source "$src/tests/cli/lib.sh"

# variant NAME SED-SCRIPT: a copy of the static layout, edited.
variant() {
	sed -e "$2" "$dts" >"$out/$1.dts"
}

intact() { # intact COUNT [args]: a master run whose every echo came back
	expect 0 "$1/$1 messages came back intact" -- \
		"$rpk" run "$dts" --node master --instance "$inst" --count "$1" --timeout 20000
}

case $case_ in
any_order)
	start remote remote.log --timeout 20000
	intact 2000
	grep -q "link header (static link)" "$out/log" || fail "the master did not say it runs a static link"
	kill "${pids[@]}"
	wait
	pids=()
	# The master first: it waits for the remote's header.
	"$rpk" run "$dts" --node master --instance "$inst" --count 2000 --timeout 20000 >"$out/master.log" 2>&1 &
	master=$!
	start remote remote2.log --timeout 20000
	wait "$master" || fail "the master that started first failed"
	grep -q "2000/2000 messages came back intact" "$out/master.log" ||
		fail "the master that started first lost echoes"
	wait_for "$out/remote2.log" "link header at 0x200c6000 \(static link\), master attached"
	;;
restarts)
	start remote remote.log
	for i in $(seq 100); do
		"$rpk" run "$dts" --node master --instance "$inst" --count 1000000 --timeout 20000 \
			>"$out/cycle.log" 2>&1 &
		victim=$!
		# A random point of its life: before, during or after its attach.
		sleep "0.0$((RANDOM % 4))$((RANDOM % 10))"
		kill -9 "$victim" 2>/dev/null
		wait "$victim" 2>/dev/null
		kill -0 "${pids[0]}" 2>/dev/null || {
			fail "the remote died in cycle $i"
			break
		}
	done
	intact 2000
	kill -0 "${pids[0]}" 2>/dev/null || fail "the remote did not outlive its masters"
	;;
refused)
	# Rings of 8 on both sides: the same regions, another layout.
	variant other "s/rpk,vring-num = <16>;/rpk,vring-num = <8>;/"
	why="built from another devicetree \(layout hash 0x[0-9a-f]{8}, ours 0x[0-9a-f]{8}\)"
	start remote remote.log --timeout 20000
	expect 1 "the remote was $why" -- \
		"$rpk" run "$out/other.dts" --node master --instance "$inst" --count 10 --timeout 20000
	wait "${pids[0]}"
	[ $? -eq 1 ] || fail "the remote that was refused did not exit 1"
	grep -qE "the master was $why" "$out/remote.log" || fail "the remote did not say why it refused"
	pids=()
	rm -f /dev/shm/rpk-"$inst"-*
	"$rpk" run "$out/other.dts" --node master --instance "$inst" --count 10 --timeout 20000 \
		>"$out/master.log" 2>&1 &
	pids+=($!)
	expect 1 "the master was $why" -- \
		"$rpk" run "$dts" --node remote --instance "$inst" --timeout 20000
	wait "${pids[0]}"
	[ $? -eq 1 ] || fail "the master that was refused did not exit 1"
	grep -qE "the remote was $why" "$out/master.log" || fail "the master did not say why it refused"
	pids=()

	# A remote whose devicetree makes the region a resource table's: its
	# table has no header. The master says so, within its timeout, and a
	# Ctrl-C ends its wait too.
	sed -e 's/"link", "vring0", "vring1", "buffer";/"rsc-table", "vring0", "vring1", "buffer";/
		s/reg = <0x0 0x200c6000 0x0 0x1000>;/&\n\t\t\trpk,rsc-offset = <0x80>; rpk,rsc-size = <0x400>;/' \
		"$dts" >"$out/classic.dts"
	start_dt() { # start_dt DTS NODE LOG [args]
		local f=$1 node=$2 log=$3
		shift 3
		"$rpk" run "$f" --node "$node" --instance "$inst" "$@" >"$out/$log" 2>&1 &
		pids+=($!)
	}
	start_dt "$out/classic.dts" remote classic-remote.log --timeout 20000
	expect 1 "no link header under the remote's table \(a remote of a devicetree where this region is a \"rsc-table\"\?\)" -- \
		"$rpk" run "$dts" --node master --instance "$inst" --count 10 --timeout 1500
	start_dt "$dts" master waiting-master.log --count 10
	for _ in $(seq 200); do [ -e "/dev/shm/rpk-$inst-stats-master" ] && break; sleep 0.05; done
	kill -INT "${pids[-1]}"
	wait "${pids[-1]}"
	[ $? -eq 130 ] || fail "a master waiting for a link header did not end on SIGINT with 130"
	# Ended by its handler (a process the signal killed says nothing).
	grep -qE "no link header|interrupted while waiting" "$out/waiting-master.log" ||
		fail "the interrupted master did not say why: $(cat "$out/waiting-master.log")"
	kill "${pids[@]}" 2>/dev/null
	wait
	pids=()
	rm -f /dev/shm/rpk-"$inst"-*

	# What a static link's layout may not say, each refused by name.
	variant both 's/"link", "vring0", "vring1", "buffer";/"link", "vring0", "vring1", "rsc-table";/'
	expect 1 "names both a \"link\" and a \"rsc-table\"" -- "$rpk" run "$out/both.dts" --node master
	variant offset 's/reg = <0x0 0x200c6000 0x0 0x1000>;/&\n\t\t\trpk,rsc-offset = <0x3b8>; rpk,rsc-size = <0x400>;/'
	expect 1 "a \"link\" region holds a static link's header: it takes no 'rpk,rsc-offset'" -- \
		"$rpk" run "$out/offset.dts" --node master
	variant trace 's/reg = <0x0 0x200c6000 0x0 0x1000>;/&\n\t\t\trpk,trace-size = <0x400>;/'
	expect 1 "it takes no 'rpk,rsc-offset', 'rpk,rsc-size' or 'rpk,trace-size'" -- \
		"$rpk" run "$out/trace.dts" --node master
	# The two sides of one file that describe the link differently.
	variant rings "0,/rpk,vring-num = <16>;/s//rpk,vring-num = <8>;/"
	expect 1 "/remote: rpk,vring-num or rpk,vring-align differs from /master's" -- \
		"$rpk" run "$out/rings.dts" --node master
	variant bells "s/mboxes = <&mbox 1>, <&mbox 0>;/mboxes = <\&mbox 1>, <\&mbox 2>;/"
	expect 1 "/remote: its doorbells are not /master's crossed" -- "$rpk" run "$out/bells.dts" --node master
	variant masters 's/rpk,role = "remote";/rpk,role = "master";/'
	expect 1 "/remote: a link needs a master and a remote: /master has the same role" -- \
		"$rpk" run "$out/masters.dts" --node master
	variant norings "0,/rpk,vring-num = <16>;/s///"
	expect 1 "/master: missing property 'rpk,vring-num' or 'rpk,vring-align' \(both sides of a static link give them\)" -- \
		"$rpk" run "$out/norings.dts" --node master
	variant fw 's/mbox-names = "tx", "rx";/&\n\t\trpk,firmware-region = <\&fw>;/
		s/ranges;/&\n\t\tfw: firmware@20100000 { no-map; reg = <0x0 0x20100000 0x0 0x10000>; };/'
	expect 1 "a static link has no remoteproc to boot a firmware" -- "$rpk" run "$out/fw.dts" --node master
	# Toward Linux, which has no static links.
	expect 2 "Linux's rpmsg has no static links" -- \
		"$rpk" vhost-user --socket "$out/sock" --dt "$dts" --node remote
	[ -e "$out/sock" ] && fail "rpk vhost-user listened for a Linux guest on a static link"
	expect 2 "'remote' is a side of a static link: it has no resource table" -- \
		"$rpk" gen "$dts" --out "$out"

	# Symmetric buffers: a static link's, the same on both sides, each its own pool.
	sym=$src/tests/integration/symmetric16.dts
	sed -e '/rpk,role = "remote";/a rpk,buffers = "symmetric";' \
		"$src/tests/integration/link16.dts" >"$out/sym-rsc.dts"
	expect 1 "rpk,buffers = \"symmetric\" is for static links" -- \
		"$rpk" run "$out/sym-rsc.dts" --node remote
	sed -e '0,/rpk,buffers = "symmetric";/s//rpk,buffers = "classic";/' "$sym" >"$out/mixed.dts"
	expect 1 "/remote: rpk,buffers differs from /master's" -- "$rpk" run "$out/mixed.dts" --node remote
	sed -e 's/rpk,buffers = "symmetric";/rpk,buffers = "classic";/' "$sym" >"$out/two-pools.dts"
	expect 1 "/remote: names another \"buffer\" region than /master: on a classic link both sides name the master's pool" -- \
		"$rpk" run "$out/two-pools.dts" --node remote
	sed -e 's/<&link0>, <&vring0>, <&vring1>, <&remote_pool>/<\&link0>, <\&vring0>, <\&vring1>, <\&master_pool>/' \
		"$sym" >"$out/one-pool.dts"
	expect 1 "each side names its own \"buffer\" region" -- "$rpk" run "$out/one-pool.dts" --node remote
	sed -e 's/reg = <0x0 0x200cc000 0x0 0x2000>;/reg = <0x0 0x200cc000 0x0 0x1000>;/' "$sym" >"$out/small-pool.dts"
	expect 1 "need 0x2000 bytes \(one direction's: symmetric\), the region has 0x1000" -- \
		"$rpk" run "$out/small-pool.dts" --node remote
	sed -e 's/rpk,buffers = "symmetric";/rpk,buffers = "mine";/' "$sym" >"$out/bad-model.dts"
	expect 1 "rpk,buffers must be \"classic\" or \"symmetric\"" -- "$rpk" run "$out/bad-model.dts" --node remote
	;;
*)
	echo "static.sh: unknown case $case_" >&2
	exit 2
	;;
esac
finish "static.$case_${4:+ on $4}"
