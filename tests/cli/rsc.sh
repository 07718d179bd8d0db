#!/usr/bin/env bash
# rpk rsc dump on good and bad inputs: tables from both compilers read back,
# problems are flagged, malformed tables and images give a clear error and a
# non-zero exit, never a crash.
set -uo pipefail
rpk=$1
root=$2
. "$(dirname "$0")/lib.sh"

"$rpk" gen "$root/examples/dts/seed-tcc807x.dts" --out "$out" >/dev/null
gcc -std=c11 -c "$out/resource_table.c" -I"$out" -o "$out/host.o"
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -std=c11 -ffreestanding -Os -c "$out/resource_table.c" \
	-I"$out" -o "$out/arm.o"
arm-none-eabi-objcopy -O binary --only-section=.resource_table "$out/arm.o" "$out/table.bin"
expect 0 'vring1 +da 0x200c9000  num 16  align 64  notifyid 1' -- "$rpk" rsc dump "$out/arm.o"
expect 0 'ELF64.*' -- "$rpk" rsc dump "$out/host.o"
expect 0 'no problems found' -- "$rpk" rsc dump "$out/table.bin"

# Malformed tables and images.
head -c 40 "$out/table.bin" >"$out/short.bin"
expect 1 'malformed resource table \(entry 0\): vdev entry runs past the table' -- \
	"$rpk" rsc dump "$out/short.bin"
printf '\x02\x00\x00\x00' | dd of="$out/table.bin" bs=1 conv=notrunc status=none
expect 1 'unsupported version' -- "$rpk" rsc dump "$out/table.bin"
head -c 30 "$out/arm.o" >"$out/trunc.o"
expect 1 'bad ELF image: not an ELF image|truncated' -- "$rpk" rsc dump "$out/trunc.o"
size=$(stat -c %s "$out/arm.o")
head -c $((size - 64)) "$out/arm.o" >"$out/cut.o"
expect 1 'bad ELF image: section header table outside the image' -- "$rpk" rsc dump "$out/cut.o"
gcc -c -x c /dev/null -o "$out/empty.o"
expect 1 'no .resource_table section with contents' -- "$rpk" rsc dump "$out/empty.o"
expect 1 'No such file' -- "$rpk" rsc dump "$out/nosuch"
# A .resource_table with no bytes in the file (NOBITS) claims any size.
printf '.section .resource_table,"aw",@nobits\n.space 1048576\n' | gcc -c -x assembler - -o "$out/nobits.o"
expect 1 'no .resource_table section with contents' -- "$rpk" rsc dump "$out/nobits.o"

# Problems in a well-formed table: two carveouts overlapping, a vdev whose
# vring cannot be (num 3). Little-endian words written by hand.
le() { for v in "$@"; do printf "\\x$(printf %02x $((v & 255)))\\x$(printf %02x $(((v >> 8) & 255)))\\x$(printf %02x $(((v >> 16) & 255)))\\x$(printf %02x $(((v >> 24) & 255)))"; done; }
name() { printf '%s' "$1"; head -c $((32 - ${#1})) /dev/zero; }
{
	le 1 3 0 0 28 84 140                      # header: ver, num, reserved, 3 offsets
	le 0 0x10000000 0 0x2000 0 0; name "code" # carveout at 28
	le 0 0x10001000 0 0x1000 0 0; name "data" # carveout at 84, overlapping
	le 3 7 2 1 0 0; printf '\x00\x02\x00\x00'  # vdev at 140: 2 vrings, no config
	le 0x20000000 16 3 0 0 0x20001000 16 16 1 0
} >"$out/problems.bin"
expect 1 'carveout "code" .* overlaps carveout "data"' -- "$rpk" rsc dump "$out/problems.bin"
expect 1 'vring0: num 3 and align 16 must be powers of two' -- "$rpk" rsc dump "$out/problems.bin"

# Random garbage never crashes it (exit 1, not a signal).
for i in $(seq 20); do
	head -c $((i * 97)) /dev/urandom >"$out/junk"
	"$rpk" rsc dump "$out/junk" >/dev/null 2>&1
	code=$?
	[ $code -eq 1 ] || fail "garbage input $i: exit $code"
	printf '\x7fELF' | cat - "$out/junk" >"$out/junk.o"
	"$rpk" rsc dump "$out/junk.o" >/dev/null 2>&1
	code=$?
	[ $code -eq 1 ] || fail "ELF garbage $i: exit $code"
done
finish rsc
