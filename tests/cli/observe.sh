#!/usr/bin/env bash
# Observers print only what they validated: a pid forged into a bell or a
# counter page is not taken for a node of the link (only a process that maps
# the link's objects is one), and names and text from shared memory or a file
# come out escaped (no terminal escape sequence gets through).
set -uo pipefail
rpk=$1
dts=$2/integration/link16.dts
inst=observe-$$
. "$(dirname "$0")/lib.sh"

mbox=/dev/shm/rpk-$inst-mailbox@200c5000
rsc=/dev/shm/rpk-$inst-rsc-table@200c6000
esc=$(printf '\033')

wait_state() {
	local want=$1 got=""
	for _ in $(seq 200); do
		got=$("$rpk" status "$dts" --node master --instance "$inst" 2>&1 | head -1)
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	fail "state '$got', want '$want'"
}

# poke FILE OFFSET VALUE: a little-endian u32 into a live object.
poke() {
	local v=$3
	printf "\\x$(printf %02x $((v & 255)))\\x$(printf %02x $(((v >> 8) & 255)))\\x$(printf %02x $(((v >> 16) & 255)))\\x$(printf %02x $(((v >> 24) & 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# No byte 0x1b in FILE, and PATTERN (fixed) in it.
escaped() {
	if grep -q "$esc" "$2"; then
		fail "$1: an ESC byte got through: $(od -c "$2" | grep -m3 033)"
	fi
	grep -qF -- "$3" "$2" || fail "$1: no '$3' in: $(cat "$2")"
}

# A live link; the remote's bell is channel 1 (it rings its tx), pid at +8.
start remote remote.log
remote=${pids[-1]}
start master master.log
master=${pids[-1]}
wait_state attached
bell_pid=$((64 + 8))

# The remote keeps its own signature (it writes it again within a watchdog
# period): stopped, it cannot, and the forged pids stay for the observers.
kill -STOP "$remote"
# pid 1 (init: runs, maps nothing of ours, maybe not even ours to look at).
poke "$mbox" $bell_pid 1
"$rpk" status "$dts" --node master --instance "$inst" >"$out/s" 2>&1
grep -qE '^  remote  pid 1 \((does not map|cannot tell whether it maps) this link: ignored\), session [0-9]+$' \
	"$out/s" || fail "forged pid 1: $(cat "$out/s")"
grep -qE 'remote  pid 1.*running' "$out/s" && fail "pid 1 taken for the remote: $(cat "$out/s")"
# A live process of ours that has nothing to do with the link.
sleep 600 &
decoy=$!
pids+=($decoy)
poke "$mbox" $bell_pid $decoy
"$rpk" status "$dts" --node master --instance "$inst" >"$out/s" 2>&1
grep -qE "^  remote  pid $decoy \\(does not map this link: ignored\\), session [0-9]+\$" "$out/s" ||
	fail "forged pid of a live process: $(cat "$out/s")"
# Without the master's word, a remote nobody can vouch for is not running.
kill -INT "$master"
wait "$master"
"$rpk" status "$dts" --node master --instance "$inst" >"$out/s" 2>&1
[ "$(head -1 "$out/s")" = crashed ] || fail "unverified remote, no master: $(cat "$out/s")"
kill -CONT "$remote"
wait_state detached
grep -qE "remote  pid $remote, session [0-9]+, running" <("$rpk" status "$dts" --node master --instance "$inst") ||
	fail "the real pid again: $("$rpk" status "$dts" --node master --instance "$inst")"

# A killed master's counter page stays behind saying "attached"; a pid
# forged into it does not make it the master's word.
start master master2.log
master=${pids[-1]}
wait_state attached
# The link is up before the master's counter page says so (it is written
# as the master goes on): kill it once the page is there.
for _ in $(seq 200); do
	"$rpk" stat "$dts" --node master --instance "$inst" 2>/dev/null | grep -q "attached, pid" && break
	sleep 0.05
done
kill -9 "$master"
wait "$master" 2>/dev/null
poke "/dev/shm/rpk-$inst-stats-master" 8 1
wait_state detached
"$rpk" stat "$dts" --node master --instance "$inst" >"$out/st" 2>&1
grep -qE '^/master \(instance '"$inst"'\): attached, pid 1 \((cannot tell whether it keeps this page|does not map this page: not its counters)\)$' \
	"$out/st" || fail "rpk stat of a forged page: $(cat "$out/st")"
poke "/dev/shm/rpk-$inst-stats-master" 8 "$master"
"$rpk" stat "$dts" --node master --instance "$inst" >"$out/st" 2>&1
grep -qE '^/master \(instance '"$inst"'\): attached, pid [0-9]+ \(gone: its last counters\)$' \
	"$out/st" || fail "rpk stat of a killed master: $(cat "$out/st")"

# The remote's trace text: an ESC byte and a backslash written into it.
at=$(grep -boa 'resource table published' "$rsc" | head -1 | cut -d: -f1)
if [ -z "$at" ]; then
	fail "no trace line in $rsc"
else
	printf '\033\\' | dd of="$rsc" bs=1 seek=$((at - 2)) conv=notrunc status=none
	"$rpk" trace "$dts" --node remote --instance "$inst" >"$out/t" 2>&1
	escaped "rpk trace" "$out/t" '\x1b\\resource table published'
fi
kill -INT "$remote"
wait "$remote"
pids=("$decoy")

# A table from a file whose names hold escape sequences and a backslash.
le() { for v in "$@"; do printf "\\x$(printf %02x $((v & 255)))\\x$(printf %02x $(((v >> 8) & 255)))\\x$(printf %02x $(((v >> 16) & 255)))\\x$(printf %02x $(((v >> 24) & 255)))"; done; }
name() { printf '%b' "$1"; head -c $((32 - $2)) /dev/zero; }
{
	le 1 2 0 0 24 80                                     # header: 2 entries at 24 and 80
	le 0 0x10000000 0 0x1000 0 0; name 'a\033[31mred\\' 10 # carveout: 10 bytes of name
	le 2 0x10004000 0x100 0; name 't\033]0;pwn\007' 9      # trace
} >"$out/esc.bin"
"$rpk" rsc dump "$out/esc.bin" >"$out/d" 2>&1
code=$?
[ $code -eq 0 ] || fail "rsc dump of a table with odd names: exit $code: $(cat "$out/d")"
escaped "rsc dump (carveout)" "$out/d" 'carveout  "a\x1b[31mred\\"'
escaped "rsc dump (trace)" "$out/d" 'trace     "t\x1b]0;pwn\x07"'

# A service name announced through shared memory, as the master prints it.
sed 's/rpk,services = "rpk-echo";/rpk,services = "rpk\\x1b[31mecho\\\\";/' "$dts" >"$out/esc.dts"
"$rpk" run "$out/esc.dts" --node remote --instance "$inst" >"$out/r3" 2>&1 &
remote=$!
pids+=($remote)
"$rpk" run "$out/esc.dts" --node master --instance "$inst" --count 3 >"$out/m3" 2>&1 ||
	fail "master on an odd service name: $(cat "$out/m3")"
escaped "master" "$out/m3" 'bound "rpk\x1b[31mecho\\"'
kill -INT "$remote"
wait "$remote"
escaped "remote" "$out/r3" 'serving "rpk\x1b[31mecho\\"'

finish observe
