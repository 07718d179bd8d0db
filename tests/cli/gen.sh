#!/usr/bin/env bash
# rpk gen on the seeds' devicetree: the seeds' addresses come out exactly, the
# C compiles for the host and for Cortex-M, the devicetree outputs compile.
set -euo pipefail
rpk=$1
root=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$rpk" gen "$root/examples/dts/seed-tcc807x.dts" --out "$out" --vendor tcc >/dev/null
for want in 'VRING_RX_ADDRESS   0x200c9000UL' 'VRING_TX_ADDRESS   0x200c8000UL' \
	'VRING_BUFF_ADDRESS 0x200ca000UL' 'RSC_TABLE_ADDRESS  0x200c63b8UL' \
	'VRING_SIZE         16U' 'VRING_ALIGNMENT    64U'; do
	grep -qF "#define $want" "$out/resource_table.h" || fail "resource_table.h lacks '$want'"
done
grep -qF 'tcc,rsc-offset = <0x3b8>;' "$out/linux-rproc.dtsi" || fail "no rsc-offset in the dtsi"
grep -qF 'tcc,rsc-size = <0x1000>;' "$out/linux-rproc.dtsi" || fail "no rsc-size in the dtsi"
grep -qF 'MMU_REGION_FLAT_ENTRY("VRING1", 0x200c9000, 0x1000,' "$out/mmu_regions.h" ||
	fail "mmu_regions.h lacks VRING1"

# The C compiles, for the host and for Cortex-M, and the table sits in its section.
gcc -std=c11 -Wall -Wextra -Werror -c "$out/resource_table.c" -I"$out" -o "$out/host.o"
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -std=c11 -ffreestanding -Wall -Wextra -Werror -Os \
	-c "$out/resource_table.c" -I"$out" -o "$out/arm.o"
size=$(arm-none-eabi-objdump -h "$out/arm.o" | awk '$2 == ".resource_table" {print $3}')
[ "$size" = "00000058" ] || fail ".resource_table is 0x$size bytes, want 0x58 (88)"
arm-none-eabi-objcopy -O binary --only-section=.resource_table "$out/arm.o" "$out/table.bin"
[ "$(od -An -tx4 -j48 -N20 "$out/table.bin" | xargs)" = "200c8000 00000040 00000010 00000000 00000000" ] ||
	fail "vring0 entry wrong: $(od -An -tx4 -j48 -N20 "$out/table.bin")"

# The Linux fragment compiles with dtc; the Zephyr overlay onto a minimal board.
dtc -q -I dts -O dtb -o /dev/null "$out/linux-rproc.dtsi"
printf '/dts-v1/;\n/ { reserved_memory: reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges; }; };\n' \
	>"$out/board.dts"
cat "$out/board.dts" "$out/zephyr.overlay" >"$out/zephyr.dts"
dtc -q -I dts -O dtb -o /dev/null "$out/zephyr.dts"
# The MMU table expands inside an array initialiser.
printf '#define MT_NORMAL 1\n#define MT_P_RW_U_NA 2\n#define MT_DEFAULT_SECURE_STATE 4\n#define MMU_REGION_FLAT_ENTRY(n, a, s, f) {n, a, s, f}\nstruct r { const char *n; unsigned long a, s; int f; };\n#include "mmu_regions.h"\nconst struct r regions[] = {RPK_MMU_REGIONS};\n' >"$out/mmu.c"
gcc -std=c11 -Wall -Werror -c "$out/mmu.c" -I"$out" -o "$out/mmu.o"
echo "gen: all checks passed"
