#!/usr/bin/env bash
# rpk up's endpoint devices (docs/chardev.md), one case per CTest test:
#   chardev.sh CASE RPK COMPAT SRCDIR
#   compat    tests/chardev/rpmsg_char_compat.c (written against <linux/rpmsg.h>
#             only) passes against rpk's files, as it does against the kernel's
#   reset     the remote goes (SIGTERM, then SIGKILL): readers get EPIPE,
#             rpmsg_ctrl0 leaves and comes back
#   stream    seed 004's channel devices from the devicetree: echo and cat,
#             a shell `read`, the counters (interrupts, stats/)
#   bad_input a reader that never reads, a client killed mid-read, writes too
#             long, ioctls on the wrong file: errors and counted drops, and the
#             service still serves
#   service   `rpk up FILE` starts every node; SIGTERM stops them cleanly
#   access    the files are their user's; --group lets that group in (a second
#             uid, nobody, with and without the group)
# FUSE needs /dev/fuse and root (CI has both): exit 77 (skipped) without.
set -uo pipefail
case_=$1 rpk=$(realpath "$2") compat=$(realpath "$3") src=$4
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/fuse ]; then
	echo "chardev: needs root and /dev/fuse; skipped"
	exit 77
fi
inst=chardev-$case_-$$
dts=$src/examples/dts/seed-tcc807x.dts
source "$src/tests/cli/lib.sh"
extra_cleanup() {
	# A service killed hard leaves its mount behind.
	awk -v d="$out" 'index($2, d) == 1 {print $2}' /proc/mounts | xargs -r -n1 umount -l
}

# up NODE DIR LOG: rpk up in the background (ready: wait for its readiness line).
up() {
	"$rpk" up "$dts" --node "$1" --instance "$inst" --dir "$2" >"$out/$3" 2>&1 &
	pids+=($!)
}
ready() {
	wait_for "$out/$2" "^rpk up: $1 ready"
}

remote_echo_addr() {
	sed -n 's/.*"rpmsg-client-sample" at \(0x[0-9a-f]*\).*/\1/p' "$out/remote.log" | head -1
}

case $case_ in
compat)
	start remote remote.log
	up master "$out/m" up.log
	ready master up.log
	wait_for "$out/remote.log" "serving"
	dst=$(remote_echo_addr)
	expect 0 "^PASS" -- timeout 120 "$compat" echo "$out/m" "$dst"
	cat "$out/log"
	# Round trips through the files (the figure is for the docs, not a bound).
	expect 0 "^PASS rtt .*median [0-9]+ us" -- timeout 120 "$compat" rtt "$out/m" "$dst" 200
	cat "$out/log"
	;;
reset)
	start remote remote.log
	up master "$out/m" up.log
	ready master up.log
	wait_for "$out/remote.log" "serving"
	dst=$(remote_echo_addr)
	remote=${pids[0]}
	for how in TERM KILL; do
		timeout 60 "$compat" reset "$out/m" "$dst" >"$out/reset-$how.log" 2>&1 &
		checker=$!
		wait_for "$out/reset-$how.log" "^READY" || break
		kill -"$how" "$remote"
		wait "$remote" 2>/dev/null
		# While the link is down the control file is gone, as the kernel's.
		for _ in $(seq 200); do [ -e "$out/m/rpmsg_ctrl0" ] || break; sleep 0.05; done
		[ -e "$out/m/rpmsg_ctrl0" ] && fail "SIG$how: rpmsg_ctrl0 stays while the link is down"
		start remote remote.log
		remote=${pids[-1]}
		wait "$checker" || fail "SIG$how: $(cat "$out/reset-$how.log")"
		grep -q "^PASS" "$out/reset-$how.log" && echo "SIG$how: $(tail -1 "$out/reset-$how.log")"
	done
	grep -qE "^resets: [1-9]" "$out/m/stats/link" || fail "stats/link counts no reset"
	;;
stream)
	dts=$src/tests/chardev/channel.dts
	up remote "$out/r" remote.log
	up master "$out/m" up.log
	ready remote remote.log
	ready master up.log
	for side in m r; do
		for d in rpmsg1_13 rpmsg1_15 interrupts stats/link stats/rpmsg1_13; do
			[ -e "$out/$side/$d" ] || fail "$side: no $d"
		done
	done
	# Seed 004: a write is a message, and the bytes add up on the other side.
	echo 1 >"$out/m/rpmsg1_13" || fail "echo 1 > master's rpmsg1_13"
	echo hello >"$out/m/rpmsg1_13" || fail "echo hello > master's rpmsg1_13"
	got=$(timeout 10 head -c 8 "$out/r/rpmsg1_13" | od -An -c | tr -s ' ')
	[ "$got" = " 1 \n h e l l o \n" ] || fail "stream: read '$got', want '1\\nhello\\n'"
	# A shell read takes one byte at a time: fine on a stream.
	printf 'line one\nline two\n' >"$out/r/rpmsg1_13"
	{ IFS= read -r a && IFS= read -r b; } < <(timeout 10 cat "$out/m/rpmsg1_13")
	[ "$a/$b" = "line one/line two" ] || fail "shell read on a stream: '$a' '$b'"
	# Message mode: each read one message, whatever the buffer.
	printf abc >"$out/m/rpmsg1_15"
	printf defg >"$out/m/rpmsg1_15"
	first=$(timeout 10 dd if="$out/r/rpmsg1_15" bs=64 count=1 status=none)
	second=$(timeout 10 dd if="$out/r/rpmsg1_15" bs=64 count=1 status=none)
	[ "$first/$second" = "abc/defg" ] || fail "message mode: '$first' '$second'"
	# The counters, seed 004's way and ours.
	grep -qE "^rx: [0-9]+$" "$out/r/interrupts" && grep -qE "^tx: [0-9]+$" "$out/r/interrupts" ||
		fail "interrupts: $(cat "$out/r/interrupts")"
	grep -qx "rx_msgs: 2" "$out/r/stats/rpmsg1_15" || fail "remote rpmsg1_15: $(cat "$out/r/stats/rpmsg1_15")"
	grep -qx "rx_bytes: 7" "$out/r/stats/rpmsg1_15" || fail "remote rpmsg1_15 bytes"
	grep -qx "tx_msgs: 2" "$out/m/stats/rpmsg1_15" || fail "master rpmsg1_15: $(cat "$out/m/stats/rpmsg1_15")"
	grep -qx "src: 0xd" "$out/m/stats/rpmsg1_13" || fail "rpmsg1_13 is not endpoint 13"
	expect 0 "rpmsg1_13 .*rx 2 msgs" -- "$rpk" stat "$dts" --node remote --instance "$inst" --dir "$out/r"
	;;
bad_input)
	dts=$src/tests/chardev/channel.dts
	up remote "$out/r" remote.log
	up master "$out/m" up.log
	ready remote remote.log
	ready master up.log
	# Nobody reads the remote's rpmsg1_15: its queue fills, the rest is counted.
	for i in $(seq 600); do printf 'm%04d' "$i"; done | dd of="$out/m/rpmsg1_15" bs=5 status=none ||
		fail "600 writes of 5 bytes"
	for _ in $(seq 100); do grep -qE "^drops: [1-9]" "$out/r/stats/rpmsg1_15" && break; sleep 0.05; done
	grep -qx "drops: 88" "$out/r/stats/rpmsg1_15" ||
		fail "a full queue (512 messages) drops the rest: $(cat "$out/r/stats/rpmsg1_15")"
	first=$(timeout 10 dd if="$out/r/rpmsg1_15" bs=64 count=1 status=none)
	[ "$first" = m0001 ] || fail "the first message kept is '$first', want m0001"
	# Too long for one message: EMSGSIZE, nothing sent.
	head -c 497 /dev/zero | dd of="$out/m/rpmsg1_15" bs=497 status=none 2>"$out/dd.err" &&
		fail "a 497-byte write was accepted"
	grep -q "Message too long" "$out/dd.err" || fail "497 bytes: $(cat "$out/dd.err")"
	# A stream takes it, cut into messages.
	head -c 2000 /dev/zero | tr '\0' x | dd of="$out/m/rpmsg1_13" bs=2000 status=none ||
		fail "a 2000-byte write to a stream"
	got=$(timeout 10 head -c 2000 "$out/r/rpmsg1_13" | wc -c)
	[ "$got" = 2000 ] || fail "stream: $got of 2000 bytes"
	# A reader killed while it waits: the service goes on.
	cat "$out/r/rpmsg1_15" >/dev/null &
	reader=$!
	sleep 0.3
	kill -9 $reader
	wait $reader 2>/dev/null
	printf after >"$out/m/rpmsg1_15"
	got=$(timeout 10 dd if="$out/r/rpmsg1_15" bs=64 count=1 status=none)
	[ "$got" = after ] || fail "after a killed reader: '$got'"
	# The control file takes only its ioctl; a stats file takes no write.
	printf x >"$out/m/rpmsg_ctrl0" 2>/dev/null && fail "a write to rpmsg_ctrl0 was accepted"
	printf x >"$out/m/interrupts" 2>/dev/null && fail "a write to interrupts was accepted"
	[ -e "$out/m/rpmsg7" ] && fail "rpmsg7 appeared from nowhere"
	kill -0 "${pids[0]}" "${pids[1]}" || fail "a service died"
	;;
service)
	dts=$src/tests/chardev/channel.dts
	"$rpk" up "$dts" --instance "$inst" --dir "$out/all" >"$out/up.log" 2>&1 &
	pids+=($!)
	wait_for "$out/up.log" "^rpk up: master ready"
	wait_for "$out/up.log" "^rpk up: remote ready"
	echo ping >"$out/all/master/rpmsg1_15"
	got=$(timeout 10 dd if="$out/all/remote/rpmsg1_15" bs=64 count=1 status=none)
	[ "$got" = ping ] || fail "master -> remote under rpk up FILE: '$got'"
	kill -TERM "${pids[0]}"
	wait "${pids[0]}"
	rc=$?
	[ $rc -eq 0 ] || fail "rpk up exited $rc at SIGTERM"
	grep -q "^rpk up: master stopped" "$out/up.log" || fail "no 'stopped' line"
	grep -q "$out/all" /proc/mounts && fail "a mount is left behind"
	ls /dev/shm | grep -q "rpk-$inst-" && fail "shared memory left behind: $(ls /dev/shm | grep "rpk-$inst-")"
	expect 2 "no link node named 'nope'" -- "$rpk" up "$dts" --node nope
	expect 2 "need one devicetree file" -- "$rpk" up
	;;
access)
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	"${nobody[@]}" test -x "$compat" || {
		echo "chardev.access: uid 65534 cannot run $compat; skipped"
		exit 77
	}
	group=rpk-cd-$$
	extra_cleanup() {
		awk -v d="$out" 'index($2, d) == 1 {print $2}' /proc/mounts | xargs -r -n1 umount -l
		getent group "$group" >/dev/null && groupdel "$group"
	}
	groupadd "$group" || fail "groupadd"
	gid=$(getent group "$group" | cut -d: -f3)
	chmod 755 "$out"
	# Without --group: nobody else gets in, not even to look.
	start remote remote.log
	up master "$out/m" up.log
	ready master up.log
	wait_for "$out/remote.log" "serving"
	dst=$(remote_echo_addr)
	"${nobody[@]}" ls "$out/m" >/dev/null 2>&1 && fail "another user lists a private service"
	kill -TERM "${pids[1]}" "${pids[0]}"
	wait "${pids[1]}" "${pids[0]}" 2>/dev/null
	# With --group: the group's members use the devices; others still cannot.
	start remote remote2.log --group "$group"
	"$rpk" up "$dts" --node master --instance "$inst" --dir "$out/g" --group "$group" \
		>"$out/up2.log" 2>&1 &
	pids+=($!)
	ready master up2.log
	stat -c %a:%g "$out/g/rpmsg_ctrl0" | grep -qx "660:$gid" ||
		fail "rpmsg_ctrl0 is $(stat -c %a:%g "$out/g/rpmsg_ctrl0"), want 660:$gid"
	"${nobody[@]}" cat "$out/g/interrupts" >/dev/null 2>&1 && fail "a non-member read the counters"
	expect 0 "^PASS" -- setpriv --reuid=65534 --regid=65534 --groups="$gid" \
		timeout 120 "$compat" echo "$out/g" "$dst"
	;;
*)
	echo "chardev.sh: unknown case $case_" >&2
	exit 2
	;;
esac
finish "chardev.$case_"
