#!/usr/bin/env bash
# bigendian.build: cross-compile for s390x (big-endian) what the bigendian.*
# tests run: the core, the host runtime, the unit tests, three two-node
# programs and rpk (tests/bigendian/CMakeLists.txt), into OUT. About 15 s on
# one core from nothing; CMake rebuilds only what changed after that.
# Exits 77 (skipped) where the cross compiler or qemu-user is missing:
# scripts/deps test installs them.
set -euo pipefail
root=$1
out=$2
for tool in s390x-linux-gnu-gcc qemu-s390x; do
	if ! command -v "$tool" >/dev/null; then
		echo "bigendian: $tool is missing (scripts/deps test installs it)" >&2
		exit 77
	fi
done
cmake -S "$root/tests/bigendian" -B "$out" -DCMAKE_TOOLCHAIN_FILE="$root/tests/bigendian/s390x.cmake" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$out" -j"$(nproc)"
