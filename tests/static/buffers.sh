#!/usr/bin/env bash
# Buffers beyond Linux's 512 bytes between rpmsg-kit peers (rpk,buf-size,
# issue 17 item 5):
#   buffers.sh CASE RPK SRCDIR
#   64k      a link of 64 KiB buffers: 100 000 echoes of pseudo-random
#            sizes from 1 to 65520 bytes, every one checked
#   refused  what a layout may not say, each refused by name: a size that
#            is not a multiple of 64 from 512 to 65536, two sides cutting one
#            pool differently, a pool too small for the rings; and larger
#            buffers toward Linux (rpk vhost-user, rpk gen's Linux fragment)
set -uo pipefail
case_=$1 rpk=$(realpath "$2") src=$3
inst=buffers-$case_-$$
dts=$src/tests/static/buffers-64k.dts
source "$src/tests/cli/lib.sh"

# variant NAME SED-SCRIPT: a copy of the 64 KiB layout, edited.
variant() {
	sed -e "$2" "$dts" >"$out/$1.dts"
}

case $case_ in
64k)
	start remote remote.log
	expect 0 "100000/100000 messages came back intact" -- \
		"$rpk" run "$dts" --node master --instance "$inst" --count 100000
	cat "$out/log"
	;;
refused)
	for bad in 100 256 131072 65600; do
		variant bad-$bad "s/rpk,buf-size = <65536>;/rpk,buf-size = <$bad>;/"
		expect 1 "rpk,buf-size must be one cell, a multiple of 64 from 512 to 65536" -- \
			"$rpk" run "$out/bad-$bad.dts" --node remote --instance "$inst"
	done
	# The master's first: only it says 4096.
	variant differ "0,/rpk,buf-size = <65536>;/s//rpk,buf-size = <4096>;/"
	expect 1 "rpk,buf-size 65536 differs from 4096 at /master, which shares its buffer pool" -- \
		"$rpk" run "$out/differ.dts" --node remote --instance "$inst"
	variant small "s/reg = <0x0 0x200ca000 0x0 0x200000>;/reg = <0x0 0x200ca000 0x0 0x4000>;/"
	expect 1 "buffer pool too small: rings of 16 entries of 65536-byte buffers need 0x200000" -- \
		"$rpk" run "$out/small.dts" --node remote --instance "$inst"
	expect 2 "the guest is Linux, whose virtio_rpmsg_bus uses 512-byte buffers" -- \
		"$rpk" vhost-user --socket "$out/sock" --dt "$dts" --node remote
	[ -e "$out/sock" ] && fail "rpk vhost-user listened for a Linux guest with 64 KiB buffers"
	mkdir -p "$out/gen"
	expect 0 "no linux-rproc.dtsi/.dtso: 'remote' has rpk,buf-size 65536" -- \
		"$rpk" gen "$dts" --out "$out/gen"
	[ -e "$out/gen/linux-rproc.dtsi" ] || [ -e "$out/gen/linux-rproc.dtso" ] &&
		fail "rpk gen wrote a Linux fragment for 64 KiB buffers"
	[ -s "$out/gen/resource_table.c" ] || fail "rpk gen wrote no resource_table.c"
	;;
*)
	echo "buffers.sh: unknown case $case_" >&2
	exit 2
	;;
esac
finish "static.buffers_$case_"
