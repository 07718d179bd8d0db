#!/usr/bin/env bash
# bench/footprint.sh gives every variant's figures (the table and the CSV),
# positive, and the base set's rpmsg + virtio text is what each variant
# builds on: the opt-in parts (event indices, hearing announcements) add to
# it. Skipped (77) without arm-none-eabi-gcc.
set -euo pipefail
root=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
	echo "bench.footprint: $*" >&2
	exit 1
}
rc=0
bash "$root/bench/footprint.sh" "$root" "$dir/fp.csv" >"$dir/table.txt" || rc=$?
[ "$rc" = 77 ] && exit 77
[ "$rc" = 0 ] || fail "bench/footprint.sh failed"
cat "$dir/table.txt"
rows=$(awk 'NR > 1' "$dir/fp.csv" | wc -l)
[ "$rows" = 9 ] || fail "$rows variants in the CSV, not 9"
awk -F, 'NR > 1 && !($2 > 0 && $3 > 0) { exit 1 }' "$dir/fp.csv" || fail "a size is not positive"
base=$(awk -F, 'NR == 2 { print $2 }' "$dir/fp.csv")
awk -F, -v b="$base" 'NR > 2 && $2 < b { exit 1 }' "$dir/fp.csv" ||
	fail "a variant links less of rpmsg + virtio than the base set"
# What a remote asks for by a call costs nothing in the base set.
for key in event_idx listen_ns; do
	awk -F, -v k="$key" -v b="$base" '$1 == k && $2 <= b { exit 1 }' "$dir/fp.csv" ||
		fail "$key costs nothing: its code is in the base set"
done
echo "bench.footprint: all 9 variants"
