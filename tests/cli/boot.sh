#!/usr/bin/env bash
# Auto-boot with real processes: the master loads examples/firmware/boot_fw.c
# (built by gcc and by arm-none-eabi-gcc) into the link's memory, assigns what
# the table leaves open, starts the remote, runs it, reloads and restarts it
# when it dies, and stops it on exit. Bad images are refused with a reason.
set -uo pipefail
rpk=$1
root=$2
dts=$root/tests/integration/boot16.dts
inst=boot-$$
extra_cleanup() { pkill -9 -f -- "--instance $inst --booted"; rm -f /dev/shm/rpk-"$inst"b-*; }
. "$(dirname "$0")/lib.sh"

fw=$root/examples/firmware
gcc -std=c11 -ffreestanding -nostdlib -static -no-pie -fno-pic -Os -I"$root/include" \
	-Wl,-T,"$fw/boot_fw.ld" -Wl,--build-id=none -Wl,--no-warn-rwx-segments "$fw/boot_fw.c" \
	-o "$out/host.elf" || fail "gcc could not build the firmware"
arm-none-eabi-gcc -std=c11 -mcpu=cortex-m4 -mthumb -ffreestanding -nostdlib -Os -I"$root/include" \
	-Wl,-T,"$fw/boot_fw.ld" -Wl,--no-warn-rwx-segments "$fw/boot_fw.c" -o "$out/arm.elf" ||
	fail "arm-none-eabi-gcc could not build the firmware"
expect 0 'ELF64' -- "$rpk" rsc dump "$out/host.elf"
expect 0 'vring0 +da ANY \(master allocates\)' -- "$rpk" rsc dump "$out/arm.elf"

# Boot, echo, stop: with either compiler's image.
for img in host arm; do
	expect 0 '200/200 messages came back intact' -- \
		"$rpk" run "$dts" --node master --instance "$inst" --firmware "$out/$img.elf" --count 200
	grep -q "booted $out/$img.elf (remote 'remote', pid" "$out/log" || fail "$img: $(cat "$out/log")"
	pgrep -f -- "--instance $inst --booted" >/dev/null && fail "$img: the remote outlived its master"
	ls /dev/shm/rpk-"$inst"-* >/dev/null 2>&1 && fail "$img: shared memory left: $(ls /dev/shm)"
done

# Poll (bounded, 20 s) until rpk status says STATE (and matches PATTERN).
wait_status() {
	local want=$1 pattern=${2:-.}
	for _ in $(seq 200); do
		"$rpk" status "$dts" --node master --instance "$inst" >"$out/s" 2>&1
		[ "$(head -1 "$out/s")" = "$want" ] && grep -qE -- "$pattern" "$out/s" && return 0
		sleep 0.1
	done
	fail "status never '$want' /$pattern/: $(cat "$out/s")"
}

# Running, with the addresses the master chose written into the live table.
"$rpk" run "$dts" --node master --instance "$inst" --firmware "$out/arm.elf" >"$out/master.log" 2>&1 &
master=$!
pids+=("$master")
wait_status running 'remote  pid [0-9]+, session 1, running'
"$rpk" rsc dump --dt "$dts" --node master --instance "$inst" >"$out/d" 2>&1
grep -qE 'carveout +"heap" +da 0x200d1000' "$out/d" || fail "heap not placed after the image: $(cat "$out/d")"
grep -qE 'vring0 +da 0x200c8000 +num 16 +align 64 +notifyid 0' "$out/d" || fail "vring0: $(cat "$out/d")"
grep -qE 'vring1 +da 0x200c9000 +num 16 +align 64 +notifyid 1' "$out/d" || fail "vring1: $(cat "$out/d")"
"$rpk" trace "$dts" --node remote --instance "$inst" | grep -q 'booted with the table installed at 0x200c63b8' ||
	fail "the booted remote's trace: $("$rpk" trace "$dts" --node remote --instance "$inst" 2>&1)"

# The remote dies: the master loads the firmware again and restarts it.
remote=$(sed -nE 's/^  remote  pid ([0-9]+),.*/\1/p' "$out/s")
kill -9 "$remote"
wait_status running 'remote  pid [0-9]+, session 2, running'
grep -q "remote  pid $remote," "$out/s" && fail "still the dead remote: $(cat "$out/s")"
# The counter page is refreshed each watchdog period: poll it (bounded, 20 s).
for _ in $(seq 200); do
	"$rpk" stat "$dts" --node master --instance "$inst" >"$out/st"
	grep -qE 'attaches 2, crashes 1,' "$out/st" && break
	sleep 0.1
done
grep -qE 'attaches 2, crashes 1,' "$out/st" || fail "rpk stat after recovery: $(cat "$out/st")"
[ "$("$rpk" trace "$dts" --node remote --instance "$inst" | grep -c 'booted with the table')" -eq 2 ] ||
	fail "trace should show both boots: $("$rpk" trace "$dts" --node remote --instance "$inst")"

# Stop: the master takes its remote down and leaves nothing behind.
kill -INT "$master"
wait "$master" || fail "master exit $?: $(cat "$out/master.log")"
pgrep -f -- "--instance $inst --booted" >/dev/null && fail "the remote outlived its master"
ls /dev/shm/rpk-"$inst"-* >/dev/null 2>&1 && fail "shared memory left: $(ls /dev/shm)"

# Images the master must refuse, with the reason.
head -c 100 "$out/arm.elf" >"$out/trunc.elf"
expect 1 'firmware: bad ELF image' -- \
	"$rpk" run "$dts" --node master --instance "$inst"b --firmware "$out/trunc.elf" --timeout 2000
arm-none-eabi-objcopy --change-section-address .resource_table+0x48 "$out/arm.elf" "$out/moved.elf" 2>/dev/null
expect 1 'firmware: .resource_table is at 0x200c6400 .* puts the table at 0x200c63b8' -- \
	"$rpk" run "$dts" --node master --instance "$inst"b --firmware "$out/moved.elf" --timeout 2000
arm-none-eabi-objcopy --change-section-lma .text+0x100000 "$out/arm.elf" "$out/outside.elf" 2>/dev/null
expect 1 'firmware: a loadable segment is outside every carveout and devmem' -- \
	"$rpk" run "$dts" --node master --instance "$inst"b --firmware "$out/outside.elf" --timeout 2000
arm-none-eabi-objcopy --remove-section .resource_table "$out/arm.elf" "$out/notable.elf" 2>/dev/null
expect 1 'firmware: no .resource_table section with contents' -- \
	"$rpk" run "$dts" --node master --instance "$inst"b --firmware "$out/notable.elf" --timeout 2000
expect 1 'nosuch.elf: No such file' -- \
	"$rpk" run "$dts" --node master --instance "$inst"b --firmware "$out/nosuch.elf" --timeout 2000
expect 2 '--firmware is for a master node' -- \
	"$rpk" run "$dts" --node remote --instance "$inst"b --firmware "$out/arm.elf"
pgrep -f -- "--instance ${inst}b --booted" >/dev/null && fail "a refused image started a remote"

finish boot
