#!/usr/bin/env bash
# The remote firmware on a real instruction set: the Cortex-M4 firmware of
# examples/firmware/mps2-an386 in QEMU (mps2-an386), its RAM a file the
# host's master maps (rpk run --memory-file), both sides polling.
#   firmware.sh CASE RPK SRCDIR
#   echo    10 000 echoes of 1..496 bytes, all checked; the master leaves
#           (detach) and a second one attaches and gets 1000 more; the
#           firmware reports its stack high-water mark
#   reset   QEMU resets the board (system_reset through its monitor) under a
#           running master: the master sees the remote gone and attaches to
#           the table the rebooted firmware lays out; echoes flow again
#   fault   a firmware that faults: its handler names the fault on the console
#   options --memory-file refused by name: missing, too small, a region below
#           its base, a bad base, a file others may read
# Exits 77 without qemu-system-arm or arm-none-eabi-gcc (scripts/deps installs them).
set -uo pipefail
case_=$1 rpk=$(realpath "$2") src=$3
for tool in qemu-system-arm arm-none-eabi-gcc python3; do
	command -v "$tool" >/dev/null || {
		echo "firmware: $tool is missing; skipped"
		exit 77
	}
done
source "$src/tests/cli/lib.sh"
dts=$src/examples/dts/qemu-mps2-an386.dts
ram=$out/ram.bin
base=0x21000000

bash "$src/examples/firmware/mps2-an386/build.sh" "$rpk" "$out/fw" >"$out/build.log" 2>&1 ||
	{ cat "$out/build.log" >&2; exit 1; }
# The board's PSRAM: 16 MiB, ours alone (docs/access.md: no other user may read it).
(umask 077 && truncate -s 16M "$ram")

# qemu IMAGE: the board in the background, its console in $out/console.log.
qemu() {
	qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic \
		-object memory-backend-file,id=ram,size=16M,mem-path="$ram",share=on \
		-machine memory-backend=ram -serial file:"$out/console.log" \
		-monitor unix:"$out/monitor",server=on,wait=off -kernel "$1" >"$out/qemu.log" 2>&1 &
	pids+=($!)
}

master() { # master [args]: our master on the firmware's link
	"$rpk" run "$dts" --node master --memory-file "$ram" --memory-base $base --polling \
		--timeout 20000 "$@"
}

case $case_ in
echo)
	qemu "$out/fw/fw.elf"
	wait_for "$out/console.log" "resource table at 0x210003b8, waiting for a master"
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
	"$rpk" run "$dts" --node master --memory-file "$ram" --memory-base $base --polling \
		--timeout 20000 >"$out/master.log" 2>&1 &
	pids+=($!)
	wait_for "$out/console.log" "master attached"
	# The monitor's prompt after the command: it was carried out.
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"system_reset\n")
seen = b""
while seen.count(b"(qemu)") < 2:
    more = s.recv(4096)
    if not more:
        sys.exit("monitor closed")
    seen += more
s.close()' "$out/monitor" || fail "no monitor"
	# The firmware starts over, lays its table out again; the master, which
	# saw its remote gone, attaches once more.
	for _ in $(seq 400); do
		[ "$(grep -c "master attached" "$out/console.log")" -ge 2 ] && break
		sleep 0.05
	done
	[ "$(grep -c "master attached" "$out/console.log")" -ge 2 ] ||
		fail "the master did not attach to the rebooted firmware: $(cat "$out/master.log")"
	grep -q "resource table at 0x210003b8" "$out/console.log" || fail "no table after the reset"
	# Its counter page trails the link by up to a watchdog period.
	for _ in $(seq 200); do
		"$rpk" stat "$dts" --node master >"$out/stat" 2>&1
		grep -q "attaches 2, crashes 1" "$out/stat" && break
		sleep 0.05
	done
	grep -q "attaches 2, crashes 1" "$out/stat" || fail "rpk stat: $(cat "$out/stat")"
	kill -INT "${pids[-1]}"
	wait "${pids[-1]}"
	expect 0 "1000/1000 messages came back intact" -- master --count 1000
	;;
options)
	# --memory-file refused by name: missing, too small, regions below its base.
	expect 1 "$out/none: No such file or directory" -- \
		"$rpk" run "$dts" --node master --memory-file "$out/none" --memory-base $base --timeout 100
	(umask 077 && truncate -s 8K "$out/small.bin")
	expect 1 "small.bin: 8192 bytes, ending before 0x2000 \+ 0x1000" -- \
		"$rpk" run "$dts" --node master --memory-file "$out/small.bin" --memory-base $base --timeout 100
	expect 1 "/reserved-memory/rsc-table@21000000: at 0x21000000, below the memory file's base 0x21001000" -- \
		"$rpk" run "$dts" --node master --memory-file "$ram" --memory-base 0x21001000 --timeout 100
	expect 2 "--memory-base 'x' is not an address" -- \
		"$rpk" run "$dts" --node master --memory-file "$ram" --memory-base x
	chmod 0644 "$ram"
	expect 1 "ram.bin" -- "$rpk" run "$dts" --node master --memory-file "$ram" --memory-base $base --timeout 100
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
