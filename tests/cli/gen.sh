#!/usr/bin/env bash
# rpk gen on the seeds' devicetree: the seeds' addresses come out exactly, the
# C compiles for the host and for Cortex-M, the devicetree outputs compile.
set -euo pipefail
rpk=$1
root=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$rpk" gen "$root/examples/dts/seed-tcc807x.dts" --out "$out" --vendor tcc >/dev/null 2>"$out/stderr"
[ ! -s "$out/stderr" ] || fail "rpk gen had something to say about the seeds' layout: $(cat "$out/stderr")"
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
grep -qF 'compatible = "tcc,rproc";' "$out/linux-rproc.dtsi" || fail "no tcc,rproc in the dtsi"
# Without --vendor: the rpk,self-booted-remote driver's nodes (kernel/), the
# doorbells crossed (Linux rings the channel the remote listens to), also as
# an overlay that applies to a board's devicetree.
mkdir -p "$out/rpk"
"$rpk" gen "$root/examples/dts/seed-tcc807x.dts" --out "$out/rpk" >/dev/null 2>&1
for want in 'compatible = "rpk,self-booted-remote";' 'mboxes = <&rpk_mbox 0>, <&rpk_mbox 1>;' \
	'mbox-names = "tx", "rx";' 'compatible = "rpk,shm-mailbox";' 'rpk,rsc-offset = <0x3b8>;'; do
	grep -qF "$want" "$out/rpk/linux-rproc.dtsi" || fail "linux-rproc.dtsi lacks '$want'"
	grep -qF "$want" "$out/rpk/linux-rproc.dtso" || fail "linux-rproc.dtso lacks '$want'"
done
grep -qF 'mboxes = <&mbox 1>, <&mbox 0>;' "$root/examples/dts/seed-tcc807x.dts" ||
	fail "the seeds' remote no longer rings channel 1: fix the mboxes check above"
printf '/dts-v1/;\n/ { #address-cells = <2>; #size-cells = <2>; };\n' >"$out/base.dts"
dtc -q -I dts -O dtb -o "$out/base.dtb" "$out/base.dts"
dtc -q -@ -I dts -O dtb -o "$out/rproc.dtbo" "$out/rpk/linux-rproc.dtso"
fdtoverlay -i "$out/base.dtb" -o "$out/merged.dtb" "$out/rproc.dtbo"
[ "$(fdtget -t s "$out/merged.dtb" /remoteproc compatible)" = rpk,self-booted-remote ] ||
	fail "the overlay did not add /remoteproc"
[ "$(fdtget -t x "$out/merged.dtb" /reserved-memory/rsc-table@200c6000 rpk,rsc-offset)" = 3b8 ] ||
	fail "the overlay did not add the table's region"
printf '/dts-v1/;\n/ { reserved_memory: reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges; }; };\n' \
	>"$out/board.dts"
cat "$out/board.dts" "$out/zephyr.overlay" >"$out/zephyr.dts"
dtc -q -I dts -O dtb -o /dev/null "$out/zephyr.dts"
# Zephyr's side as seed 000's working files have it: the overlay's three
# carveout nodes word for word (the table is in the image, not a region of
# its own), chosen zephyr,ipc (the board's mailbox, by label) and
# zephyr,ipc_shm, and the three MMU regions.
cat >"$out/seed000.overlay" <<'EOF'
&reserved_memory {
	vdev0vring0: vdev0vring0@200c8000 {
		compatible = "zephyr,memory-region", "shared-dma-pool";
		reg = <0x0 0x200c8000 0x0 0x1000>;
		zephyr,memory-region = "VRING0";
	};

	vdev0vring1: vdev0vring1@200c9000 {
		compatible = "zephyr,memory-region", "shared-dma-pool";
		reg = <0x0 0x200c9000 0x0 0x1000>;
		zephyr,memory-region = "VRING1";
	};

	vdev0buffer: vdev0buffer@200ca000 {
		compatible = "zephyr,memory-region", "shared-dma-pool";
		reg = <0x0 0x200ca000 0x0 0x4000>;
		zephyr,memory-region = "VDEV0BUFFER";
	};
};
EOF
mkdir -p "$out/z"
"$rpk" gen "$root/examples/dts/seed-tcc807x.dts" --out "$out/z" --zephyr-ipc a55mp_a55sp_mbox \
	>/dev/null 2>&1 || fail "rpk gen --zephyr-ipc a55mp_a55sp_mbox failed"
sed -n '/^&reserved_memory {/,/^};/p' "$out/z/zephyr.overlay" | diff -u "$out/seed000.overlay" - ||
	fail "zephyr.overlay's carveouts differ from seed 000's overlay"
grep -qF 'zephyr,ipc = &a55mp_a55sp_mbox;' "$out/z/zephyr.overlay" || fail "no chosen zephyr,ipc"
grep -qF 'zephyr,ipc_shm = &vdev0buffer;' "$out/z/zephyr.overlay" || fail "no chosen zephyr,ipc_shm"
printf '/dts-v1/;\n/ { a55mp_a55sp_mbox: mbox { }; reserved_memory: reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges; }; };\n' \
	>"$out/board-mbox.dts"
cat "$out/board-mbox.dts" "$out/z/zephyr.overlay" >"$out/zephyr-mbox.dts"
dtc -q -I dts -O dtb -o /dev/null "$out/zephyr-mbox.dts" || fail "the overlay with zephyr,ipc does not compile"
[ "$(grep -c MMU_REGION_FLAT_ENTRY "$out/z/mmu_regions.h")" = 3 ] &&
	! grep -q RSCTABLE "$out/z/mmu_regions.h" || fail "mmu_regions.h is not the seed's three carveouts"
"$rpk" gen "$root/examples/dts/seed-tcc807x.dts" --out "$out/z" --zephyr-ipc '9bad' >"$out/bad.log" 2>&1 &&
	fail "rpk gen took --zephyr-ipc 9bad"
grep -qF "takes a devicetree label" "$out/bad.log" || fail "no message for a bad --zephyr-ipc"
# The MMU table expands inside an array initialiser.
printf '#define MT_NORMAL 1\n#define MT_P_RW_U_NA 2\n#define MT_DEFAULT_SECURE_STATE 4\n#define MMU_REGION_FLAT_ENTRY(n, a, s, f) {n, a, s, f}\nstruct r { const char *n; unsigned long a, s; int f; };\n#include "mmu_regions.h"\nconst struct r regions[] = {RPK_MMU_REGIONS};\n' >"$out/mmu.c"
gcc -std=c11 -Wall -Werror -c "$out/mmu.c" -I"$out" -o "$out/mmu.o"
# The generated MMU regions cache the rings (MT_NORMAL) whatever the devicetree
# says: one that marks nothing rpk,cached and aligns to 16 gets a table aligned
# to the cache line, and a note saying why.
sed -e 's/rpk,vring-align = <64>;/rpk,vring-align = <16>;/' -e '/rpk,cached;/d' \
	"$root/examples/dts/seed-tcc807x.dts" >"$out/align16.dts"
mkdir "$out/align16"
"$rpk" gen "$out/align16.dts" --out "$out/align16" >/dev/null 2>"$out/align16.err" ||
	fail "rpk gen refused a coherent layout aligned to 16: $(cat "$out/align16.err")"
for want in '/remote: rpk,vring-align 16 is below the 64-byte cache line' \
	'the remote caches the rings (MT_NORMAL in mmu_regions.h)' 'VRING_ALIGNMENT raised to 64'; do
	grep -qF "$want" "$out/align16.err" || fail "no '$want' in: $(cat "$out/align16.err")"
done
grep -qF '#define VRING_ALIGNMENT    64U' "$out/align16/resource_table.h" ||
	fail "VRING_ALIGNMENT not raised: $(grep VRING_ALIGNMENT "$out/align16/resource_table.h")"

# A remote marked rpk,cached with rings aligned to 16: the layout refuses it
# and nothing is written.
sed 's/rpk,vring-align = <64>;/rpk,vring-align = <16>;/' "$root/examples/dts/seed-tcc807x.dts" \
	>"$out/cached16.dts"
mkdir "$out/cached16"
if "$rpk" gen "$out/cached16.dts" --out "$out/cached16" >/dev/null 2>"$out/cached16.err"; then
	fail "rpk gen accepted a cached remote with rings aligned to 16"
fi
grep -qF '/remote: rpk,vring-align 16 is below the 64-byte cache line, and this side caches' \
	"$out/cached16.err" || fail "no reason given: $(cat "$out/cached16.err")"
[ -z "$(ls -A "$out/cached16")" ] || fail "rpk gen wrote files for a refused layout"
# The firmware's doorbell word and its services: where the mailbox is, which
# channel the remote rings, and rpk,services as C strings that survive any
# byte a devicetree string may hold.
for want in 'RPK_MBOX_ADDRESS    0x200c5000UL' 'RPK_MBOX_STRIDE     64U' 'RPK_MBOX_TX_CHANNEL 1U' \
	'RPK_MBOX_RX_CHANNEL 0U' 'RPK_NUM_SERVICES 1U' 'RPK_SERVICES "rpmsg-client-sample"'; do
	grep -qF "#define $want" "$out/resource_table.h" || fail "resource_table.h lacks '$want'"
done
sed 's/rpk,services = "rpmsg-client-sample";/rpk,services = "a\\"b\\\\c\\x01d", "rpk-echo";/' \
	"$root/examples/dts/seed-tcc807x.dts" >"$out/weird.dts"
grep -qF 'rpk,services = "a\"b\\c\x01d", "rpk-echo";' "$out/weird.dts" ||
	fail "the seeds' services line changed: fix this test's sed"
mkdir "$out/weird"
"$rpk" gen "$out/weird.dts" --out "$out/weird" >/dev/null 2>&1
printf '#include <stdio.h>\n#include "resource_table.h"\nstatic const char *const s[] = {RPK_SERVICES};\nint main(void)\n{\n\tfor (unsigned i = 0; i < RPK_NUM_SERVICES; i++)\n\t\tprintf("[%%s]", s[i]);\n\treturn 0;\n}\n' \
	>"$out/weird/services.c"
gcc -std=c11 -Wall -Werror -I"$out/weird" -o "$out/weird/services" "$out/weird/services.c"
cmp -s <(printf '[a"b\\c\001d][rpk-echo]') <("$out/weird/services") ||
	fail "services as C strings: $("$out/weird/services" | od -An -c)"

# Linux's doorbells as QEMU's ivshmem-doorbell device (--linux-ivshmem): its
# node under the PCIe host bridge at device 2, function 0 (reg's first cell
# 2 << 11), named by the remoteproc node's mboxes; no shared-memory mailbox
# node (its memory stays reserved: the remote's bells are there). The
# overlay applies to a board with that bridge, and bad paths are refused.
mkdir "$out/ivshmem"
"$rpk" gen "$root/examples/dts/seed-tcc807x.dts" --out "$out/ivshmem" \
	--linux-ivshmem /pcie@10000000/mailbox@2,0 >/dev/null 2>&1
grep -qF 'compatible = "rpk,shm-mailbox";' "$out/ivshmem/linux-rproc.dtso" &&
	fail "an ivshmem overlay with the shared-memory mailbox's node"
printf '/dts-v1/;\n/ { #address-cells = <2>; #size-cells = <2>;\n pcie@10000000 { #address-cells = <3>; #size-cells = <2>; device_type = "pci"; }; };\n' \
	>"$out/pci.dts"
dtc -q -I dts -O dtb -o "$out/pci.dtb" "$out/pci.dts"
dtc -q -@ -I dts -O dtb -o "$out/ivshmem.dtbo" "$out/ivshmem/linux-rproc.dtso"
fdtoverlay -i "$out/pci.dtb" -o "$out/ivshmem.dtb" "$out/ivshmem.dtbo"
[ "$(fdtget -t x "$out/ivshmem.dtb" /pcie@10000000/mailbox@2,0 reg)" = "1000 0 0 0 0" ] ||
	fail "the ivshmem node's reg: $(fdtget -t x "$out/ivshmem.dtb" /pcie@10000000/mailbox@2,0 reg)"
[ "$(fdtget -t s "$out/ivshmem.dtb" /pcie@10000000/mailbox@2,0 compatible)" = pci1af4,1110 ] ||
	fail "the ivshmem node's compatible"
phandle=$(fdtget -t x "$out/ivshmem.dtb" /pcie@10000000/mailbox@2,0 phandle)
[ "$(fdtget -t x "$out/ivshmem.dtb" /remoteproc mboxes)" = "$phandle 0 $phandle 1" ] ||
	fail "mboxes do not name the ivshmem device: $(fdtget -t x "$out/ivshmem.dtb" /remoteproc mboxes)"
fdtget "$out/ivshmem.dtb" /reserved-memory/rpk-mailbox@200c5000 reg >/dev/null ||
	fail "the bells' memory is no longer reserved"
dtc -q -I dts -O dtb -o /dev/null "$out/ivshmem/linux-rproc.dtsi"
for bad in pcie/m@2,0 /m@2,0 /pcie@1/m@20,0 /pcie@1/m@2,8 /pcie@1/m /pcie@1/m@2,0x /pcie@1/m@,1; do
	if "$rpk" gen "$root/examples/dts/seed-tcc807x.dts" --out "$out/ivshmem" \
		--linux-ivshmem "$bad" >/dev/null 2>"$out/bad.err"; then
		fail "--linux-ivshmem $bad accepted"
	fi
	grep -qF -- "--linux-ivshmem takes the device's node path under a PCI host bridge" \
		"$out/bad.err" || fail "--linux-ivshmem $bad: $(cat "$out/bad.err")"
done
echo "gen: all checks passed"
