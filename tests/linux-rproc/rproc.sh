#!/usr/bin/env bash
# A real Linux kernel as the master of the seeds' link: arm64 Linux 6.1 in
# QEMU attaches through remoteproc (kernel/rpk_rproc.c, kernel/rpk_shm_mbox.c)
# to our remote, a host process that maps the guest's RAM file and laid out
# its table there before the guest booted (examples/linux-rproc/).
#   rproc.sh CASE RPK SRCDIR
#   attach   what examples/linux-rproc/run.sh shows, checked: attach;
#            rpmsg_client_sample 100/100; rpmsg_char 1000 echoes; detach (the
#            remote sees it and runs on) and start; the remote killed and
#            restarted: Linux reports the crash, attaches again, and the
#            sample runs a third time
#   irq      the same run with doorbells as interrupts both ways (QEMU's
#            ivshmem-doorbell, kernel/rpk_ivshmem_mbox.c, rpk ivshmem-server),
#            the remote asleep: the guest counts the remote's kicks as
#            interrupts, the remote wakes on Linux's
#   firmware the same run against the AArch64 firmware in a second QEMU
#            sharing the link's memory with the guest (the seeds' whole
#            system); its crash is a reset of its board
#   corrupt  tables that make no sense where the remote's would be: the
#            attach fails with a line that says why, nothing oopses
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

# The steps examples/linux-rproc/run.sh prints for a run that went well.
guest_steps=("rpk-step: attach PASS" "rpk-step: sample PASS incoming=100 goodbye=1 bugs=0"
	"rpk-verdict: PASS echoed=1000" "rpk-step: stop-refused PASS state=attached"
	"rpk-step: detach PASS state=detached" "rpk-step: reattach PASS state=attached"
	"rpk-step: sample-again PASS incoming=200" "crash detected in remoteproc"
	"rpk-step: crash PASS crashes=1 state=attached"
	"rpk-step: sample-after-crash PASS incoming=300 goodbye=3" "rpk-verdict: PASS rproc")
check_rproc_run() {
	sed 's/^/    /' "$out/log"
	for want in "${guest_steps[@]}" "rpk-step: trace PASS" \
		"remote: .*link down: the master of session 0 (reset it|laid the rings out anew)"; do
		grep -qE -- "$want" "$out/log" || fail "no '$want'"
	done
	# Three attaches of the first remote (boot, start), one of the second.
	[ "$(grep -c "master attached (" "$out/log")" = 3 ] || fail "not 3 attaches seen by the remotes"
}

case $case_ in
attach)
	expect 0 "^PASS$" -- "$src/examples/linux-rproc/run.sh" "$rpk"
	check_rproc_run
	;;
firmware)
	expect 0 "^PASS$" -- "$src/examples/linux-rproc/run.sh" "$rpk" --firmware
	sed 's/^/    /' "$out/log"
	for want in "${guest_steps[@]}"; do
		grep -qE -- "$want" "$out/log" || fail "no '$want'"
	done
	# The firmware booted twice (the reset), its MMU on each time, and
	# served three attaches: boot, start, after the reset; nothing lost.
	[ "$(grep -c "remote: rpk firmware: MMU on" "$out/log")" = 2 ] || fail "not two boots of the firmware"
	[ "$(grep -c "remote: rpk firmware: master attached" "$out/log")" = 3 ] ||
		fail "not three attaches seen by the firmware"
	grep -q "echoed 1100, lost 0" "$out/log" || fail "the firmware did not echo 1100 messages before the detach"
	! grep -q "lost [1-9]" "$out/log" || fail "the firmware lost echoes"
	;;
irq)
	expect 0 "^PASS$" -- "$src/examples/linux-rproc/run.sh" "$rpk" --interrupts
	check_rproc_run
	# Linux took the remote's kicks as interrupts: the counts of our
	# driver's vectors in /proc/interrupts ("rpk-irq: N: C0 ... name").
	irqs=$(awk '/^rpk-irq:/ && /rpk-ivshmem/ { for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i; else break }
		END { print n + 0 }' "$out/log")
	[ "$irqs" -gt 0 ] || fail "no interrupts counted for rpk-ivshmem in the guest"
	# The remote slept, and Linux's kicks woke it (the second remote's
	# counts: the first was killed).
	grep -qE "remote: remote -> master: .* woken [1-9][0-9]* times" "$out/log" ||
		fail "the remote was not woken by Linux's doorbell"
	grep -q "peer 0 joined" "$out/log" || fail "the remote never joined the ivshmem server"
	echo "    guest interrupts from the remote: $irqs"
	;;
corrupt)
	source "$src/examples/linux-rproc/link.sh" || exit 1
	# The real remote lays its table out and dies; each case spoils one word.
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
fields = {"ver": 0, "num": 4, "offset0": 16, "entry0-type": 0x18, "vdev-status": 0x60,
          "vring0-da": 0x64}
with open(sys.argv[1], "r+b") as f:
    f.seek(table + fields[sys.argv[2]])
    f.write(struct.pack("<I", int(sys.argv[3], 0)))
' "$ram" "$field" "$value"
		boot corrupt
		wait "$qemu_pid" || fail "$what: the guest did not power off by itself: $(cat "$out/boot.log")"
		grep -q "^rpk-verdict: PASS" "$out/console.log" ||
			fail "$what: $(grep "^rpk-verdict" "$out/console.log")"
		grep -qF -- "$why" "$out/console.log" || fail "$what: no line saying '$why'"
		echo "    $what: $(grep -F -- "$why" "$out/console.log" | head -1 | sed 's/^\[[^]]*\] //')"
	done <<'CASES'
version 2|ver|2|no resource table at 0x000000004f0c6000+0x3b8: version 2, not 1
too many entries|num|0x10000|65536 entries do not fit in 0x1000 bytes
an entry outside the table|offset0|0x7ffffff0|entry 0 at offset 0x7ffffff0 is outside it
a carveout the remote asks for|entry0-type|0|entry 0 is a carveout: an attached remote's memory is the devicetree's
three vrings|vdev-status|0x300|the vdev at entry 1 does not fit in it
vring0 outside its carveout|vring0-da|0x4f0d0000|vring 0 (da 0x4f0d0000, 16 entries, align 16) is not the carveout vdev0vring0
CASES
	;;
*)
	echo "linux-rproc: unknown case $case_" >&2
	exit 2
	;;
esac
finish "linux-rproc.$case_"
