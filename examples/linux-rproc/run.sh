#!/usr/bin/env bash
# The seeds' link with a real Linux kernel as its master, in one command:
# arm64 Linux 6.1 in QEMU attaches through remoteproc (kernel/rpk_rproc.c)
# to our remote, a host process that laid its resource table out in the
# guest's RAM before the guest booted, exactly where the devicetree says
# (examples/dts/qemu-virt-linux.dts: the seeds' layout). The guest then runs
# rpmsg_client_sample (100 messages), 1000 rpmsg_char echoes, a detach and a
# start, and a crash: when the guest asks, this script kills the remote and
# starts it again, and Linux recovers by itself.
#
#   examples/linux-rproc/run.sh RPK [--interrupts]
#
# Both sides poll the shared-memory mailbox; with --interrupts, doorbells are
# interrupts both ways (QEMU's ivshmem-doorbell device, kernel/
# rpk_ivshmem_mbox.c in the guest, rpk ivshmem-server on the host) and the
# remote sleeps on them.
#
# Needs qemu-system-aarch64, gcc-aarch64-linux-gnu and linux-source-6.1
# (scripts/deps installs them); the first run builds the kernel (minutes).
# Prints each step of the guest; exits 0 if all passed.
set -uo pipefail
doorbell=poll remote_kind=host
case "${2:-}" in
"") ;;
--interrupts) doorbell=ivshmem ;;
--firmware) remote_kind=firmware ;;
*) set -- ;; # a usage error below
esac
[ $# -eq 1 ] || [ $# -eq 2 ] ||
	{ echo "usage: examples/linux-rproc/run.sh RPK [--interrupts | --firmware]" >&2; exit 2; }
rpk=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
inst=linux-rproc-$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -f /dev/shm/rpk-"$inst"-*
	rm -rf "$out"
}
trap cleanup EXIT
source "$src/examples/linux-rproc/link.sh" || exit 1

remote
published="resource table published"
[ "$remote_kind" = firmware ] && published="resource table at 0x[0-9a-f]*, waiting for a master"
for _ in $(seq 200); do
	grep -q "$published" "$out/remote.log" 2>/dev/null && break
	sleep 0.05
done
echo "remote: $(grep -m1 "$published" "$out/remote.log" || echo "no table")"
boot rproc
if wait_console "rpk-guest: crash me"; then
	remote_crash
	echo "remote: $([ "$remote_kind" = firmware ] && echo "board reset" || echo "killed, and started again")"
fi
wait "$qemu_pid"
qemu_rc=$?
kill -TERM "$remote_pid" 2>/dev/null # our remote prints its counts as it goes
wait "$remote_pid" 2>/dev/null
grep -E "^rpk-(step|verdict|irq): |crash detected|is now attached|detached remote" "$out/console.log"
grep -E "master attached|link down|MMU on" "$out/remote.log" | sed 's/^/remote: /'
if [ "$doorbell" = ivshmem ]; then
	grep -h "woken" "$out/remote.log" | sed 's/^/remote: /'
	grep -hE "joined|left" "$out/ivshmem.log"
fi
if [ "$qemu_rc" -ne 0 ] || ! grep -q "^rpk-verdict: PASS rproc" "$out/console.log" ||
	grep -qE "^rpk-(step|verdict): .*FAIL" "$out/console.log"; then
	echo "FAIL (the guest's console follows)" >&2
	cat "$out/boot.log" "$out/console.log" >&2
	exit 1
fi
echo PASS
