#!/usr/bin/env bash
# What each feature of the core costs in a remote's Cortex-M4 image
# (arm-none-eabi-gcc -Os, --gc-sections): bench/remote_min.c linked once per
# variant, the text of the core's objects summed from the link map.
#
#   footprint.sh ROOT [CSV]
#
# Prints a table: per variant, the text of src/rpmsg and src/virtio (what
# issue 14 compares with RPMsg-Lite's rpmsg + virtio), of the rest of the
# core, and the difference from the base set. CSV, if given, gets the same
# rows. Exits 77 when arm-none-eabi-gcc is missing.
set -euo pipefail
root=$(cd "$1" && pwd)
csv=${2:-}
command -v arm-none-eabi-gcc >/dev/null || { echo "footprint: no arm-none-eabi-gcc" >&2; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc=arm-none-eabi-gcc
cflags=(-mcpu=cortex-m4 -mthumb -std=c11 -ffreestanding -nostdinc
	-isystem "$($cc -print-file-name=include)" -Os -ffunction-sections -fdata-sections
	-Wall -Wextra -Werror -I"$root/include" -I"$root/src")
mkdir "$out/core"
core=$(sed -n '/^set(RPK_CORE_SOURCES/,/)/p' "$root/cmake/sources.cmake" | grep -o 'src/[a-z_/]*\.c')
for f in $core; do
	# The folder in the name: the map tells rpmsg and virtio from the rest.
	o=$(echo "${f#src/}" | tr / -)
	$cc "${cflags[@]}" -c "$root/$f" -o "$out/core/${o%.c}.o"
done
names=("base: send, receive callback, one endpoint, name announced"
	"+ event indices" "+ blocking sends" "+ zero-copy send" "+ holding a received buffer"
	"+ liveness checks" "+ a resource table" "+ a tap" "+ hearing the master's announcements")
keys=(base event_idx blocking_send zero_copy hold_rx liveness rsc_table tap listen_ns)
base=0
printf '%-60s %12s %10s %8s\n' "variant (remote, Cortex-M4 -Os)" "rpmsg+virtio" "rest" "vs base"
[ -z "$csv" ] || echo "variant,rpmsg_virtio_text,other_core_text,vs_base" >"$csv"
for v in "${!names[@]}"; do
	$cc "${cflags[@]}" -DRPK_MIN_FEATURE="$v" -c "$root/bench/remote_min.c" -o "$out/min$v.o"
	$cc -mcpu=cortex-m4 -mthumb -nostdlib -Wl,--gc-sections -Wl,-e,rpk_min_main \
		-Wl,-Map,"$out/min$v.map" "$out/min$v.o" "$out"/core/*.o -lgcc -o "$out/min$v.elf"
	read -r rv rest < <(python3 - "$out/min$v.map" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = text[text.index('Linker script and memory map'):]
lines = text.splitlines()
rv = rest = 0
i = 0
while i < len(lines):
    m = re.match(r'^ (\.(?:text|rodata)\S*)(.*)$', lines[i])
    if m:
        f = m.group(2).split()
        if len(f) < 3 and i + 1 < len(lines):
            i += 1
            f = lines[i].split()
        if len(f) >= 3 and '/core/' in f[2]:
            size = int(f[1], 16)
            obj = f[2].rsplit('/', 1)[1]
            if obj.startswith(('rpmsg-', 'virtio-')):
                rv += size
            else:
                rest += size
    i += 1
print(rv, rest)
PY
	)
	[ "$v" = 0 ] && base=$((rv + rest))
	printf '%-60s %12d %10d %+8d\n' "${names[$v]}" "$rv" "$rest" $((rv + rest - base))
	[ -z "$csv" ] || echo "${keys[$v]},$rv,$rest,$((rv + rest - base))" >>"$csv"
done
