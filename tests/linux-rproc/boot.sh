#!/usr/bin/env bash
# linux-rproc.boot: the arm64 Linux the remoteproc driver's tests boot
# (qemu-arm64/), with the smoke init (qemu-arm64/guest/smoke.c):
#   plain  it comes up (6.1, the remoteproc class there, no remoteproc yet)
#          and powers QEMU off by itself
#   dtb    the same with guest RAM in a /dev/shm file (created mode 0600,
#          the kernel's log found in it) and the virt devicetree plus
#          reserved-memory.dtso: the guest sees the no-map child, and keeps
#          it out of System RAM
#   boot.sh SRCDIR WORKDIR
# The first run builds the kernel (qemu-arm64/build-kernel, minutes).
# Exits 77 without the cross compiler, QEMU, dtc or the kernel source
# (scripts/deps test installs them).
set -euo pipefail
src=$1 out=$2
for tool in qemu-system-aarch64 aarch64-linux-gnu-gcc dtc fdtoverlay flex bison bc; do
	command -v "$tool" >/dev/null || { echo "linux-rproc: $tool is missing; skipped"; exit 77; }
done
[ -f /usr/src/linux-source-6.1.tar.xz ] ||
	{ echo "linux-rproc: linux-source-6.1 is missing; skipped"; exit 77; }
rm -rf "$out"
mkdir -p "$out"
ram=/dev/shm/rpk-linux-rproc-$$.ram
trap 'rm -f "$ram"' EXIT

fail() {
	echo "linux-rproc: $1"
	[ -n "${2:-}" ] && tail -60 "$2"
	exit 1
}
expect() { # LOG PATTERN: a line of LOG matches PATTERN (grep -E)
	grep -Eq "$2" "$1" || fail "no line matches '$2'" "$1"
}

aarch64-linux-gnu-gcc -std=c11 -static -O2 -Wall -Wextra -Werror \
	-o "$out/smoke" "$src/qemu-arm64/guest/smoke.c"
# The kernel first, on its own: its build is not the boot's to time.
"$src/qemu-arm64/build-kernel" >/dev/null

log=$out/plain.log
"$src/qemu-arm64/boot" --work "$out/plain" "$out/smoke" >"$log" 2>&1 || fail "plain boot failed" "$log"
expect "$log" '^rpk-guest: up, kernel 6\.1\.'
expect "$log" '^rpk-guest: remoteproc 0$'
expect "$log" '^rpk-guest: power off$'
# proc, sysfs, devtmpfs and debugfs mounted: smoke names any that failed.
! grep -E '^rpk-guest: (mkdir|mount|reboot)' "$log" || fail "the guest's set-up failed" "$log"
expect "$log" 'reboot: Power down'
expect "$log" 'the guest powered off after'
echo "linux-rproc: plain: $(grep -o 'powered off after .*' "$log")"

# 512 MiB: RAM is 0x40000000-0x5fffffff, so the carve-out lies inside it.
log=$out/dtb.log
"$src/qemu-arm64/boot" --mem 512M --ram-file "$ram" --work "$out/dtb" \
	--dtb-with "$src/tests/linux-rproc/reserved-memory.dtso" "$out/smoke" >"$log" 2>&1 ||
	fail "boot with a RAM file and an overlay failed" "$log"
expect "$log" '^rpk-guest: up, kernel 6\.1\.'
expect "$log" '^rpk-guest: reserved-memory rpk@50000000 no-map$'
expect "$log" '^rpk-guest: iomem 50000000-500fffff : reserved$'
expect "$log" '^rpk-guest: iomem 40000000-4fffffff : System RAM$'
expect "$log" '^rpk-guest: iomem 50100000-5fffffff : System RAM$'
expect "$log" 'reboot: Power down'
[ "$(stat -c %a "$ram")" = 600 ] || fail "$ram has mode $(stat -c %a "$ram"), not 600"
# The guest's RAM is the file: the kernel's log, written at run time, is in it.
grep -aq 'Run /init as init process' "$ram" || fail "the kernel's log is not in $ram"
echo "linux-rproc: dtb: $(grep -o 'powered off after .*' "$log")"
echo "linux-rproc: passed"
