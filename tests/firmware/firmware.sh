#!/usr/bin/env bash
# The remote firmware on real instruction sets, in QEMU, its RAM a file the
# host's master maps (rpk run --memory-file), both sides polling:
# examples/firmware/mps2-an386 (Cortex-M4) and, for cases named a53-*,
# examples/firmware/qemu-virt-a53 (AArch64 on virt's Cortex-A53, MMU and
# data cache on, as the seeds' remote).
#   firmware.sh CASE RPK SRCDIR
#   echo    10 000 echoes of 1..496 bytes, all checked; the master leaves
#           (detach) and a second one attaches and gets 1000 more; the
#           firmware reports its stack high-water mark
#   reset   QEMU resets the board (system_reset through its monitor) under a
#           running master: the master sees the remote gone and attaches to
#           the table the rebooted firmware lays out; then, the board paused,
#           that master leaves and the next attaches: the firmware, which saw
#           DRIVER_OK throughout, finds the rings laid out anew and serves it
#   corrupt another writer moves the available index of the ring the master
#           sends in: the firmware finds the ring broken, asks for a reset
#           (DEVICE_NEEDS_RESET, counted by the master), and is served again
#   fault   a firmware that faults: its handler names the fault on the console
#   irq     the firmware that takes the master's doorbell as UART1's receive
#           interrupt and rings back through UART1 (fw-irq.elf), QEMU's UART on
#           a socket the master holds (--doorbell-socket), the master sleeping:
#           10 000 checked echoes, doorbells counted on both sides; then the
#           round trip of both ways, same run (polling: fw.elf, both spin)
#   hosts   no QEMU: both sides host processes on the board's RAM file, as
#           rpk run --memory-file serves a remote in an emulator: the master
#           verifies the remote's pid by that file and links (1000 echoes);
#           a remote killed leaves its table, which a master names as a dead
#           remote's; again with doorbells through rpk ivshmem-server
#   options --memory-file refused by name: missing, too small, a region below
#           its base, a bad base, a file others may read
#   a53-echo, a53-reset, a53-corrupt   the same on AArch64
#   a53-mmu a firmware whose MMU list (rpk gen's mmu_regions.h) lacks the
#           buffer pool: its first use of a buffer is a translation fault,
#           which the exception handler names with the address; the master
#           gets no service and says so
# Exits 77 without QEMU or the board's cross compiler (scripts/deps installs them).
set -uo pipefail
case_=$1 rpk=$(realpath "$2") src=$3
case $case_ in
a53-*)
	board=qemu-virt-a53 dts=$src/examples/dts/qemu-virt-a53.dts
	base=0x40000000 ram_size=256M table=0x4f0c63b8
	tools=(qemu-system-aarch64 aarch64-linux-gnu-gcc)
	# -nic none: virt adds a virtio NIC by default, whose option ROM
	# (efi-virtio.rom) a fresh Debian does not have.
	machine=(qemu-system-aarch64 -machine virt -cpu cortex-a53 -m $ram_size -nic none)
	case_=${case_#a53-}
	;;
*)
	board=mps2-an386 dts=$src/examples/dts/qemu-mps2-an386.dts
	base=0x21000000 ram_size=16M table=0x210003b8
	tools=(qemu-system-arm arm-none-eabi-gcc)
	machine=(qemu-system-arm -machine mps2-an386 -cpu cortex-m4)
	;;
esac
for tool in "${tools[@]}" python3; do
	command -v "$tool" >/dev/null || {
		echo "firmware: $tool is missing; skipped"
		exit 77
	}
done
# Our own instance: tests of both boards run at once, and a master's
# counters page is named by instance and node.
inst=fw-$$
source "$src/tests/cli/lib.sh"
ram=$out/ram.bin

build() { # build OUT [MMU_REGIONS_H]: the board's firmware
	bash "$src/examples/firmware/$board/build.sh" "$rpk" "$@" >"$out/build.log" 2>&1 ||
		{ cat "$out/build.log" >&2; exit 1; }
}
build "$out/fw"
# The board's RAM, ours alone (docs/access.md: no other user may read it).
(umask 077 && truncate -s $ram_size "$ram")

# qemu IMAGE [QEMU ARGS]: the board in the background, its console in
# $out/console.log.
qemu() {
	local image=$1
	shift
	"${machine[@]}" -nographic \
		-object memory-backend-file,id=ram,size=$ram_size,mem-path="$ram",share=on \
		-machine memory-backend=ram -serial file:"$out/console.log" "$@" \
		-monitor unix:"$out/monitor",server=on,wait=off -kernel "$image" >"$out/qemu.log" 2>&1 &
	pids+=($!)
}

# per_echo_us NS COUNT: microseconds per echo of COUNT echoes that took NS.
per_echo_us() {
	echo $(($1 / $2 / 1000))
}

master() { # master [args]: our master on the firmware's link
	"$rpk" run "$dts" --instance "$inst" --node master --memory-file "$ram" --memory-base $base --polling \
		--timeout 20000 "$@"
}

case $case_ in
echo)
	qemu "$out/fw/fw.elf"
	wait_for "$out/console.log" "resource table at $table, waiting for a master"
	expect 0 "10000/10000 messages came back intact" -- master --count 10000
	cat "$out/log"
	wait_for "$out/console.log" "link down, waiting for a master \(echoed 10000, lost 0,"
	expect 0 "1000/1000 messages came back intact" -- master --count 1000
	wait_for "$out/console.log" "link down, waiting for a master \(echoed 11000, lost 0,"
	[ "$(grep -c "master attached" "$out/console.log")" = 2 ] || fail "not two attaches"
	grep -o "stack used [0-9]* of [0-9]* bytes" "$out/console.log" | tail -1
	;;
reset)
	qemu "$out/fw/fw.elf"
	wait_for "$out/console.log" "waiting for a master"
	# Started as rpk itself (not a shell function), so a signal reaches it.
	"$rpk" run "$dts" --instance "$inst" --node master --memory-file "$ram" --memory-base $base --polling \
		--timeout 20000 >"$out/master.log" 2>&1 &
	pids+=($!)
	wait_for "$out/console.log" "master attached"
	# The monitor's prompt after the command: it was carried out.
	python3 "$src/examples/firmware/qemu-monitor.py" "$out/monitor" system_reset || fail "no monitor"
	# The firmware starts over, lays its table out again; the master, which
	# saw its remote gone, attaches once more.
	for _ in $(seq 400); do
		[ "$(grep -c "master attached" "$out/console.log")" -ge 2 ] && break
		sleep 0.05
	done
	[ "$(grep -c "master attached" "$out/console.log")" -ge 2 ] ||
		fail "the master did not attach to the rebooted firmware: $(cat "$out/master.log")"
	grep -q "resource table at $table" "$out/console.log" || fail "no table after the reset"
	# Its counter page trails the link by up to a watchdog period.
	for _ in $(seq 200); do
		"$rpk" stat "$dts" --instance "$inst" --node master >"$out/stat" 2>&1
		grep -q "attaches 2, crashes 1" "$out/stat" && break
		sleep 0.05
	done
	grep -q "attaches 2, crashes 1" "$out/stat" || fail "rpk stat: $(cat "$out/stat")"
	# A master leaves and the next attaches while the board is paused: the
	# firmware never sees DRIVER_OK gone, only rings laid out anew under it
	# (as when its CPU is busy elsewhere between two looks); it serves the
	# new master all the same.
	monitor() { python3 "$src/examples/firmware/qemu-monitor.py" "$out/monitor" "$1" || fail "no monitor"; }
	monitor stop
	kill -INT "${pids[-1]}"
	wait "${pids[-1]}"
	master --count 1000 >"$out/next-master.log" 2>&1 &
	next=$!
	wait_for "$out/next-master.log" "attached to the remote's resource table"
	monitor cont
	wait $next || fail "the next master: exit $?"
	grep -q "1000/1000 messages came back intact" "$out/next-master.log" || fail "the next master got no echoes"
	[ "$(grep -c "master attached" "$out/console.log")" = 3 ] || fail "not a third attach"
	;;
corrupt)
	qemu "$out/fw/fw.elf"
	wait_for "$out/console.log" "waiting for a master"
	"$rpk" run "$dts" --instance "$inst" --node master --memory-file "$ram" --memory-base $base --polling \
		--timeout 20000 >"$out/master.log" 2>&1 &
	pids+=($!)
	wait_for "$out/console.log" "master attached"
	# Someone else writes the master's send ring: its available index jumps
	# by half the index space. The firmware finds the ring broken, asks for a
	# reset (DEVICE_NEEDS_RESET), and the master resets the link; the
	# firmware serves it again on the rings laid out anew.
	python3 - "$ram" $((table - base)) $base <<'PY' || fail "cannot corrupt the ring"
import struct, sys
ram, off, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 0)
with open(ram, "r+b") as f:
    f.seek(off)
    table = f.read(4096)
    ver, num = struct.unpack_from("<II", table)
    for entry in struct.unpack_from("<%dI" % num, table, 16):
        if struct.unpack_from("<I", table, entry)[0] == 3:  # RSC_VDEV
            # fw_rsc_vdev (24 bytes of fields, status, num_of_vrings, 2 reserved),
            # then fw_rsc_vdev_vring {da, align, num, notifyid, pa}: vring 1
            # is the one the master sends in.
            da, align, qnum = struct.unpack_from("<III", table, entry + 28 + 20)
            idx = da - base + 16 * qnum + 2
            f.seek(idx)
            old = struct.unpack("<H", f.read(2))[0]
            f.seek(idx)
            f.write(struct.pack("<H", (old + 0x8000) & 0xFFFF))
            break
    else:
        sys.exit("no vdev in the table")
PY
	for _ in $(seq 400); do
		[ "$(grep -c "master attached" "$out/console.log")" -ge 2 ] && break
		sleep 0.05
	done
	[ "$(grep -c "master attached" "$out/console.log")" -ge 2 ] ||
		fail "the firmware was not served again: $(cat "$out/master.log")"
	for _ in $(seq 200); do
		"$rpk" stat "$dts" --instance "$inst" --node master >"$out/stat" 2>&1
		grep -q "requested (DEVICE_NEEDS_RESET) 1," "$out/stat" && break
		sleep 0.05
	done
	grep -q "requested (DEVICE_NEEDS_RESET) 1," "$out/stat" || fail "rpk stat: $(cat "$out/stat")"
	kill -INT "${pids[-1]}"
	wait "${pids[-1]}"
	expect 0 "1000/1000 messages came back intact" -- master --count 1000
	;;
options)
	# --memory-file refused by name: missing, too small, regions below its base.
	expect 1 "$out/none: No such file or directory" -- \
		"$rpk" run "$dts" --instance "$inst" --node master --memory-file "$out/none" --memory-base $base --timeout 100
	(umask 077 && truncate -s 8K "$out/small.bin")
	expect 1 "small.bin: 8192 bytes, ending before 0x2000 \+ 0x1000" -- \
		"$rpk" run "$dts" --instance "$inst" --node master --memory-file "$out/small.bin" --memory-base $base --timeout 100
	expect 1 "/reserved-memory/rsc-table@21000000: at 0x21000000, below the memory file's base 0x21001000" -- \
		"$rpk" run "$dts" --instance "$inst" --node master --memory-file "$ram" --memory-base 0x21001000 --timeout 100
	expect 2 "--memory-base 'x' is not an address" -- \
		"$rpk" run "$dts" --instance "$inst" --node master --memory-file "$ram" --memory-base x
	# A doorbell socket nobody listens on.
	expect 1 "doorbell socket $out/none.sock: No such file or directory" -- \
		"$rpk" run "$dts" --instance "$inst" --node master --memory-file "$ram" --memory-base $base \
		--doorbell-socket "$out/none.sock" --timeout 100
	chmod 0644 "$ram"
	expect 1 "ram.bin" -- "$rpk" run "$dts" --instance "$inst" --node master --memory-file "$ram" --memory-base $base --timeout 100
	;;
mmu)
	# rpk gen's list without the buffer pool (its last entry: the line
	# before ends in a backslash, which an empty line closes).
	(grep -v '"VDEV0BUFFER"' "$out/fw/gen/mmu_regions.h" && echo) >"$out/regions.h"
	grep -q '"VRING1"' "$out/regions.h" && ! grep -q '"VDEV0BUFFER"' "$out/regions.h" ||
		fail "mmu_regions.h is not as this test expects: $(cat "$out/fw/gen/mmu_regions.h")"
	build "$out/nobuf" "$out/regions.h"
	qemu "$out/nobuf/fw.elf"
	wait_for "$out/console.log" "MMU on, 7 regions mapped"
	wait_for "$out/console.log" "waiting for a master"
	expect 1 "no service announced" -- master --count 10 --timeout 3000
	# The name service's first message goes into the pool's first buffer.
	wait_for "$out/console.log" \
		"data abort, translation fault \(not mapped\) at pc 0x0*4f0[0-9a-f]{5}, address 0x0*4f0ca[0-9a-f]{3}, ESR 0x96"
	;;
irq)
	qemu "$out/fw/fw-irq.elf" -serial unix:"$out/bell.sock",server=on,wait=off
	wait_for "$out/console.log" "waiting for a master"
	t0=$(date +%s%N)
	expect 0 "10000/10000 messages came back intact" -- \
		"$rpk" run "$dts" --instance "$inst" --node master --memory-file "$ram" --memory-base $base \
		--doorbell-socket "$out/bell.sock" --timeout 20000 --count 10000
	t_irq=$(($(date +%s%N) - t0))
	cat "$out/log"
	# The master slept, and the firmware's bytes woke it...
	woken=$(sed -n 's/.*woken \([0-9]*\) times.*/\1/p' "$out/log")
	[ "${woken:-0}" -gt 0 ] || fail "the master was never woken by the firmware's doorbell"
	# ...and the master's bytes reached the firmware as interrupts.
	wait_for "$out/console.log" "link down, waiting for a master \(echoed 10000, lost 0, doorbell interrupts [1-9]"
	grep -o "stack used [0-9]* of [0-9]* bytes" "$out/console.log" | tail -1
	# Every knock is an interrupt: a lost one leaves the firmware asleep
	# until its tick (10 ms), and a stuck receiver loses all that follow.
	knocks=$(grep -o "doorbell interrupts [0-9]*" "$out/console.log" | tail -1 | grep -o "[0-9]*$")
	kicks=$(sed -n 's/.*master -> remote: [0-9]* messages, \([0-9]*\) kicks.*/\1/p' "$out/log")
	echo "the master's kicks: ${kicks:-?}; the firmware's doorbell interrupts: ${knocks:-?}"
	[ $((${knocks:-0} * 10)) -ge $((${kicks:-1} * 9)) ] ||
		fail "${knocks:-no} doorbell interrupts for ${kicks:-no} kicks"
	# The same echoes with both sides polling, on the polling image, for
	# the round trip of each (a figure, not an assertion).
	ram=$out/ram-poll.bin
	(umask 077 && truncate -s $ram_size "$ram")
	mv "$out/console.log" "$out/console-irq.log"
	qemu "$out/fw/fw.elf"
	wait_for "$out/console.log" "waiting for a master"
	t0=$(date +%s%N)
	expect 0 "10000/10000 messages came back intact" -- master --count 10000
	t_poll=$(($(date +%s%N) - t0))
	echo "echo round trip through QEMU, 10 000 of 1..496 bytes, the master's start included:" \
		"interrupts $(per_echo_us $t_irq 10000) us, polling $(per_echo_us $t_poll 10000) us"
	;;
hosts)
	"$rpk" run "$dts" --instance "$inst" --node remote --memory-file "$ram" --memory-base $base --timeout 20000 \
		>"$out/remote.log" 2>&1 &
	pids+=($!)
	expect 0 "1000/1000 messages came back intact" -- \
		"$rpk" run "$dts" --instance "$inst" --node master --memory-file "$ram" --memory-base $base --count 1000 \
		--timeout 20000
	grep -q "it does not sign" "$out/log" && fail "the master did not verify the remote's pid"
	# A remote killed leaves its signed table in the file: a master waits
	# for a live one, and says why it found none.
	kill -9 "${pids[-1]}"
	wait "${pids[-1]}" 2>/dev/null
	expect 1 "the table there was laid out by a remote that is gone \(session [0-9]+\), and no live remote published one" -- \
		"$rpk" run "$dts" --instance "$inst" --node master --memory-file "$ram" --memory-base $base \
		--count 10 --timeout 500
	"$rpk" ivshmem-server "$out/ivshmem.sock" >"$out/server.log" 2>&1 &
	pids+=($!)
	wait_for "$out/server.log" "listening on"
	"$rpk" run "$dts" --instance "$inst" --node remote --memory-file "$ram" --memory-base $base --timeout 20000 \
		--ivshmem "$out/ivshmem.sock" >"$out/remote.log" 2>&1 &
	pids+=($!)
	wait_for "$out/server.log" "peer 0 joined"
	expect 0 "1000/1000 messages came back intact" -- \
		"$rpk" run "$dts" --instance "$inst" --node master --memory-file "$ram" --memory-base $base --count 1000 \
		--timeout 20000 --ivshmem "$out/ivshmem.sock"
	grep -q "peer 1 joined" "$out/server.log" || fail "the master did not join the server"
	;;
fault)
	qemu "$out/fw/fault.elf"
	wait_for "$out/console.log" "rpk firmware: hard fault at pc 0x[0-9a-f]{8}, CFSR 0x[0-9a-f]{8}, HFSR 0x40000000, BFAR 0xf0000000"
	;;
*)
	echo "firmware.sh: unknown case $case_" >&2
	exit 2
	;;
esac
finish "firmware.$case_"
