#!/usr/bin/env bash
# Build the core (virtio, rpmsg, remoteproc) with arm-none-eabi-gcc -Os,
# freestanding, with no libc headers on the include path, and check that
# nothing but memcpy/memset/memmove is left undefined: no malloc, no OS.
# What a remote firmware links of it, and that it is no master code, is
# tests/build/remote_image.sh (library.remote_image).
set -euo pipefail
root=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gcc_inc=$(arm-none-eabi-gcc -print-file-name=include)
core=$(sed -n '/^set(RPK_CORE_SOURCES/,/)/p' "$root/cmake/sources.cmake" | grep -o 'src/[a-z_/]*\.c')
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

