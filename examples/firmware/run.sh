#!/usr/bin/env bash
# Our master and the remote firmware in QEMU, in one command:
#   examples/firmware/run.sh BOARD [RPK] [COUNT]
# BOARD is mps2-an386 (Cortex-M4) or qemu-virt-a53 (AArch64, MMU and data
# cache on, as the seeds' remote). Builds the firmware (BOARD/build.sh),
# boots it in QEMU with its RAM in a file, runs `rpk run --node master` on
# that file for COUNT echoes (default 1000), prints the firmware's console
# and stops QEMU. RPK defaults to build/release/rpk. Needs QEMU
# (qemu-system-arm) and the board's cross compiler (gcc-arm-none-eabi or
# gcc-aarch64-linux-gnu); scripts/deps installs them.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
board=${1:-}
case $board in
mps2-an386)
	machine=(qemu-system-arm -machine mps2-an386 -cpu cortex-m4)
	cc=arm-none-eabi-gcc size=arm-none-eabi-size ram_size=16M base=0x21000000
	dts=qemu-mps2-an386.dts
	;;
qemu-virt-a53)
	# -nic none: virt adds a virtio NIC by default, whose option ROM
	# (efi-virtio.rom) a fresh Debian does not have.
	machine=(qemu-system-aarch64 -machine virt -cpu cortex-a53 -m 256M -nic none)
	cc=aarch64-linux-gnu-gcc size=aarch64-linux-gnu-size ram_size=256M base=0x40000000
	dts=qemu-virt-a53.dts
	;;
*)
	echo "usage: run.sh mps2-an386|qemu-virt-a53 [RPK] [COUNT]" >&2
	exit 2
	;;
esac
rpk=$(realpath "${2:-$root/build/release/rpk}")
count=${3:-1000}
for tool in "${machine[0]}" "$cc"; do
	command -v "$tool" >/dev/null || {
		echo "run.sh: $tool is missing (scripts/deps installs it)" >&2
		exit 2
	}
done
work=$(mktemp -d)
qemu=
cleanup() {
	[ -n "$qemu" ] && kill "$qemu" 2>/dev/null && wait "$qemu" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$here/$board/build.sh" "$rpk" "$work/fw" || exit 1
$size "$work/fw/fw.elf"
(umask 077 && truncate -s $ram_size "$work/ram.bin")
"${machine[@]}" -nographic -monitor none \
	-object memory-backend-file,id=ram,size=$ram_size,mem-path="$work/ram.bin",share=on \
	-machine memory-backend=ram -serial file:"$work/console.log" -kernel "$work/fw/fw.elf" \
	2>"$work/qemu.log" &
qemu=$!
for _ in $(seq 200); do
	grep -q "waiting for a master" "$work/console.log" 2>/dev/null && break
	sleep 0.05
done
"$rpk" run "$root/examples/dts/$dts" --instance "fw-$$" --node master --polling --timeout 20000 \
	--memory-file "$work/ram.bin" --memory-base $base --count "$count"
rc=$?
for _ in $(seq 100); do # the firmware's last line: the master left
	grep -q "link down" "$work/console.log" && break
	sleep 0.05
done
echo "--- the firmware's console"
cat "$work/console.log"
exit $rc
