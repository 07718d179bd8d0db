#!/usr/bin/env bash
# Big-endian links with real rpk processes: s390x ones under qemu-user (BE,
# the wrapper bigendian.build writes) beside this machine's own (NATIVE).
#   tools     a big-endian remote's table and trace, read by the big-endian
#             rpk rsc dump and rpk trace as they are, and by the native ones
#             byte-swapped (saying so)
#   cross     each side of a link on a CPU of the other byte order: the master
#             stops with an error naming both orders, not garbage
#   firmware  big-endian firmware images (ELF64 for s390x, ELF32 for MIPS, as
#             seed 004's): their tables dumped on either CPU, and a
#             little-endian master refusing to boot them by name
# Usage: link.sh CASE BE_RPK NATIVE_RPK ROOT. Exits 77 where the big-endian
# build is missing (bigendian.build skipped).
set -uo pipefail
case_=$1
be=$2
rpk=$3
root=$4
dts=$root/tests/integration/link16.dts
inst=bigendian-$case_-$$
if [ ! -x "$be" ] || ! command -v qemu-s390x >/dev/null; then
	echo "bigendian: $be not built or qemu-s390x missing (scripts/deps test installs it)" >&2
	exit 77
fi
. "$root/tests/cli/lib.sh"

# wait_table RPK NODE: poll (bounded, 20 s) until RPK dumps NODE's table.
wait_table() {
	for _ in $(seq 200); do
		"$1" rsc dump --dt "$dts" --node "$2" --instance "$inst" >"$out/dump" 2>&1 && return 0
		sleep 0.1
	done
	fail "no table from $2 within 20 s: $(cat "$out/dump")"
	return 1
}

# start_with RPK NODE LOG [args]: a node of link16 run by RPK, in the background.
start_with() {
	local bin=$1 node=$2 log=$3
	shift 3
	"$bin" run "$dts" --node "$node" --instance "$inst" "$@" >"$out/$log" 2>&1 &
	pids+=($!)
}

table_lines='\[0\] trace +"rpk-trace"  da 0x200c73c0  len 0x800
\[1\] vdev +id 7 \(rpmsg\)  notifyid 2  config 0 bytes
 +dfeatures 0x20000001 \(name service, event index\)  gfeatures 0x00000000  status 0x00 \(reset\)
 +vring0 +da 0x200c8000  num 16  align 64  notifyid 0  \(0x1c6 bytes\)
 +vring1 +da 0x200c9000  num 16  align 64  notifyid 1  \(0x1c6 bytes\)
no problems found'

# has_lines FILE: FILE holds the table's lines, in order.
has_lines() {
	local got
	got=$(grep -A6 '^\[0\]' "$1")
	[[ "$got" =~ ^$(echo "$table_lines" | tr '\n' '\001' | sed 's/\x01/\n/g')$ ]]
}

case "$case_" in
tools)
	start_with "$be" remote remote.log
	wait_table "$be" remote || finish "bigendian tools"
	has_lines "$out/dump" || fail "big-endian rsc dump of its own link: $(cat "$out/dump")"
	grep -q 'byte order' "$out/dump" && fail "big-endian rsc dump calls its own table swapped"
	expect 0 'byte order: big-endian, not this CPU.s: read byte-swapped' -- \
		"$rpk" rsc dump --dt "$dts" --node remote --instance "$inst"
	has_lines "$out/log" || fail "native rsc dump of the big-endian link: $(cat "$out/log")"
	for reader in "$be" "$rpk"; do
		expect 0 'resource table published at 0x200c63b8, session [1-9]' -- \
			"$reader" trace "$dts" --node remote --instance "$inst"
	done
	# rpk status of the big-endian link on its own CPU: the remote's bell
	# (its pid and session) read right, so it lives and no master came yet.
	expect 0 'detached' -- "$be" status "$dts" --node master --instance "$inst"
	grep -qE "remote +pid [0-9]+, session 1, running" "$out/log" || fail "status: $(cat "$out/log")"
	finish "bigendian tools"
	;;
cross)
	# A big-endian remote, a little-endian master; then the other way round.
	start_with "$be" remote remote-be.log
	wait_table "$be" remote
	expect 1 'the table is big-endian and this CPU little-endian .*both sides of a link must share a byte order' \
		-- "$rpk" run "$dts" --node master --instance "$inst" --count 1 --timeout 20000
	kill -9 "${pids[@]}" 2>/dev/null
	wait 2>/dev/null # (the shell reports the kill)
	rm -f /dev/shm/rpk-"$inst"-*
	pids=()
	start_with "$rpk" remote remote-le.log
	wait_table "$rpk" remote
	expect 1 'the table is little-endian and this CPU big-endian .*both sides of a link must share a byte order' \
		-- "$be" run "$dts" --node master --instance "$inst" --count 1 --timeout 20000
	finish "bigendian cross"
	;;
firmware)
	fw=$root/examples/firmware
	s390x-linux-gnu-gcc -std=c11 -ffreestanding -nostdlib -static -no-pie -fno-pic -Os \
		-I"$root/include" -Wl,-T,"$fw/boot_fw.ld" -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
		"$fw/boot_fw.c" -o "$out/s390x.elf" || fail "s390x-linux-gnu-gcc could not build the firmware"
	mips-linux-gnu-gcc -std=c11 -ffreestanding -nostdlib -static -fno-pic -mno-abicalls -Os \
		-I"$root/include" -Wl,-T,"$fw/boot_fw.ld" -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
		"$fw/boot_fw.c" -o "$out/mips.elf" || fail "mips-linux-gnu-gcc could not build the firmware"
	gcc -std=c11 -ffreestanding -nostdlib -static -no-pie -fno-pic -Os -I"$root/include" \
		-Wl,-T,"$fw/boot_fw.ld" -Wl,--build-id=none -Wl,--no-warn-rwx-segments "$fw/boot_fw.c" \
		-o "$out/native.elf" || fail "gcc could not build the firmware"
	want='vring1 +da ANY \(master allocates\)  num 16  align 64  notifyid 1'
	for img in s390x:ELF64 mips:ELF32; do
		expect 0 "${img#*:}, section .resource_table at 0x200c63b8" -- "$rpk" rsc dump "$out/${img%:*}.elf"
		grep -q 'byte order: big-endian, not this CPU.s' "$out/log" && grep -qE "$want" "$out/log" ||
			fail "native dump of ${img%:*}.elf: $(cat "$out/log")"
		expect 0 "$want" -- "$be" rsc dump "$out/${img%:*}.elf"
		grep -q 'byte order' "$out/log" && fail "big-endian dump of ${img%:*}.elf calls it swapped"
		expect 1 'firmware: the firmware is big-endian and this CPU little-endian: both sides of a link must share a byte order' \
			-- "$rpk" run "$root/tests/integration/boot16.dts" --node master --instance "$inst" \
			--firmware "$out/${img%:*}.elf" --count 1
	done
	expect 0 'byte order: little-endian, not this CPU.s' -- "$be" rsc dump "$out/native.elf"
	finish "bigendian firmware"
	;;
*)
	echo "link.sh: tools, cross or firmware, not '$case_'" >&2
	exit 2
	;;
esac
