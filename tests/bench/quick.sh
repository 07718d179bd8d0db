#!/usr/bin/env bash
# rpk bench --quick produces every figure: each row of the table has its
# numbers (and its ratios), each CSV row its fields, and the plots are PNGs.
# The values are not asserted: the machine may be busy.
set -euo pipefail
rpk=$1
versus=$2 # a second link whose streams are measured in the same rounds
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
	echo "bench.quick: $*" >&2
	exit 1
}

"$rpk" bench --quick --csv "$dir/bench.csv" --plots "$dir/plots" --versus "$versus" >"$dir/table.txt" ||
	fail "rpk bench --quick failed"
cat "$dir/table.txt"

# The table, each row prefixed with its section: "SECTION|ROW".
awk '/^[^ ]/ { section = $0; sub(/  .*/, "", section) } /^  / { print section "|" $0 }' \
	"$dir/table.txt" >"$dir/rows.txt"
num='[0-9]+(\.[0-9]+)?'
lat=" +$num +$num +$num"
rate=" +$num"
ratio="${num}x"
has_row() { # SECTION REGEX
	grep -Eq "^$1\|  $2" "$dir/rows.txt" || fail "no figure for '$1: $2'"
}
sizes="1 16 64 256 496"
has_row "round trip" "one-flag ping-pong +spin +-$lat"
has_row "round trip" "two-flag ping-pong +spin +-$lat"
has_row "round trip" "futex ping-pong +futex +-$lat"
for s in $sizes; do
	has_row "round trip" "SEQPACKET echo +socket +$s$lat"
	has_row "round trip" "rpmsg +polling +$s$lat  $ratio two-flag ping-pong, $ratio SEQPACKET echo"
	has_row "round trip" "rpmsg +blocking +$s$lat  $ratio futex ping-pong, $ratio SEQPACKET echo"
	has_row "round trip" "rpmsg +adaptive +$s$lat  $ratio two-flag ping-pong, $ratio SEQPACKET echo"
	has_row "stream" "SPSC ring +spin +$s$rate +$num"
	has_row "stream" "SEQPACKET stream +socket +$s$rate +$num"
	for mode in polling blocking adaptive; do
		has_row "stream" "rpmsg +$mode +$s$rate +$num  $ratio SPSC ring, $ratio SEQPACKET stream"
		has_row "stream" "$(basename "$versus") +$mode +$s$rate +$num  $ratio rpmsg"
	done
done
for n in 1 10 100 1000 10000; do
	has_row "endpoints \(round trip\)" "rpmsg +polling +$n$lat  $ratio two-flag ping-pong"
	has_row "endpoints \(round trip\)" "rpmsg +blocking +$n$lat  $ratio futex ping-pong"
	has_row "endpoints \(round trip\)" "rpmsg +adaptive +$n$lat  $ratio two-flag ping-pong"
done
for t in 2 8; do
	has_row "concurrent endpoints" "rpmsg +polling +$t$rate +$ratio two-flag ping-pong"
	has_row "concurrent endpoints" "rpmsg +blocking +$t$rate +$ratio futex ping-pong"
	has_row "concurrent endpoints" "rpmsg +adaptive +$t$rate +$ratio two-flag ping-pong"
done
[ "$(wc -l <"$dir/rows.txt")" -eq 84 ] || fail "84 figures expected in the table (69, and the --versus link's 15 streams)"

# The CSV: a header and one row per figure, each with the fields of its kind.
awk -F, -v want=84 '
	function fail(why) { print "bench.quick: CSV line " NR ": " why > "/dev/stderr"; bad = 1 }
	NR == 1 { if (NF != 19 || $1 != "group" || $18 != "instructions_per_msg" || $19 != "kicks_per_msg") fail("header"); next }
	{
		rows++
		if (NF != 19) fail(NF " fields")
		latency = $1 == "\"round trip\"" || $1 == "\"endpoints (round trip)\""
		if (latency && !($9 > 0 && $10 > 0 && $11 > 0)) fail("no min, median, p99")
		if (!latency && !($12 > 0)) fail("no rate")
		if ($2 == "\"rpmsg\"" && !($15 > 0)) fail("no ratio to its baseline")
		if ($14 != "" && !($15 > 0)) fail("a baseline without its ratio")
		if ($16 != "" && !($17 > 0)) fail("a second baseline without its ratio")
		if ($1 == "\"stream\"" && $2 == "\"rpmsg\"" && ($19 == "" || $19 < 0)) fail("no kicks per message")
	}
	END { if (rows != want) fail(rows " figures, not " want); exit bad }' "$dir/bench.csv" ||
	fail "CSV incomplete"

# The plots: PNG files, by their signature.
for png in rtt-cdf-1 rtt-cdf-16 rtt-cdf-64 rtt-cdf-256 rtt-cdf-496 stream-mb stream-msgs; do
	f="$dir/plots/$png.png"
	[ -s "$f" ] || fail "no $png.png"
	[ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$png.png is not a PNG"
done
echo "bench.quick: every figure, the CSV and the plots are there"
