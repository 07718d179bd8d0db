#!/usr/bin/env bash
# Build the AArch64 firmware for QEMU's virt board (Cortex-A53, the seeds'
# remote's instruction set) into OUT, with Debian's gcc-aarch64-linux-gnu as a
# freestanding compiler:
#   build.sh RPK OUT [MMU_REGIONS_H]
# resource_table.h and mmu_regions.h come from `rpk gen` over
# examples/dts/qemu-virt-a53.dts; MMU_REGIONS_H, if given, replaces the
# generated mmu_regions.h (the suite drops a region to see the fault).
# OUT/fw.elf is the image, OUT/fw.map its link map.
set -euo pipefail
rpk=$1 out=$2 regions=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
dts=$root/examples/dts/qemu-virt-a53.dts
common=$root/examples/firmware/common
cc=aarch64-linux-gnu-gcc
# -mgeneral-regs-only: no FP/SIMD (nothing enables it); -mstrict-align:
# the MMU table turns alignment checking on.
cflags=(-mcpu=cortex-a53 -mgeneral-regs-only -mstrict-align -std=c11 -ffreestanding -nostdinc
	-isystem "$($cc -print-file-name=include)" -Os -g -ffunction-sections -fdata-sections
	-fno-pic -fno-stack-protector -Wall -Wextra -Werror -I"$root/include" -I"$root/src")
source "$common/build-lib.sh"
fw_gen
[ -z "$regions" ] || cp "$regions" "$out/gen/mmu_regions.h"
fw_compile_core
fw_compile board "$here/board.c"
fw_compile mmu "$here/mmu.c"
for f in echo console libc_min; do
	fw_compile $f "$common/$f.c"
done
$cc -c "$here/start.S" -o "$out/obj/fw-start.o"
$cc -nostdlib -static -no-pie -Wl,--gc-sections -Wl,--build-id=none -Wl,--no-warn-rwx-segments -T "$here/link.ld" \
	-Wl,-Map,"$out/fw.map" "$out"/obj/fw-{start,board,mmu,echo,console,libc_min}.o \
	"${core_objs[@]}" -lgcc -o "$out/fw.elf"
