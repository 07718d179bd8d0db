#!/usr/bin/env bash
# Build the core (virtio, rpmsg, remoteproc) with arm-none-eabi-gcc -Os,
# freestanding, with no libc headers on the include path, and check that
# nothing but memcpy/memset/memmove is left undefined: no malloc, no OS.
set -euo pipefail
root=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gcc_inc=$(arm-none-eabi-gcc -print-file-name=include)
core=$(sed -n '/^set(RPK_CORE_SOURCES/,/)/p' "$root/CMakeLists.txt" | grep -o 'src/[a-z_/]*\.c')
for f in $core; do
	arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -std=c11 -ffreestanding -nostdinc -isystem "$gcc_inc" \
		-Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror -Wshadow \
		-I"$root/include" -I"$root/src" -c "$root/$f" -o "$out/$(basename "$f" .c).o"
done
undefined=$(arm-none-eabi-nm -u "$out"/*.o | awk 'NF==2 {print $2}' | sort -u)
internal=$(arm-none-eabi-nm --defined-only "$out"/*.o | awk 'NF==3 {print $3}' | sort -u)
bad=$(comm -23 <(echo "$undefined") <(echo "$internal") | grep -vxE 'memcpy|memset|memmove' || true)
if [ -n "$bad" ]; then
	echo "core needs symbols it must not: $bad" >&2
	exit 1
fi
echo "core objects for Cortex-M4 (-Os), text/data/bss:"
arm-none-eabi-size -t "$out"/*.o

# A whole remote (examples/firmware) links with nothing but the core: this is
# the remote role's footprint, master-only code dropped by --gc-sections.
for f in remote_echo libc_min; do
	arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -std=c11 -ffreestanding -nostdinc -isystem "$gcc_inc" \
		-Os -ffunction-sections -fdata-sections -fno-builtin -Wall -Wextra -Werror \
		-I"$root/include" -c "$root/examples/firmware/$f.c" -o "$out/fw_$f.o"
done
core_objs=$(ls "$out"/*.o | grep -v '/fw_')
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -nostdlib -Wl,--gc-sections -Wl,-e,main \
	-Wl,-Map,"$out/remote.map" "$out/fw_remote_echo.o" $core_objs "$out/fw_libc_min.o" -o "$out/remote.elf"
echo "remote firmware (seed layout, echo service), linked with --gc-sections:"
arm-none-eabi-size "$out/remote.elf"
fw_syms=" $(arm-none-eabi-nm --defined-only "$out"/fw_*.o | awk 'NF==3 {print $3}' | tr '\n' ' ') "
core_text=0
while read -r _ size type name; do
	case "$type" in [tT]) ;; *) continue ;; esac
	case "$fw_syms" in *" $name "*) continue ;; esac
	core_text=$((core_text + 0x$size))
done < <(arm-none-eabi-nm -S --defined-only "$out/remote.elf")
echo "of which the rpmsg-kit core (virtio + rpmsg + rsc table): $core_text bytes of text"
