# Sourced by a board's build.sh: what every firmware build does. Set before:
#   rpk    the rpk binary (its `rpk gen` writes the link's headers)
#   out    the output folder
#   root   the project's root
#   dts    the board's link devicetree (examples/dts/)
#   cc     the cross compiler; cflags (an array) its flags
# Then: fw_gen, fw_compile_core (sets core_objs), fw_compile NAME SOURCE.
# Objects land in $out/obj: the core's by source name, the firmware's as
# fw-NAME.o (tests/build/remote_image.sh tells them apart that way).

fw_gen() { # the remote's resource_table.h and mmu_regions.h, in $out/gen
	mkdir -p "$out/gen" "$out/obj"
	"$rpk" gen "$dts" --node remote --out "$out/gen" >"$out/gen.log" 2>&1 ||
		{ cat "$out/gen.log" >&2; return 1; }
}

fw_compile_core() { # the rpmsg-kit core, from the library's own list
	local f o
	core_objs=()
	for f in $(sed -n '/^set(RPK_CORE_SOURCES/,/)/p' "$root/cmake/sources.cmake" |
		grep -o 'src/[a-z_/]*\.c'); do
		o="$out/obj/$(basename "$f" .c).o"
		"$cc" "${cflags[@]}" -c "$root/$f" -o "$o" || return 1
		core_objs+=("$o")
	done
}

fw_compile() { # fw_compile NAME SOURCE: a firmware file, with the generated headers
	"$cc" "${cflags[@]}" -fno-builtin -I"$root/examples/firmware/common" -I"$out/gen" \
		-c "$2" -o "$out/obj/fw-$1.o"
}
