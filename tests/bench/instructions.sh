#!/usr/bin/env bash
# rpk bench --instructions gives each instruction figure (m2r and r2m, 16 and
# 496 bytes, single and bursts of 8) in the table and the CSV, positive; and
# says so clearly when core_instr is missing. Skipped (77) without valgrind.
set -euo pipefail
rpk=$1
command -v valgrind >/dev/null || {
	echo "bench.instructions: valgrind is not installed: skipped"
	exit 77
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
	echo "bench.instructions: $*" >&2
	exit 1
}

"$rpk" bench --instructions --csv "$dir/instr.csv" >"$dir/table.txt" || fail "rpk bench --instructions failed"
cat "$dir/table.txt"
for dir_ in m2r r2m; do
	for size in 16 496; do
		for burst in 1 8; do
			grep -Eq "^  send\+receive +$dir_ +$size +$burst +[1-9][0-9]*$" "$dir/table.txt" ||
				fail "no figure for $dir_ $size bytes, bursts of $burst"
			grep -Eq "^\"instructions\",\"send\+receive\",\"$dir_\",$size,,,$burst,(,){10}[0-9.]+,$" \
				"$dir/instr.csv" || fail "no CSV row for $dir_ $size bytes, bursts of $burst"
		done
	done
done
awk -F, 'NR > 1 && !($18 > 0) { exit 1 }' "$dir/instr.csv" || fail "a figure is not positive"

# Without core_instr it says what is missing and fails.
if "$rpk" bench --instructions --core-instr "$dir/none" 2>"$dir/err.txt"; then
	fail "succeeded without core_instr"
fi
grep -q "needs bench/core_instr" "$dir/err.txt" || fail "did not say core_instr is missing"
echo "bench.instructions: all 8 figures, positive"
