#!/usr/bin/env sh
# Copy a source file with the one line that contains TEXT replaced by an empty
# statement (so the surrounding control flow stays as it was); fail unless
# exactly one line matched, so a test built on it cannot silently go stale.
set -eu
src=$1 text=$2 out=$3
n=$(grep -cF -- "$text" "$src" || true)
if [ "$n" -ne 1 ]; then
	echo "drop_line: '$text' occurs $n times in $src, want 1" >&2
	exit 1
fi
awk -v t="$text" 'index($0, t) { print "\t\t{ /* dropped by drop_line.sh */ }"; next } { print }' \
	"$src" >"$out"
