#!/usr/bin/env bash
# library.remote_image: a remote-only Cortex-M image links no master code,
# and no code of a feature it does not call (waiting to send).
#
# Builds the remote firmware of examples/firmware/mps2-an386 (it sets up with
# rpk_rpmsg_init_remote(); the firmware QEMU runs in firmware.*) with its
# build.sh, as a firmware is built: arm-none-eabi-gcc -Os -ffunction-sections
# -fdata-sections, linked with --gc-sections and a link map. From the map:
#  - each master-only function and table below is in the core's objects but
#    discarded from the image (so the list cannot go stale unseen);
#  - no code or data section of the master's files (the master role, the
#    virtio driver half, the run-time role choosers) is in the image at all;
#  - the code that waits for a buffer to send is discarded too: the firmware
#    only tries (RPK_NO_WAIT);
#  - the remote's own functions are in it (the test cannot pass by linking
#    nothing).
# Then the same image from the core as an archive and without --gc-sections:
# the linker does not even load the master's objects. Prints the image's size.
set -euo pipefail
root=$1
rpk=$2 # rpk gen writes the firmware's resource_table.h
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Files whose every byte is master-only (or serves either role, chosen at run
# time: an image that is only a remote has no use for them).
master_files="master.o driver_tx.o symmetric.o vq_driver.o either_role.o vq_either.o"
# Named master-only symbols: the master's role (src/rpmsg/master.c), the send
# path of a buffer owner (driver_tx.c), the symmetric role (symmetric.c), the
# virtio driver half (src/virtio/vq_driver.c), the run-time choosers.
master_syms="rpk_rpmsg_init_master master_ops rpk_drvtx_reclaim master_reset master_lay_out
	master_start master_next_rx master_recycle_rx rpk_drvtx_try_get rpk_drvtx_post
	rpk_drvtx_unget master_want_kicks rpk_pool_kept_head
	rpk_rpmsg_init_symmetric symmetric_master_ops symmetric_remote_ops
	rpk_vq_init_driver rpk_vq_reset_driver zero_ring rpk_vq_alloc_desc rpk_vq_free_desc
	rpk_vq_post rpk_vq_add_buf rpk_vq_get_used rpk_vq_kick_prepare rpk_vq_enable_cb
	rpk_vq_disable_cb
	rpk_rpmsg_init rpk_vq_init rpk_vq_reset"
# The firmware sends with RPK_NO_WAIT only: none of the code that waits for a
# buffer is linked (rpk_send() and its kin fold to rpk_trysend_offchannel()).
waiting_syms="rpk_send_offchannel_raw get_tx_waiting"
# The remote's: these must be in the image.
remote_syms="rpk_rpmsg_init_remote remote_ops rpk_rpmsg_setup rpk_devrx_next rpk_devrx_recycle
	remote_try_get_tx remote_post_tx remote_start rpk_vq_init_device rpk_vq_get_avail
	rpk_vq_add_used rpk_vq_add_used_read rpk_vq_need_interrupt rpk_rpmsg_poll
	rpk_rpmsg_start rpk_trysend_offchannel rpk_ept_create rpk_ns_flush"
# What a remote asks for only by calling it (rpk_rpmsg_listen_ns,
# rpk_rpmsg_use_event_idx), and the firmware does not: hearing the master's
# announcements, event indices.
optin_syms="rpk_rpmsg_listen_ns ns_rx rpk_rpmsg_use_event_idx rpk_vq_set_event_idx event_passed"

bash "$root/examples/firmware/mps2-an386/build.sh" "$rpk" "$out" >"$out/build.log" 2>&1 ||
	{ cat "$out/build.log" >&2; exit 1; }
mkdir "$out/core" "$out/fw"
mv "$out"/obj/fw-*.o "$out/fw/"
mv "$out"/obj/*.o "$out/core/"
cp "$out/fw.elf" "$out/remote.elf"
cp "$out/fw.map" "$out/remote.map"
fw_objs=("$out"/fw/fw-{echo,doorbell_poll,board,console,libc_min}.o)

echo "remote firmware (examples/firmware/mps2-an386), Cortex-M4 -Os, --gc-sections:"
arm-none-eabi-size "$out/remote.elf"
fw_syms=" $(arm-none-eabi-nm --defined-only "${fw_objs[@]}" | awk 'NF==3 {print $3}' | tr '\n' ' ') "
core_text=0
while read -r _ size type name; do
	case "$type" in [tT]) ;; *) continue ;; esac
	case "$fw_syms" in *" $name "*) continue ;; esac
	core_text=$((core_text + 0x$size))
done < <(arm-none-eabi-nm -S --defined-only "$out/remote.elf")
echo "of which the rpmsg-kit core: $core_text bytes of text"

# The map's input sections, one per line: "kept|discarded section size object".
# A long section name stands alone on its line, its address, size and object
# on the next.
awk '
/^Discarded input sections/ { region = "discarded"; next }
/^Memory Configuration/ { region = ""; next }
/^Linker script and memory map/ { region = "kept"; next }
region == "" { next }
pending != "" {
	if ($1 ~ /^0x/ && NF >= 3) print region, pending, $2, $3
	pending = ""
	next
}
/^ \.[^ ]+$/ { pending = $1; next }
/^ \.[^ ]+ +0x/ && NF >= 4 { print region, $1, $3, $4 }
' "$out/remote.map" >"$out/sections"
grep -q '^kept ' "$out/sections" && grep -q '^discarded ' "$out/sections" ||
	{ echo "could not read the link map" >&2; exit 1; }

fail=0
image_syms=" $(arm-none-eabi-nm "$out/remote.elf" | awk '{print $NF}' | tr '\n' ' ') "
object_syms=" $(arm-none-eabi-nm --defined-only "$out"/core/*.o | awk 'NF==3 {print $3}' | tr '\n' ' ') "
# A code or data section named after sym (.text.sym, .rodata.sym...), in region.
has_section() {
	awk -v r="$1" -v s="$2" '$1 == r && $2 ~ "^\\.(text|rodata|data|bss)\\." s "$" { f = 1 }
		END { exit !f }' "$out/sections"
}
# Each of the symbols after the first argument (what they are) is in the
# core's objects, and discarded from the image.
expect_discarded() {
	local what=$1
	shift
	for s in "$@"; do
		if [[ $object_syms != *" $s "* ]]; then
			echo "FAIL: $s is not in the core's objects (renamed or inlined? update the list)" >&2
			fail=1
		elif [[ $image_syms == *" $s "* ]] || has_section kept "$s"; then
			echo "FAIL: $what $s is in the remote image" >&2
			fail=1
		elif ! has_section discarded "$s"; then
			echo "FAIL: the map does not show $what $s discarded" >&2
			fail=1
		fi
	done
}
expect_discarded master-only $master_syms
expect_discarded "never called (the firmware only tries to send)" $waiting_syms
expect_discarded "never asked for" $optin_syms
for s in $remote_syms; do
	if [[ $image_syms != *" $s "* ]] || ! has_section kept "$s"; then
		echo "FAIL: the remote's $s is not in the remote image" >&2
		fail=1
	fi
done
for o in $master_files; do
	kept=$(awk -v o="/$o" '$1 == "kept" && $2 ~ /^\.(text|rodata|data|bss)/ && $3 != "0x0" &&
		substr($4, length($4) - length(o) + 1) == o { print "  " $2 " " $3 }' "$out/sections")
	if [ -n "$kept" ]; then
		echo "FAIL: the remote image holds code or data of $o:" >&2
		echo "$kept" >&2
		fail=1
	fi
done

# Without --gc-sections, from an archive: whole objects, loaded only if needed.
arm-none-eabi-ar rcs "$out/librpk_core.a" "$out"/core/*.o
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -nostdlib \
	-T "$root/examples/firmware/mps2-an386/link.ld" -Wl,-Map,"$out/archive.map" \
	"${fw_objs[@]}" "$out/librpk_core.a" -lgcc -o "$out/archive.elf"
loaded=$(sed -n 's/^[^ ]*librpk_core\.a(\([^)]*\)).*/\1/p' "$out/archive.map" | sort -u)
[ -n "$loaded" ] || { echo "could not read the archive link's map" >&2; exit 1; }
for o in $master_files; do
	if grep -qx "$o" <<<"$loaded"; then
		echo "FAIL: linking the remote from the archive loads $o" >&2
		fail=1
	fi
done
echo "from the archive without --gc-sections it loads:" $loaded
arm-none-eabi-size "$out/archive.elf"

[ $fail = 0 ] || exit 1
echo "master-only, absent from the remote image:" $master_syms
echo "PASS: the remote image links no master code"
