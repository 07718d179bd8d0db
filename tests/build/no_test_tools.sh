#!/usr/bin/env bash
# A packager without cmocka or dtc still builds the library and rpk: the
# tests are left out, and the configure step says why.
set -euo pipefail
src=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Release -DCMOCKA_LIB=CMOCKA_LIB-NOTFOUND \
	-DDTC=DTC-NOTFOUND >"$out/configure.log" 2>&1
grep -q "tests left out: they need cmocka" "$out/configure.log" || {
	echo "no word on the tests left out:" >&2
	cat "$out/configure.log" >&2
	exit 1
}
cmake --build "$out" -j"$(nproc)" --target rpk rpmsg-kit rpmsg-kit-static >"$out/build.log" 2>&1 || {
	tail -20 "$out/build.log" >&2
	exit 1
}
"$out/rpk" --version
[ -e "$out/librpmsg-kit.so" ] && [ -e "$out/librpmsg-kit.a" ]
if [ -e "$out/tests/CTestTestfile.cmake" ] && grep -q "add_test" "$out/tests/CTestTestfile.cmake"; then
	echo "tests were configured although their tools are missing" >&2
	exit 1
fi
echo "no_test_tools: the library and rpk build; the tests are left out"
