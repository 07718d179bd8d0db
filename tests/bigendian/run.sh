#!/usr/bin/env bash
# Run one s390x program of the big-endian build under qemu-user: the kernel
# runs only its own architecture's images without binfmt_misc, which a
# container may not have. qemu takes the s390x loader and libraries from
# their multiarch places (/lib/ld64.so.1, /usr/lib/s390x-linux-gnu, from
# libc6:s390x), which match each other; `-L /usr/s390x-linux-gnu` would pair
# the cross toolchain's older loader with that libc and crash at start-up.
# Exits 77 (skipped) where the program was not built (bigendian.build skipped).
set -euo pipefail
if [ ! -x "$1" ] || ! command -v qemu-s390x >/dev/null; then
	echo "bigendian: $1 not built or qemu-s390x missing (scripts/deps test installs it)" >&2
	exit 77
fi
exec qemu-s390x "$@"
