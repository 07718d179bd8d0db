#!/usr/bin/env bash
# What `cmake --install` puts under a prefix is enough to build on: the
# public headers (and no private one), the shared and static library, rpk,
# pkg-config and CMake files. examples/host/echo_client.c is built against it
# twice, with pkg-config and with find_package, and each build talks to a
# remote run by the installed rpk.
set -uo pipefail
build=$1 src=$2 cc=$3
out=$(mktemp -d)
prefix=$out/prefix
inst=install-$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -f /dev/shm/rpk-"$inst"-*
	rm -rf "$out"
}
trap cleanup EXIT
failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

cmake --install "$build" --prefix "$prefix" >"$out/install.log" 2>&1 || { cat "$out/install.log"; exit 1; }

# Exactly the public headers.
want="elf.h errno.h layout.h link_header.h mem.h msgtrace.h node.h observe.h port.h rpmsg.h rsc_table.h trace.h version.h virtio.h"
got=$(cd "$prefix/include" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
[ "$got" = "$(for h in $want; do echo "rpk/$h"; done | sort | tr '\n' ' ')" ] ||
	fail "installed headers: $got"
for f in lib/librpmsg-kit.so lib/librpmsg-kit.a lib/pkgconfig/rpmsg-kit.pc \
	lib/cmake/rpmsg-kit/rpmsg-kitConfig.cmake bin/rpk; do
	[ -e "$prefix/$f" ] || fail "not installed: $f"
done
soname=$(readelf -d "$prefix/lib/librpmsg-kit.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = librpmsg-kit.so.0 ] || fail "SONAME '$soname'"

# With pkg-config.
PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --exists rpmsg-kit || fail "pkg-config does not know rpmsg-kit"
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror -o "$out/client-pc" "$src/examples/host/echo_client.c" \
	$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs rpmsg-kit) ||
	fail "the example does not build with pkg-config"
# With find_package.
cmake -S "$src/examples/host" -B "$out/client-cmake" -DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_PREFIX_PATH="$prefix" >"$out/cmake.log" 2>&1 &&
	cmake --build "$out/client-cmake" >>"$out/cmake.log" 2>&1 ||
	{ fail "the example does not build with find_package"; cat "$out/cmake.log" >&2; }

dts=$src/tests/integration/link16.dts
for client in "$out/client-pc" "$out/client-cmake/echo_client"; do
	[ -x "$client" ] || continue
	"$prefix/bin/rpk" run "$dts" --node remote --instance "$inst" >"$out/remote.log" 2>&1 &
	pids+=($!)
	LD_LIBRARY_PATH=$prefix/lib "$client" "$dts" --instance "$inst" --count 200 >"$out/client.log" 2>&1 ||
		fail "$client: $(cat "$out/client.log")"
	grep -q "200/200 echoes intact" "$out/client.log" || fail "$client: $(cat "$out/client.log")"
	grep -q "rpmsg-kit 0\.1\.0 (built against 0\.1\.0)" "$out/client.log" ||
		fail "$client: version: $(cat "$out/client.log")"
	kill -INT "${pids[-1]}"
	wait "${pids[-1]}"
done
[ "$failures" -eq 0 ] || exit 1
echo "install: all checks passed"
