#!/usr/bin/env bash
# A real Linux kernel as the master of the seeds' link: arm64 Linux 6.1 in
# QEMU (qemu-arm64/boot) attaches through remoteproc (kernel/rpk_rproc.c,
# kernel/rpk_shm_mbox.c) to our remote, a host process that maps the
# guest's RAM file and laid out its table there before the guest booted.
#   rproc.sh CASE RPK SRCDIR
#   attach   attach; the remote's trace in debugfs; rpmsg_client_sample
#            100/100; rpmsg_char 1000 echoes; detach and start again, the
#            sample again; the remote killed and restarted: Linux reports
#            the crash, attaches again, and the sample runs a third time
#   corrupt  the table in the remote's memory makes no sense: the attach
#            fails with a clear line and no oops
# The guest's init is uml/guest/rpk-guest.c, built here for aarch64.
# Exits 77 without the arm64 tool chain or QEMU (scripts/deps installs them).
set -uo pipefail
case_=$1 rpk=$(realpath "$2") src=$(realpath "$3")
for tool in qemu-system-aarch64 aarch64-linux-gnu-gcc dtc fdtoverlay; do
	command -v "$tool" >/dev/null || {
		echo "linux-rproc: $tool is missing; skipped"
		exit 77
	}
done
inst=linux-rproc-$$
source "$src/tests/cli/lib.sh"
dts=$src/examples/dts/qemu-virt-linux.dts
ram=/dev/shm/rpk-$inst-ram # removed with the instance's objects
base=0x40000000

kdir=$("$src/qemu-arm64/build-kernel") || { echo "linux-rproc: no kernel" >&2; exit 1; }
guest=$out/rpk-guest
aarch64-linux-gnu-gcc -std=gnu11 -static -O2 -Wall -Wextra -Werror -D_GNU_SOURCE \
	-o "$guest" "$src/uml/guest/rpk-guest.c" || exit 1
# The driver, built against the cached kernel tree (seconds).
mkdir -p "$out/kmod"
cp "$src"/kernel/*.c "$src/kernel/Kbuild" "$out/kmod/"
make -s -C "$kdir/tree" M="$out/kmod" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules \
	>"$out/kmod.log" 2>&1 || { cat "$out/kmod.log" >&2; exit 1; }
# Linux's devicetree nodes, as rpk gen writes them from the link's file.
mkdir -p "$out/gen"
"$rpk" gen "$dts" --out "$out/gen" >"$out/gen.log" 2>&1 || { cat "$out/gen.log" >&2; exit 1; }
(umask 077 && truncate -s 256M "$ram")

remote() { # the remote, as a user runs it; its link events in remote.log
	RPK_LOG=1 "$rpk" run "$dts" --node remote --instance "$inst" --memory-file "$ram" \
		--memory-base $base --polling --timeout 600000 >>"$out/remote.log" 2>&1 &
	remote_pid=$!
	pids+=("$remote_pid")
}

boot() { # boot TEST: the guest in the background, its console in console.log
	RPK_ARM64_TIMEOUT=${RPK_ARM64_TIMEOUT:-240} "$src/qemu-arm64/boot" --ram-file "$ram" \
		--dtb-with "$out/gen/linux-rproc.dtso" --work "$out/qemu" \
		--append "rpk.test=$1 rpk.ko=/rpmsg_client_sample.ko rpk.mods=/rpk_shm_mbox.ko,/rpk_rproc.ko" \
		"$guest" "$kdir/rpmsg_client_sample.ko" "$out/kmod/rpk_shm_mbox.ko" \
		"$out/kmod/rpk_rproc.ko" >"$out/console.log" 2>"$out/boot.log" &
	qemu_pid=$!
	pids+=("$qemu_pid")
}

guest_done() { # wait for the guest to power off; 0 if it did
	wait "$qemu_pid"
}

wait_guest() { # wait_guest PATTERN: a console line, while the guest runs
	for _ in $(seq 4000); do
		grep -qE -- "$1" "$out/console.log" 2>/dev/null && return 0
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.05
	done
	fail "no /$1/ on the guest's console"
	return 1
}

case $case_ in
attach)
	remote
	wait_for "$out/remote.log" "resource table published" || finish linux-rproc.attach
	boot rproc
	wait_guest "rpk-guest: crash me" || { guest_done; finish linux-rproc.attach; }
	kill -9 "$remote_pid"
	wait "$remote_pid" 2>/dev/null
	remote
	guest_done || fail "the guest did not power off by itself: $(cat "$out/boot.log")"
	grep -E "^rpk-(step|verdict): |crash detected|is now attached|detached remote" \
		"$out/console.log" | sed 's/^/    /'
	grep -q "^rpk-verdict: PASS rproc" "$out/console.log" || fail "no PASS verdict"
	grep -qE "^rpk-(step|verdict): .*FAIL" "$out/console.log" && fail "a step failed"
	grep -q "^rpk-verdict: PASS echoed=1000" "$out/console.log" || fail "rpmsg_char did not echo 1000"
	[ "$(grep -c "master attached" "$out/remote.log")" -ge 3 ] ||
		fail "the remote saw fewer than 3 attaches"
	;;
corrupt)
	# Tables that make no sense, where the remote's would be (the real
	# remote lays one out, dies, and the test spoils it): the attach fails
	# with a line that says why, nothing oopses, the state is not attached.
	remote
	wait_for "$out/remote.log" "resource table published" || finish linux-rproc.corrupt
	kill -9 "$remote_pid"
	wait "$remote_pid" 2>/dev/null
	cp "$ram" "$out/good-ram"
	while IFS='|' read -r what field value why; do
		cp "$out/good-ram" "$ram"
		python3 -c '
import struct, sys
table = 0x4f0c63b8 - 0x40000000
fields = {"ver": 0, "num": 4, "offset0": 16, "vring0-da": 0x64}
with open(sys.argv[1], "r+b") as f:
    f.seek(table + fields[sys.argv[2]])
    f.write(struct.pack("<I", int(sys.argv[3], 0)))
' "$ram" "$field" "$value"
		boot corrupt
		guest_done || fail "$what: the guest did not power off by itself: $(cat "$out/boot.log")"
		grep -q "^rpk-verdict: PASS" "$out/console.log" ||
			fail "$what: $(grep "^rpk-verdict" "$out/console.log")"
		grep -qF -- "$why" "$out/console.log" || fail "$what: no line saying '$why'"
		echo "    $what: $(grep -F -- "$why" "$out/console.log" | head -1 | sed 's/^\[[^]]*\] //')"
	done <<'EOF'
version 2|ver|2|no resource table at 0x000000004f0c6000+0x3b8: version 2, not 1
too many entries|num|0x10000|65536 entries do not fit in 0x1000 bytes
an entry outside the table|offset0|0x7ffffff0|entry 0 at offset 0x7ffffff0 is outside it
vring0 outside its carveout|vring0-da|0x4f0d0000|vring 0 (da 0x4f0d0000, 16 entries, align 16) is not inside a carveout
EOF
	;;
*)
	echo "linux-rproc: unknown case $case_" >&2
	exit 2
	;;
esac
finish "linux-rproc.$case_"
