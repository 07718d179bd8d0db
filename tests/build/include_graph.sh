#!/usr/bin/env bash
# library.include_graph: the core's files (src/) and the host runtime's
# (host/) reach each other one way only.
#
# A private header D/N.h belongs to D/N.c, which defines every function it
# declares (checked); a header without a .c of its name may hold only types,
# macros and static inline functions (checked), but for D/N_internal.h: the
# one internal header of a folder whose files are one piece (host/node), it
# declares what the folder's files ask of each other, all defined there. Each .c file that
# includes another file's header, directly or through other headers, depends
# on that file. The test fails on a cycle among those dependencies (two files
# reaching into each other's internals, as endpoint.c and rpmsg.c once did),
# on a cycle among headers, and on a .c file that includes a .c file. Calls
# through the public API (include/rpk/) are not internals and do not count.
# Prints the dependency graph.
set -euo pipefail
root=$(cd "$1" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0

check_tree() {
includes() { sed -n 's/^#include "\([^"]*\)".*/\1/p' "$1"; }
	
	for f in $(find . -name '*.c' | sed 's|^\./||' | sort); do
		for i in $(includes "$f"); do
			case "$i" in *.c)
				echo "FAIL: $f includes a .c file ($i)" >&2
				fail=1
				;;
			esac
		done
	done
	
	# Header -> header edges, and the headers each header reaches.
	: >"$out/hh"
	headers=$(find . -name '*.h' | sed 's|^\./||' | sort)
	for h in $headers; do
		echo "$h $h" >>"$out/hh"
		for i in $(includes "$h"); do
			[ -f "$i" ] && echo "$h $i" >>"$out/hh"
		done
	done
	if ! tsort "$out/hh" >/dev/null 2>"$out/err"; then
		echo "FAIL: headers include each other in a cycle:" >&2
		cat "$out/err" >&2
		fail=1
	fi
	reach() { # the private headers a file includes, directly or not
		local seen=" " todo
		todo=$(includes "$1")
		while [ -n "$todo" ]; do
			set -- $todo
			todo=""
			for i in "$@"; do
				[ -f "$i" ] || continue
				case "$seen" in *" $i "*) continue ;; esac
				seen="$seen$i "
				todo="$todo $(includes "$i")"
			done
		done
		echo $seen
	}
	
	# What a header declares: functions at the start of a line, not static.
	declared() {
		grep -E '^[a-z][a-z0-9_ ]*[ *]+[a-z_][a-z0-9_]*\(' "$1" | grep -vE '^(static|typedef)' |
			sed -E 's/^[^(]*[ *]([a-z_][a-z0-9_]*)\(.*/\1/'
	}
	for h in $headers; do
		c=${h%.h}.c
		if [ -f "$c" ]; then
			for fn in $(declared "$h"); do
				if ! grep -qE "^[a-z].*[ *]$fn\(.*[^;]$" "$c"; then
					echo "FAIL: $h declares $fn, which $c does not define" >&2
					fail=1
				fi
			done
		elif [[ $h == *_internal.h ]]; then
			for fn in $(declared "$h"); do
				if ! grep -qE "^[a-z].*[ *]$fn\(.*[^;]$" "$(dirname "$h")"/*.c; then
					echo "FAIL: $h declares $fn, which no file of its folder defines" >&2
					fail=1
				fi
			done
		elif [ -n "$(declared "$h")" ]; then
			echo "FAIL: $h belongs to no .c file but declares functions:" $(declared "$h") >&2
			fail=1
		fi
	done
	
	# File -> file dependencies through private headers.
	: >"$out/deps"
	echo "dependencies through private headers (file: the files whose internals it uses):"
	for f in $(find . -name '*.c' | sed 's|^\./||' | sort); do
		echo "$f $f" >>"$out/deps"
		uses=""
		for h in $(reach "$f"); do
			c=${h%.h}.c
			if [ -f "$c" ] && [ "$c" != "$f" ]; then
				echo "$f $c" >>"$out/deps"
				uses="$uses $c"
			fi
		done
		echo "  $f:${uses:- -}"
	done
	if ! tsort "$out/deps" >/dev/null 2>"$out/err"; then
		echo "FAIL: files reach into each other's internals in a cycle:" >&2
		cat "$out/err" >&2
		fail=1
	fi
}

for tree in src host; do
	echo "== $tree"
	cd "$root/$tree"
	check_tree
done
[ $fail = 0 ] || exit 1
echo "PASS: no include cycle"
