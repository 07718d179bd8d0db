#!/usr/bin/env bash
# Build the mps2-an386 firmware (Cortex-M4, arm-none-eabi-gcc -Os) into OUT:
#   build.sh RPK OUT
# resource_table.h comes from `rpk gen` over examples/dts/qemu-mps2-an386.dts;
# the rpmsg-kit core is compiled from its sources (cmake/sources.cmake).
# OUT/fw.elf is the image that polls, OUT/fw.map its link map; OUT/fw-irq.elf
# takes the master's doorbell as UART1's interrupt and rings it there
# (doorbell_uart.c); OUT/fault.elf a firmware that faults on purpose (the
# fault handler's test).
set -euo pipefail
rpk=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
dts=$root/examples/dts/qemu-mps2-an386.dts
common=$root/examples/firmware/common
cc=arm-none-eabi-gcc
cflags=(-mcpu=cortex-m4 -mthumb -std=c11 -ffreestanding -nostdinc
	-isystem "$($cc -print-file-name=include)" -Os -g -ffunction-sections -fdata-sections
	-Wall -Wextra -Werror -I"$root/include" -I"$root/src")
source "$common/build-lib.sh"
fw_gen
fw_compile_core
for f in board fault doorbell_poll doorbell_uart; do
	fw_compile $f "$here/$f.c"
done
for f in echo console libc_min; do
	fw_compile $f "$common/$f.c"
done
link() { # link IMAGE MAIN DOORBELL
	$cc -mcpu=cortex-m4 -mthumb -nostdlib -Wl,--gc-sections -T "$here/link.ld" \
		-Wl,-Map,"$out/$1.map" "$out"/obj/fw-{$2,$3,board,console,libc_min}.o \
		"${core_objs[@]}" -lgcc -o "$out/$1.elf"
}
link fw echo doorbell_poll
link fw-irq echo doorbell_uart
link fault fault doorbell_poll
