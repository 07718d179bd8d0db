#!/usr/bin/env bash
# Writes the seeds of fuzz_dtb_patch (tests/fuzz/corpus/dtb_patch/seed-*):
# the firmware images and devicetrees of tests/dtb/dtb.sh, compiled, in the
# target's input format (tests/fuzz/fuzz_dtb_patch.c: a flags byte, the
# image's length, the image, the blob). Not part of the suite; run it again
# after changing the format: tests/dtb/fuzz_seeds.sh RPK ROOT
set -euo pipefail
rpk=$1
root=$(cd "$2" && pwd)
dir=$root/tests/fuzz/corpus/dtb_patch
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$dir"

arm() { arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -std=c11 -ffreestanding -Os "$@"; }
link() { arm-none-eabi-ld -e 0 --section-start=.resource_table="$1" "$2" -o "$3"; }
# seed NAME FLAGS IMAGE DTB
seed() {
	local len
	len=$(stat -c %s "$3")
	{
		printf "\\x$(printf %02x "$2")"
		printf "\\x$(printf %02x $((len & 255)))\\x$(printf %02x $(((len >> 8) & 255)))"
		printf "\\x$(printf %02x $(((len >> 16) & 255)))\\x00"
		cat "$3" "$4"
	} >"$dir/seed-$1"
}

"$rpk" gen "$root/examples/dts/seed-tcc807x.dts" --out "$out" >/dev/null
arm -c "$out/resource_table.c" -I"$out" -o "$out/gen.o"
link 0x200c63b8 "$out/gen.o" "$out/gen.elf"
arm -mbig-endian -mcpu=cortex-r5 -marm -I"$root/include" -c "$root/tests/dtb/fw_table.c" -o "$out/be.o"
arm-none-eabi-ld -EB -e 0 --section-start=.resource_table=0x200c63b8 "$out/be.o" -o "$out/be.elf"
arm -I"$root/include" -c "$root/tests/dtb/fw_table.c" -o "$out/fw.o"
link 0x80000100 "$out/fw.o" "$out/onecell.elf"
link 0x200c7800 "$out/fw.o" "$out/late.elf"
dtc -q -I dts -O dtb -o "$out/seed.dtb" "$root/examples/dts/seed-tcc807x.dts"
fdtput -d "$out/seed.dtb" /reserved-memory/rsc-table@200c6000 rpk,rsc-offset
dtc -q -I dts -O dtb -o "$out/valid.dtb" "$root/tests/unit/dts/valid.dts"
dtc -q -I dts -O dtb -o "$out/boot16.dtb" "$root/tests/integration/boot16.dts"
dtc -q -I dts -O dtb -o "$out/linux.dtb" "$out/linux-rproc.dtsi"
# The raw table mode: address and size, little-endian u64s.
printf '\xb8\x63\x0c\x20\0\0\0\0\x58\0\0\0\0\0\0\0' >"$out/raw"

seed gen-default $((0x40)) "$out/gen.elf" "$out/seed.dtb"
seed gen-remote $((0x41)) "$out/gen.elf" "$out/seed.dtb"
seed big-endian $((0x42)) "$out/be.elf" "$out/seed.dtb"
seed one-cell $((0x40)) "$out/onecell.elf" "$out/valid.dtb"
seed trace $((0x40)) "$out/late.elf" "$out/boot16.dtb"
seed linux-rproc $((0x45)) "$out/gen.elf" "$out/linux.dtb"
seed region-path $((0x46)) "$out/gen.elf" "$out/seed.dtb"
seed raw-no-room $((0x08)) "$out/raw" "$out/seed.dtb"
seed raw-name $((0x4b)) "$out/raw" "$out/seed.dtb"
ls "$dir"
