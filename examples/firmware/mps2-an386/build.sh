#!/usr/bin/env bash
# Build the mps2-an386 firmware (Cortex-M4, arm-none-eabi-gcc -Os) into OUT:
#   build.sh RPK OUT
# resource_table.h comes from `rpk gen` over examples/dts/qemu-mps2-an386.dts;
# the rpmsg-kit core is compiled from its sources (cmake/sources.cmake).
# OUT/fw.elf is the image, OUT/fw.map its link map; OUT/fault.elf a firmware
# that faults on purpose (the fault handler's test).
set -euo pipefail
rpk=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
mkdir -p "$out/gen" "$out/obj"
"$rpk" gen "$root/examples/dts/qemu-mps2-an386.dts" --node remote --out "$out/gen" >"$out/gen.log" 2>&1 ||
	{ cat "$out/gen.log" >&2; exit 1; }
gcc_inc=$(arm-none-eabi-gcc -print-file-name=include)
cflags=(-mcpu=cortex-m4 -mthumb -std=c11 -ffreestanding -nostdinc -isystem "$gcc_inc" -Os -g
	-ffunction-sections -fdata-sections -Wall -Wextra -Werror -I"$root/include" -I"$root/src")
core=$(sed -n '/^set(RPK_CORE_SOURCES/,/)/p' "$root/cmake/sources.cmake" | grep -o 'src/[a-z_/]*\.c')
objs=()
for f in $core; do
	o="$out/obj/$(basename "$f" .c).o"
	arm-none-eabi-gcc "${cflags[@]}" -c "$root/$f" -o "$o"
	objs+=("$o")
done
for f in board echo fault; do
	arm-none-eabi-gcc "${cflags[@]}" -fno-builtin -I"$out/gen" -c "$here/$f.c" -o "$out/obj/fw-$f.o"
done
arm-none-eabi-gcc "${cflags[@]}" -fno-builtin -c "$root/examples/firmware/libc_min.c" \
	-o "$out/obj/fw-libc_min.o"
link() { # link IMAGE MAIN-OBJECT
	arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -nostdlib -Wl,--gc-sections -T "$here/link.ld" \
		-Wl,-Map,"$out/$1.map" "$2" "$out/obj/fw-board.o" "$out/obj/fw-libc_min.o" \
		"${objs[@]}" -lgcc -o "$out/$1.elf"
}
link fw "$out/obj/fw-echo.o"
link fault "$out/obj/fw-fault.o"
