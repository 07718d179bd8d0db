#!/usr/bin/env bash
# Our master and the Cortex-M4 firmware in QEMU, in one command:
#   examples/firmware/mps2-an386/run.sh [RPK] [COUNT]
# builds the firmware (build.sh), boots it on QEMU's mps2-an386 with its RAM
# in a file, runs `rpk run --node master` on that file for COUNT echoes
# (default 1000), prints the firmware's console and stops QEMU. RPK defaults
# to build/release/rpk. Needs qemu-system-arm and gcc-arm-none-eabi.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
rpk=$(realpath "${1:-$root/build/release/rpk}")
count=${2:-1000}
for tool in qemu-system-arm arm-none-eabi-gcc; do
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

bash "$here/build.sh" "$rpk" "$work/fw" || exit 1
arm-none-eabi-size "$work/fw/fw.elf"
(umask 077 && truncate -s 16M "$work/ram.bin")
qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic -monitor none \
	-object memory-backend-file,id=ram,size=16M,mem-path="$work/ram.bin",share=on \
	-machine memory-backend=ram -serial file:"$work/console.log" -kernel "$work/fw/fw.elf" &
qemu=$!
for _ in $(seq 200); do
	grep -q "waiting for a master" "$work/console.log" 2>/dev/null && break
	sleep 0.05
done
"$rpk" run "$root/examples/dts/qemu-mps2-an386.dts" --node master --polling --timeout 20000 \
	--memory-file "$work/ram.bin" --memory-base 0x21000000 --count "$count"
rc=$?
for _ in $(seq 100); do
	grep -q "link down" "$work/console.log" && break
	sleep 0.05
done
echo "--- the firmware's console"
cat "$work/console.log"
exit $rc
