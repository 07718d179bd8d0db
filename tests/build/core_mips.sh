#!/usr/bin/env bash
# bigendian.core_mips: the core (cmake/sources.cmake's RPK_CORE_SOURCES)
# builds for big-endian MIPS, seed 004's ISA family (its OCTEON cn7130 is a
# MIPS64 running big-endian), freestanding with no libc headers, warnings as
# errors, both as 32-bit and as 64-bit code, and needs no symbol but
# memcpy/memset/memmove. As tests/build/core_arm.sh does for Cortex-M.
set -euo pipefail
root=$1
if ! command -v mips-linux-gnu-gcc >/dev/null; then
	echo "bigendian: mips-linux-gnu-gcc is missing (scripts/deps test installs gcc-mips-linux-gnu)" >&2
	exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gcc_inc=$(mips-linux-gnu-gcc -print-file-name=include)
core=$(sed -n '/^set(RPK_CORE_SOURCES/,/)/p' "$root/cmake/sources.cmake" | grep -o 'src/[a-z_/]*\.c')
for abi in "32 -march=mips32r2" "64 -march=mips64r2 -mabi=64"; do
	bits=${abi%% *}
	mkdir -p "$out/$bits"
	for f in $core; do
		# shellcheck disable=SC2086 # the flags are words
		mips-linux-gnu-gcc -EB ${abi#* } -std=c11 -ffreestanding -nostdinc -isystem "$gcc_inc" \
			-Os -fno-pic -mno-abicalls -ffunction-sections -fdata-sections \
			-Wall -Wextra -Werror -Wshadow -I"$root/include" -I"$root/src" \
			-c "$root/$f" -o "$out/$bits/$(basename "$f" .c).o"
	done
	# The ELF header's EI_DATA byte (offset 5): 2 is big-endian.
	data=$(od -An -tu1 -j5 -N1 "$out/$bits/elf.o" | tr -d ' ')
	[ "$data" = 2 ] || { echo "not big-endian: EI_DATA $data" >&2; exit 1; }
	undefined=$(mips-linux-gnu-nm -u "$out/$bits"/*.o | awk 'NF==2 {print $2}' | sort -u)
	internal=$(mips-linux-gnu-nm --defined-only "$out/$bits"/*.o | awk 'NF==3 {print $3}' | sort -u)
	bad=$(comm -23 <(echo "$undefined") <(echo "$internal") | grep -vxE 'memcpy|memset|memmove' || true)
	if [ -n "$bad" ]; then
		echo "MIPS$bits core needs symbols it must not: $bad" >&2
		exit 1
	fi
	echo "core objects for big-endian MIPS$bits (-Os), text/data/bss:"
	mips-linux-gnu-size -t "$out/$bits"/*.o | tail -1
done
