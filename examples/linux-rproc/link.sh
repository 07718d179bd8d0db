# Sourced by examples/linux-rproc/run.sh and tests/linux-rproc/rproc.sh: the
# seeds' link with arm64 Linux 6.1 in QEMU as its master. Set src (the
# source tree), rpk, out (a scratch folder), inst (the link's instance) and a
# pids array first, and doorbell: poll (default: both sides poll the
# shared-memory mailbox) or ivshmem (interrupts both ways through QEMU's
# ivshmem-doorbell device and rpk ivshmem-server; the remote sleeps), and
# remote_kind: host (default: our remote, a host process) or firmware (the
# AArch64 firmware of examples/firmware/qemu-virt-a53 in a second QEMU: the
# seeds' whole system, both processors emulated). Builds what the guest
# needs (once: the kernel is cached, the rest takes seconds), then offers:
#   remote       start the remote: rpk run --node remote on the guest's RAM
#                file, or the firmware's QEMU on the same memory
#   remote_crash the remote dies and starts again: killed and restarted, or
#                the firmware's board reset (system_reset)
#   boot TEST    the guest running rpk-guest's scenario TEST, in the background
#   wait_console PATTERN   until the guest prints it (1 if it stopped first)
# The guest's console goes to $out/console.log, the remote's to remote.log.
remote_kind=${remote_kind:-host}
case $remote_kind in
host)
	dts=$src/examples/dts/qemu-virt-linux.dts
	ram=/dev/shm/rpk-$inst-ram # the guest's RAM: removed with the instance
	base=0x40000000            # where QEMU's virt machine puts its RAM
	ram_size=256M
	;;
firmware)
	# Two machines cannot share all of their RAM: each QEMU writes its
	# devicetree at the base of its own. So each has two NUMA nodes, its
	# own 240 MiB at 0x40000000 and the shared 16 MiB at 0x4f000000, which
	# holds the firmware's image and the link (qemu-virt-a53.dts).
	dts=$src/examples/dts/qemu-virt-a53.dts
	ram=/dev/shm/rpk-$inst-ram
	ram_size=16M
	split=(-object memory-backend-ram,id=own,size=240M
		-object "memory-backend-file,id=link,size=16M,mem-path=$ram,share=on"
		-numa node,memdev=own -numa node,memdev=link)
	bash "$src/examples/firmware/qemu-virt-a53/build.sh" "$rpk" "$out/fw" >"$out/fw.log" 2>&1 ||
		{ cat "$out/fw.log" >&2; return 1; }
	# The guest keeps off the firmware's image, below the link's regions.
	printf '/dts-v1/;\n/plugin/;\n&{/reserved-memory} {\n\tremote-image@4f000000 {\n%s\n\t};\n};\n' \
		'		no-map;
		reg = <0x0 0x4f000000 0x0 0xc5000>;' >"$out/remote-image.dtso"
	;;
*)
	echo "link.sh: remote_kind is host or firmware, not '$remote_kind'" >&2
	return 2
	;;
esac

kdir=$("$src/qemu-arm64/build-kernel") || return 1
# The guest's init: the same program as the UML guest's, for aarch64.
aarch64-linux-gnu-gcc -std=gnu11 -static -O2 -Wall -Wextra -Werror -D_GNU_SOURCE \
	-o "$out/rpk-guest" "$src/uml/guest/rpk-guest.c" || return 1
# The driver, built against the cached kernel tree.
mkdir -p "$out/kmod" "$out/gen"
cp "$src"/kernel/*.c "$src/kernel/Kbuild" "$out/kmod/"
make -s -C "$kdir/tree" M="$out/kmod" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules \
	>"$out/kmod.log" 2>&1 || { cat "$out/kmod.log" >&2; return 1; }
# Linux's devicetree nodes, as rpk gen writes them from the link's file; with
# ivshmem doorbells, the device's node at slot 2 of virt's PCIe host bridge.
doorbell=${doorbell:-poll}
case $doorbell in
poll)
	gen_args=() remote_args=(--polling) mbox_ko=rpk_shm_mbox.ko qemu_args=()
	;;
ivshmem)
	gen_args=(--linux-ivshmem /pcie@10000000/mailbox@2,0)
	remote_args=(--ivshmem "$out/ivshmem.sock") mbox_ko=rpk_ivshmem_mbox.ko
	qemu_args=(-chardev "socket,path=$out/ivshmem.sock,id=ivshmem"
		-device "ivshmem-doorbell,chardev=ivshmem,vectors=2,addr=2.0")
	# The server first: the remote joins it as peer 0, whom the guest
	# rings; QEMU joins when it starts (docs/linux-rproc.md).
	"$rpk" ivshmem-server "$out/ivshmem.sock" >"$out/ivshmem.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		[ -S "$out/ivshmem.sock" ] && break
		sleep 0.05
	done
	;;
*)
	echo "link.sh: doorbell is poll or ivshmem, not '$doorbell'" >&2
	return 2
	;;
esac
"$rpk" gen "$dts" --out "$out/gen" "${gen_args[@]}" >"$out/gen.log" 2>&1 ||
	{ cat "$out/gen.log" >&2; return 1; }
(umask 077 && truncate -s $ram_size "$ram")

remote() {
	if [ "$remote_kind" = firmware ]; then
		qemu-system-aarch64 -machine virt -cpu cortex-a53 -m 256M -nographic -nic none "${split[@]}" \
			-serial file:"$out/remote.log" -monitor unix:"$out/monitor",server=on,wait=off \
			-kernel "$out/fw/fw.elf" >"$out/fw-qemu.log" 2>&1 &
	else
		RPK_LOG=1 "$rpk" run "$dts" --node remote --instance "$inst" --memory-file "$ram" \
			--memory-base $base "${remote_args[@]}" --timeout 600000 >>"$out/remote.log" 2>&1 &
	fi
	remote_pid=$!
	pids+=("$remote_pid")
}

remote_crash() {
	if [ "$remote_kind" = firmware ]; then
		python3 "$src/examples/firmware/qemu-monitor.py" "$out/monitor" system_reset
	else
		kill -9 "$remote_pid"
		wait "$remote_pid" 2>/dev/null
		remote
	fi
}

boot() {
	local memory=(--ram-file "$ram") extra=() append=""

	if [ "$remote_kind" = firmware ]; then
		# After rpk gen's overlay, which makes /reserved-memory. The
		# firmware keeps no trace buffer.
		memory=(--dtb-with "$out/remote-image.dtso") extra=("${split[@]}") append=" rpk.trace=no"
	fi
	RPK_ARM64_TIMEOUT=${RPK_ARM64_TIMEOUT:-240} "$src/qemu-arm64/boot" \
		--dtb-with "$out/gen/linux-rproc.dtso" "${memory[@]}" --work "$out/qemu" \
		--append "rpk.test=$1 rpk.ko=/rpmsg_client_sample.ko rpk.mods=/$mbox_ko,/rpk_rproc.ko$append" \
		"$out/rpk-guest" "$kdir/rpmsg_client_sample.ko" "$out/kmod/$mbox_ko" \
		"$out/kmod/rpk_rproc.ko" -- "${qemu_args[@]}" "${extra[@]}" >"$out/console.log" \
		2>"$out/boot.log" &
	qemu_pid=$!
	pids+=("$qemu_pid")
}

wait_console() {
	for _ in $(seq 4000); do
		grep -qE -- "$1" "$out/console.log" 2>/dev/null && return 0
		kill -0 "$qemu_pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
