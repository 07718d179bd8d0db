#!/usr/bin/env bash
# rpk dtb patch and rpk rsc check (docs/dtb-patch.md), one case per run:
#   roundtrip  firmware ELFs (rpk gen's table, tests/dtb/fw_table.c) whose
#              .resource_table lies where a devicetree says; the devicetree's
#              rpk,rsc-offset/rpk,rsc-size stripped, patched back, read with
#              fdtget, and the patched blob passes rpk rsc check
#   errors     bad firmware, bad devicetrees, a table no region holds: each a
#              non-zero exit and the message that says why
#   check      rpk rsc check names every mismatch, one line each
# usage: dtb.sh CASE RPK ROOT
set -uo pipefail
case_=$1
rpk=$2
root=$3
here=$root/tests/dtb
. "$root/tests/cli/lib.sh"

seed=$root/examples/dts/seed-tcc807x.dts
rsc=/reserved-memory/rsc-table@200c6000

# fw NAME ADDR [CFLAGS...]: tests/dtb/fw_table.c for Cortex-M, its table linked at ADDR.
fw() {
	local name=$1 at=$2
	shift 2
	arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -std=c11 -ffreestanding -Os -Wall -Werror \
		-I"$root/include" "$@" -c "$here/fw_table.c" -o "$out/$name.o" &&
		arm-none-eabi-ld -e 0 --section-start=.resource_table="$at" "$out/$name.o" \
			-o "$out/$name.elf" || fail "could not build firmware $name"
}

# gen_fw NAME ADDR: rpk gen's resource_table.c for the seeds' link, linked at ADDR.
gen_fw() {
	mkdir -p "$out/gen"
	"$rpk" gen "$seed" --out "$out/gen" >/dev/null || fail "rpk gen failed"
	arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -std=c11 -ffreestanding -Os -Wall -Werror \
		-c "$out/gen/resource_table.c" -I"$out/gen" -o "$out/$1.o" &&
		arm-none-eabi-ld -e 0 --section-start=.resource_table="$2" "$out/$1.o" -o "$out/$1.elf" ||
		fail "could not build firmware $1"
}

# strip DTB NODE: drop rpk,rsc-offset and rpk,rsc-size from NODE.
strip_rsc() {
	fdtput -d "$1" "$2" rpk,rsc-offset && fdtput -d "$1" "$2" rpk,rsc-size ||
		fail "fdtput could not strip $2 of $1"
}

# props DTB NODE WANT: fdtget reads "OFFSET SIZE" (hex) from NODE.
props() {
	local got
	got="$(fdtget -t x "$1" "$2" rpk,rsc-offset) $(fdtget -t x "$1" "$2" rpk,rsc-size)"
	[ "$got" = "$3" ] || fail "$1: $2 holds rpk,rsc-offset/rpk,rsc-size '$got', want '$3'"
}

# set_section FILE SECTION FIELD VALUE: overwrite sh_offset or sh_size of a
# section of an ELF32 little-endian image, to make it lie.
set_section() {
	python3 - "$@" <<'EOF'
import struct, sys
path, name, field, value = sys.argv[1], sys.argv[2].encode(), sys.argv[3], int(sys.argv[4], 0)
b = bytearray(open(path, 'rb').read())
shoff, = struct.unpack_from('<I', b, 32)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', b, 46)
names, = struct.unpack_from('<I', b, shoff + shstrndx * shentsize + 16)
for i in range(shnum):
    h = shoff + i * shentsize
    n, = struct.unpack_from('<I', b, h)
    if bytes(b[names + n:]).split(b'\0')[0] == name:
        struct.pack_into('<I', b, h + {'offset': 16, 'size': 20}[field], value)
open(path, 'wb').write(b)
EOF
}

dtc -q -I dts -O dtb -o "$out/seed.dtb" "$seed"
cp "$out/seed.dtb" "$out/bare.dtb"
strip_rsc "$out/bare.dtb" "$rsc"

roundtrip() {
	# rpk gen's table where the seeds' devicetree puts it (seed 000: nm says
	# 0x200c63b8), into a devicetree without the properties: they come back.
	gen_fw gen 0x200c63b8
	expect 0 "$rsc: rpk,rsc-offset = <0x3b8>, rpk,rsc-size = <0x58> .* for /master" -- \
		"$rpk" dtb patch --firmware "$out/gen.elf" "$out/bare.dtb" "$out/patched.dtb"
	props "$out/patched.dtb" "$rsc" "3b8 58"
	[ "$(stat -c %s "$out/patched.dtb")" -gt "$(stat -c %s "$out/bare.dtb")" ] ||
		fail "the patched blob did not grow"
	fdtget "$out/patched.dtb" /remote rpk,services >/dev/null || fail "the rest of the blob is gone"
	for node in remote master; do
		expect 0 'firmware and devicetree agree: table at 0x200c63b8 \(0x58 bytes\)' -- \
			"$rpk" rsc check "$out/gen.elf" --dt "$out/patched.dtb" --node $node
	done
	# Every way to name the side that must find the table, and the region itself.
	for node in master /remote rsc-table rsc-table@200c6000 "$rsc"; do
		expect 0 "rpk,rsc-offset = <0x3b8>" -- "$rpk" dtb patch --firmware "$out/gen.elf" \
			--node "$node" "$out/bare.dtb" "$out/named.dtb"
		props "$out/named.dtb" "$rsc" "3b8 58"
	done
	# In place (OUT is IN), and again over its own output: same values.
	cp "$out/bare.dtb" "$out/inplace.dtb"
	for i in 1 2; do
		expect 0 "rpk,rsc-offset = <0x3b8>" -- \
			"$rpk" dtb patch --firmware "$out/gen.elf" "$out/inplace.dtb" "$out/inplace.dtb"
	done
	props "$out/inplace.dtb" "$rsc" "3b8 58"
	cmp -s "$out/inplace.dtb" "$out/patched.dtb" || fail "patching twice changed the blob"

	# The table moved in the firmware: the patch follows it, the seeds'
	# devicetree no longer matches it, the patched one does. The room the
	# seeds give the table (rpk,rsc-size 0x1000) still fits: it stays.
	gen_fw moved 0x200c6800
	expect 0 "rpk,rsc-offset = <0x800>" -- \
		"$rpk" dtb patch --firmware "$out/moved.elf" "$out/seed.dtb" "$out/moved.dtb"
	props "$out/moved.dtb" "$rsc" "800 1000"
	# Too little room for the table: it becomes the table's size.
	cp "$out/seed.dtb" "$out/tight.dtb" && fdtput -t x "$out/tight.dtb" "$rsc" rpk,rsc-size 40
	expect 0 "rpk,rsc-size = <0x58>" -- \
		"$rpk" dtb patch --firmware "$out/gen.elf" "$out/tight.dtb" "$out/tight2.dtb"
	props "$out/tight2.dtb" "$rsc" "3b8 58"
	expect 1 'mismatch: table address: firmware 0x200c6800, devicetree 0x200c63b8' -- \
		"$rpk" rsc check "$out/moved.elf" --dt "$seed" --node remote
	expect 0 'agree' -- "$rpk" rsc check "$out/moved.elf" --dt "$out/moved.dtb" --node remote

	# The same table from the host compiler (ELF64) and big-endian (ELF32 MSB).
	gcc -std=c11 -c "$out/gen/resource_table.c" -I"$out/gen" -o "$out/host.o" &&
		ld -e 0 --section-start=.resource_table=0x200c63b8 "$out/host.o" -o "$out/host.elf" ||
		fail "could not build the ELF64 firmware"
	expect 0 "rpk,rsc-offset = <0x3b8>, rpk,rsc-size = <0x58>" -- \
		"$rpk" dtb patch --firmware "$out/host.elf" "$out/bare.dtb" "$out/host.dtb"
	props "$out/host.dtb" "$rsc" "3b8 58"
	arm-none-eabi-gcc -mbig-endian -mcpu=cortex-r5 -std=c11 -ffreestanding -Os -I"$root/include" \
		-c "$here/fw_table.c" -o "$out/be.o" &&
		arm-none-eabi-ld -EB -e 0 --section-start=.resource_table=0x200c63b8 "$out/be.o" \
			-o "$out/be.elf" || fail "could not build the big-endian firmware"
	readelf -h "$out/be.elf" | grep -q 'big endian' || fail "be.elf is not big-endian"
	expect 0 "rpk,rsc-offset = <0x3b8>, rpk,rsc-size = <0x94>" -- \
		"$rpk" dtb patch --firmware "$out/be.elf" "$out/bare.dtb" "$out/be.dtb"
	props "$out/be.dtb" "$rsc" "3b8 94"
	expect 0 'agree: table at 0x200c63b8 \(0x94 bytes\), 2 entries' -- \
		"$rpk" rsc check "$out/be.elf" --dt "$out/be.dtb" --node remote

	# rpk gen's Linux fragment: its rproc node (no rpk,rpmsg-link) names the region.
	expect 0 "/reserved-memory/rsc-table@200c6000: rpk,rsc-offset = <0x3b8>.* for /remoteproc" -- \
		sh -c "dtc -q -I dts -O dtb -o '$out/linux.dtb' '$out/gen/linux-rproc.dtsi' &&
			fdtput -d '$out/linux.dtb' '$rsc' rpk,rsc-offset &&
			'$rpk' dtb patch --firmware '$out/gen.elf' --node remoteproc '$out/linux.dtb' '$out/linux.dtb'"
	props "$out/linux.dtb" "$rsc" "3b8 1000" # rpk gen's room for the table stays

	# One-cell addresses, another link (tests/unit/dts/valid.dts: 0x80000000 + 0x100).
	dtc -q -I dts -O dtb -o "$out/valid.dtb" "$root/tests/unit/dts/valid.dts"
	strip_rsc "$out/valid.dtb" /reserved-memory/rsc-table@80000000
	fw onecell 0x80000100
	expect 0 "rsc-table@80000000: rpk,rsc-offset = <0x100>, rpk,rsc-size = <0x94>" -- \
		"$rpk" dtb patch --firmware "$out/onecell.elf" "$out/valid.dtb" "$out/valid-out.dtb"
	props "$out/valid-out.dtb" /reserved-memory/rsc-table@80000000 "100 94"
	finish dtb.roundtrip
}

errors() {
	gen_fw gen 0x200c63b8
	local patch=("$rpk" dtb patch --firmware)
	# Firmware without the section, or without its contents.
	gcc -c -x c /dev/null -o "$out/empty.o"
	expect 1 'empty.o: the firmware has no .resource_table section' -- \
		"${patch[@]}" "$out/empty.o" "$out/bare.dtb" "$out/x.dtb"
	printf '.section .resource_table,"aw",@nobits\n.space 4096\n' |
		gcc -c -x assembler - -o "$out/nobits.o"
	expect 1 'has no contents \(NOBITS\)' -- "${patch[@]}" "$out/nobits.o" "$out/bare.dtb" "$out/x.dtb"
	printf '.section .resource_table,"aw"\n.long 1\n' | gcc -c -x assembler - -o "$out/tiny.o"
	expect 1 'smaller than a resource table header \(16 bytes\)' -- \
		"${patch[@]}" "$out/tiny.o" "$out/bare.dtb" "$out/x.dtb"
	# Truncated and malformed images; a section out of range.
	head -c 30 "$out/gen.elf" >"$out/trunc.elf"
	expect 1 'trunc.elf: not an ELF image' -- "${patch[@]}" "$out/trunc.elf" "$out/bare.dtb" "$out/x.dtb"
	size=$(stat -c %s "$out/gen.elf")
	head -c $((size - 64)) "$out/gen.elf" >"$out/cut.elf"
	expect 1 'cut.elf: section header table outside the image' -- \
		"${patch[@]}" "$out/cut.elf" "$out/bare.dtb" "$out/x.dtb"
	cp "$out/gen.elf" "$out/far.elf"
	set_section "$out/far.elf" .resource_table offset 0x7ffffff0
	expect 1 "far.elf: section's bytes lie outside the image" -- \
		"${patch[@]}" "$out/far.elf" "$out/bare.dtb" "$out/x.dtb"
	cp "$out/gen.elf" "$out/long.elf"
	set_section "$out/long.elf" .resource_table size 0xfffffff0
	expect 1 "long.elf: section's bytes lie outside the image" -- \
		"${patch[@]}" "$out/long.elf" "$out/bare.dtb" "$out/x.dtb"
	cp "$out/gen.elf" "$out/order.elf"
	printf '\003' | dd of="$out/order.elf" bs=1 seek=5 conv=notrunc status=none
	expect 1 'unknown ELF data encoding \(byte order\)' -- \
		"${patch[@]}" "$out/order.elf" "$out/bare.dtb" "$out/x.dtb"
	# The devicetree: no such node, a node naming no region, a broken blob.
	expect 1 "node 'nosuch': the devicetree has no such node" -- \
		"${patch[@]}" "$out/gen.elf" --node nosuch "$out/bare.dtb" "$out/x.dtb"
	expect 1 "bare.dtb: /: the node has no memory-region \(and is no region\)" -- \
		"${patch[@]}" "$out/gen.elf" --node / "$out/bare.dtb" "$out/x.dtb"
	head -c 200 "$out/bare.dtb" >"$out/short.dtb"
	expect 1 'short.dtb: not a valid flattened devicetree' -- \
		"${patch[@]}" "$out/gen.elf" "$out/short.dtb" "$out/x.dtb"
	expect 1 'seed-tcc807x.dts: not a valid flattened devicetree' -- \
		"${patch[@]}" "$out/gen.elf" "$seed" "$out/x.dtb"
	# A table no region holds: outside them all, or across a region's end;
	# the message names the table's range and every region tried.
	gen_fw away 0x30000000
	expect 1 'no region holds the table \[0x30000000, 0x30000058\)' -- \
		"${patch[@]}" "$out/away.elf" "$out/bare.dtb" "$out/x.dtb"
	for want in 'regions tried:' "  $rsc \\[0x200c6000, 0x200c8000\\)" \
		'  /reserved-memory/vdev0buffer@200ca000 \[0x200ca000, 0x200ce000\)'; do
		grep -qE -- "$want" "$out/log" || fail "no '$want' in: $(cat "$out/log")"
	done
	gen_fw across 0x200c7fc0
	expect 1 'no region holds the table \[0x200c7fc0, 0x200c8018\) .* for /remote' -- \
		"${patch[@]}" "$out/across.elf" --node remote "$out/bare.dtb" "$out/x.dtb"
	[ ! -e "$out/x.dtb" ] || fail "a failed patch wrote its output"
	# Where the binding would break: the table in the link's vring0 region,
	# at an offset that is no multiple of 4, or a trace buffer pushed out.
	gen_fw invring 0x200c8000
	expect 1 "/remote: the table lies in a region other than the node's rsc-table region" -- \
		"${patch[@]}" "$out/invring.elf" --node remote "$out/bare.dtb" "$out/x.dtb"
	gen_fw odd 0x200c63ba
	expect 1 'not a multiple of 4' -- "${patch[@]}" "$out/odd.elf" "$out/bare.dtb" "$out/x.dtb"
	dtc -q -I dts -O dtb -o "$out/boot16.dtb" "$root/tests/integration/boot16.dts"
	gen_fw late 0x200c7800
	expect 1 'trace buffer \(rpk,trace-size\) follows the table and would no longer fit' -- \
		"${patch[@]}" "$out/late.elf" "$out/boot16.dtb" "$out/x.dtb"
	# Usage and files.
	expect 2 'need --firmware ELF, IN.dtb and OUT.dtb' -- "$rpk" dtb patch "$out/bare.dtb" "$out/x.dtb"
	expect 1 'cannot write it' -- "${patch[@]}" "$out/gen.elf" "$out/bare.dtb" "$out/no/such/dir.dtb"
	expect 1 'nosuch.elf: No such file' -- "${patch[@]}" "$out/nosuch.elf" "$out/bare.dtb" "$out/x.dtb"
	# Garbage never crashes it: exit 1, not a signal.
	for i in $(seq 20); do
		head -c $((i * 97)) /dev/urandom >"$out/junk"
		printf '\x7fELF\x01\x01\x01' | cat - "$out/junk" >"$out/junk.elf"
		"${patch[@]}" "$out/junk.elf" "$out/bare.dtb" "$out/x.dtb" >/dev/null 2>&1
		code=$?
		[ $code -eq 1 ] || fail "ELF garbage $i: exit $code"
		{ head -c 40 "$out/bare.dtb"; cat "$out/junk"; } >"$out/junk.dtb"
		"${patch[@]}" "$out/gen.elf" "$out/junk.dtb" "$out/x.dtb" >/dev/null 2>&1
		code=$?
		[ $code -eq 1 ] || fail "devicetree garbage $i: exit $code"
	done
	finish dtb.errors
}

check() {
	local check=("$rpk" rsc check)
	fw good 0x200c63b8
	expect 0 'firmware and devicetree agree: table at 0x200c63b8 \(0x94 bytes\), 2 entries' -- \
		"${check[@]}" "$out/good.elf" --dt "$seed" --node remote
	# One thing wrong at a time, then all of them: every one named.
	fw vring 0x200c63b8 -DVRING0_DA=0x200c8100u
	expect 1 '^mismatch: vring0 da: firmware 0x200c8100, devicetree 0x200c8000 \(/reserved-memory/vdev0vring0@200c8000\)$' -- \
		"${check[@]}" "$out/vring.elf" --dt "$seed" --node remote
	fw carveout 0x200c63b8 -DBUF_LEN=0x2000u
	expect 1 '^mismatch: carveout "vdev0buffer" len: firmware 0x2000, devicetree 0x4000 \(/reserved-memory/vdev0buffer@200ca000\)$' -- \
		"${check[@]}" "$out/carveout.elf" --dt "$seed" --node remote
	fw offset 0x200c6400
	expect 1 '^mismatch: table address: firmware 0x200c6400, devicetree 0x200c63b8 \(/reserved-memory/rsc-table@200c6000 \+ rpk,rsc-offset 0x3b8\)$' -- \
		"${check[@]}" "$out/offset.elf" --dt "$seed" --node master
	fw all 0x200c6400 -DVRING0_DA=0x200c8100u -DBUF_LEN=0x2000u -DVRING_NUM=32u
	expect 1 '^5 mismatches$' -- "${check[@]}" "$out/all.elf" --dt "$seed" --node remote
	for want in '^mismatch: table address: firmware 0x200c6400, devicetree 0x200c63b8' \
		'^mismatch: vring0 da: firmware 0x200c8100, devicetree 0x200c8000' \
		'^mismatch: vring0 num: firmware 32, devicetree 16 \(rpk,vring-num of /remote\)$' \
		'^mismatch: vring1 num: firmware 32, devicetree 16' \
		'^mismatch: carveout "vdev0buffer" len: firmware 0x2000, devicetree 0x4000'; do
		grep -qE -- "$want" "$out/log" || fail "no '$want' in: $(cat "$out/log")"
	done
	[ "$(grep -c '^mismatch:' "$out/log")" = 5 ] || fail "not 5 mismatch lines: $(cat "$out/log")"
	# The master gives no ring geometry: its link's remote does.
	expect 1 '^mismatch: vring1 num: firmware 32, devicetree 16 \(rpk,vring-num of /remote\)$' -- \
		"${check[@]}" "$out/all.elf" --dt "$seed" --node master
	# A table larger than rpk,rsc-size; a trace buffer on one side only.
	sed 's/rpk,rsc-size = <0x1000>;/rpk,rsc-size = <0x40>;/' "$seed" >"$out/small.dts"
	expect 1 '^mismatch: table size: firmware 0x94, devicetree 0x40 \(rpk,rsc-size' -- \
		"${check[@]}" "$out/good.elf" --dt "$out/small.dts" --node remote
	expect 1 '^mismatch: trace buffer: firmware none, devicetree 0x800 bytes at 0x200c73c0' -- \
		"${check[@]}" "$out/good.elf" --dt "$root/tests/integration/boot16.dts" --node remote
	arm-none-eabi-gcc -std=c11 -mcpu=cortex-m4 -mthumb -ffreestanding -nostdlib -Os \
		-I"$root/include" -Wl,-T,"$root/examples/firmware/boot_fw.ld" -Wl,--no-warn-rwx-segments \
		"$root/examples/firmware/boot_fw.c" -o "$out/boot.elf" || fail "could not build boot_fw"
	expect 0 'agree' -- "${check[@]}" "$out/boot.elf" --dt "$root/tests/integration/boot16.dts" \
		--node remote
	expect 1 '^mismatch: trace "rpk-trace": firmware da 0x200c73c0 len 0x800, devicetree none' -- \
		"${check[@]}" "$out/boot.elf" --dt "$seed" --node remote
	# Bad input: exit 2, and why.
	expect 2 "has no node 'nosuch'" -- "${check[@]}" "$out/good.elf" --dt "$seed" --node nosuch
	gcc -c -x c /dev/null -o "$out/empty.o"
	expect 2 'the firmware has no .resource_table section' -- \
		"${check[@]}" "$out/empty.o" --dt "$seed" --node remote
	head -c 40 "$out/good.elf" >"$out/trunc.elf"
	expect 2 'trunc.elf: .*(header|outside|not an ELF)' -- \
		"${check[@]}" "$out/trunc.elf" --dt "$seed" --node remote
	expect 2 'devicetree rejected' -- "${check[@]}" "$out/good.elf" --dt "$out/bare.dtb" --node remote
	expect 2 'need one ELF image, --dt FILE and --node NAME' -- "${check[@]}" "$out/good.elf"
	finish dtb.check
}

case $case_ in
roundtrip | errors | check) $case_ ;;
*)
	echo "dtb.sh: unknown case '$case_'" >&2
	exit 2
	;;
esac
