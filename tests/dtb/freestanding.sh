#!/usr/bin/env bash
# dtb.freestanding: the boot loader's function (src/dtb/dtb_patch.c) builds
# for Cortex-M with arm-none-eabi-gcc -Os, freestanding, without any C
# library header (-nostdinc), against libfdt's headers (a boot loader brings
# its own libfdt and libfdt_env.h), and needs nothing but libfdt, the
# core's ELF reader and the mem*/str* functions libfdt needs too: no malloc,
# no stdio, no OS.
set -euo pipefail
root=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# libfdt's headers, with a libfdt_env.h as a boot loader writes one: the
# host's, its C library headers replaced by the few functions libfdt uses.
mkdir "$out/fdt"
for h in fdt.h libfdt.h libfdt_env.h; do
	[ -f "/usr/include/$h" ] || {
		echo "dtb.freestanding: /usr/include/$h missing (Debian: libfdt-dev)" >&2
		exit 1
	}
done
cp /usr/include/fdt.h /usr/include/libfdt.h "$out/fdt/"
sed -e '/#include <stdlib.h>/d' -e 's|#include <string.h>|#include "boot_string.h"|' \
	/usr/include/libfdt_env.h >"$out/fdt/libfdt_env.h"
cat >"$out/fdt/boot_string.h" <<'END'
#include <stddef.h>
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
int strcmp(const char *a, const char *b);
END
gcc_inc=$(arm-none-eabi-gcc -print-file-name=include)
gcc_fixed=$(arm-none-eabi-gcc -print-file-name=include-fixed) # limits.h
flags=(-mcpu=cortex-m4 -mthumb -std=c11 -ffreestanding -nostdinc -isystem "$gcc_inc" -isystem "$gcc_fixed" -Os
	-ffunction-sections -fdata-sections -Wall -Wextra -Werror -Wshadow -I"$out/fdt"
	-I"$root/include" -I"$root/src")
arm-none-eabi-gcc "${flags[@]}" -c "$root/src/dtb/dtb_patch.c" -o "$out/dtb_patch.o"
undefined=$(arm-none-eabi-nm -u "$out/dtb_patch.o" | awk '{print $2}' | sort -u)
bad=$(echo "$undefined" | grep -vE '^(fdt_[a-z_0-9]+|rpk_elf_[a-z_]+|mem[a-z]+|str[a-z]+)$' || true)
if [ -n "$bad" ]; then
	echo "dtb_patch.c needs symbols a boot loader may not have: $bad" >&2
	exit 1
fi
if grep -nE '#include <(stdio|stdlib|unistd|sys/|errno)' "$root/src/dtb/dtb_patch.c"; then
	echo "dtb_patch.c includes an OS or stdio header" >&2
	exit 1
fi
echo "dtb_patch.o for Cortex-M4 (-Os) needs:" $undefined
arm-none-eabi-size "$out/dtb_patch.o"
