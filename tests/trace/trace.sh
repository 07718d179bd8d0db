#!/usr/bin/env bash
# rpk trace --messages (docs/traces.md): a running node's messages, read
# from outside while the link runs.
#   trace.sh CASE RPK SRCDIR
#   messages     the remote's messages while a master checks 300 echoes: the
#                name-service announcement decoded, every message once in
#                order (#0, #1, ...), each echo the same bytes as its question
#   slow_reader  a reader stopped (SIGSTOP) while 20000 echoes run: the link
#                does not wait for it (the master finishes meanwhile); when
#                it goes on, it says how many it lost, and what it printed
#                plus what it lost is every message, in order
#   pcap         --pcap: tshark with tools/wireshark/rpmsg.lua decodes every
#                record (direction, addresses, lengths, the announcement);
#                a capture that cannot be written is a clear error
#   bad_input    no such node running; a page that is not a trace; a page
#                whose records are garbage; a ninth reader: refused or
#                counted, never a crash
set -uo pipefail
case_=$1 rpk=$(realpath "$2") src=$3
inst=trace-$case_-$$
dts=$src/examples/dts/seed-tcc807x.dts
source "$src/tests/cli/lib.sh"

# tracer LOG [args]: rpk trace --messages on the remote, in the background;
# returns once it traces.
tracer() {
	local log=$1 page=/dev/shm/rpk-$inst-msgs-remote
	shift
	for _ in $(seq 200); do [ -s "$page" ] && break; sleep 0.05; done # the node is up
	"$rpk" trace "$dts" --node remote --instance "$inst" --messages "$@" \
		>"$out/$log" 2>"$out/$log.err.log" &
	tracer_pid=$!
	pids+=($!)
	wait_for "$out/$log.err.log" "tracing the messages of node 'remote'"
}

# check_sequence LOG FIRST_SEQ TOTAL: every message from FIRST_SEQ to TOTAL-1
# is either printed (in order, once) or counted in a "lost" line just before.
check_sequence() {
	python3 - "$1" "$2" "$3" <<'PY' || fail "sequence of $1 (above)"
import re, sys
log, want, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lost = 0
for line in open(log):
    m = re.match(r'\[rpk trace: (\d+) messages lost', line)
    if m:
        lost += int(m.group(1)); want += int(m.group(1)); continue
    m = re.match(r'\S+ #(\d+) (TX|RX) ', line)
    if m:
        if int(m.group(1)) != want:
            sys.exit(f"#{m.group(1)} where #{want} was due")
        want += 1
if want != total:
    sys.exit(f"ended at #{want}, {total} were traced")
print(f"{total} messages: {total - lost} printed, {lost} counted lost")
PY
}

case $case_ in
messages)
	start remote remote.log
	tracer trace.txt
	start master master.log --count 300
	wait "${pids[-1]}" || fail "the master's echoes failed"
	wait_for "$out/trace.txt" "^\S+ #600 TX "
	kill -INT "$tracer_pid"
	wait "$tracer_pid" || fail "rpk trace exited $? at Ctrl-C"
	grep -qE '^\S+ #0 TX From 0x400, To 0x35, Len 40, Flags 0, Reserved 0$' "$out/trace.txt" ||
		fail "the announcement is not the first message"
	grep -qF 'name service: create "rpmsg-client-sample" at 0x400' "$out/trace.txt" ||
		fail "the announcement is not decoded"
	check_sequence "$out/trace.txt" 0 601
	# Each question (RX) and its echo (TX): same header lengths, same bytes.
	python3 - "$out/trace.txt" <<'PY' || fail "echoes differ from their questions"
import re, sys
msgs, cur = [], None
for line in open(sys.argv[1]):
    m = re.match(r'\S+ #(\d+) (TX|RX) From (\S+), To (\S+), Len (\d+)', line)
    if m:
        cur = [m.group(2), int(m.group(5)), b""]; msgs.append(cur); continue
    m = re.match(r'    [0-9a-f]{4}  ((?:[0-9a-f]{2} )+)', line)
    if m and cur:
        cur[2] += bytes.fromhex(m.group(1))
pairs = msgs[1:]
assert len(pairs) == 600, len(pairs)
for q, a in zip(pairs[0::2], pairs[1::2]):
    assert q[0] == "RX" and a[0] == "TX", (q[0], a[0])
    assert q[1] == len(q[2]) and q[2] == a[2], (q, a)
print("300 questions and their echoes: the same bytes")
PY
	;;
slow_reader)
	start remote remote.log
	tracer trace.txt
	kill -STOP "$tracer_pid"
	start master master.log --count 20000
	wait "${pids[-1]}" || fail "the link waited for a stopped reader, or failed"
	kill -CONT "$tracer_pid"
	wait_for "$out/trace.txt" "^\S+ #40000 TX " 30
	kill -INT "$tracer_pid"
	wait "$tracer_pid" || fail "rpk trace exited $? at Ctrl-C"
	grep -qE '^\[rpk trace: [0-9]+ messages lost: this reader fell behind\]$' "$out/trace.txt" ||
		fail "the stopped reader was not told it lost messages"
	check_sequence "$out/trace.txt" 0 40001
	;;
pcap)
	if ! command -v tshark >/dev/null; then
		echo "trace.pcap: needs tshark; skipped"
		exit 77
	fi
	start remote remote.log
	tracer trace.err.txt --pcap "$out/cap.pcap" --count 201
	start master master.log --count 100
	wait "${pids[-1]}" || fail "the master's echoes failed"
	wait "$tracer_pid" || fail "rpk trace --pcap exited $?"
	grep -qF "201 messages written to $out/cap.pcap, 0 lost" "$out/trace.err.txt.err.log" ||
		fail "no summary of the capture"
	lua=$src/tools/wireshark/rpmsg.lua
	tshark -X lua_script:"$lua" -r "$out/cap.pcap" -T fields -E separator=, \
		-e rpmsg.dir -e rpmsg.src -e rpmsg.dst -e rpmsg.len -e rpmsg.flags \
		-e rpmsg.ns.name -e rpmsg.ns.addr -e rpmsg.ns.flags >"$out/fields.txt" 2>"$out/tshark.log" ||
		fail "tshark failed: $(cat "$out/tshark.log")"
	python3 - "$out/fields.txt" <<'PY' || fail "decoded fields (above)"
import sys
rows = [l.rstrip("\n").split(",") for l in open(sys.argv[1])]
assert len(rows) == 201, len(rows)
assert rows[0] == ["0", "0x00000400", "0x00000035", "40", "0x0000",
                   "rpmsg-client-sample", "0x00000400", "0"], rows[0]
for i, r in enumerate(rows[1:]):
    want_dir = "1" if i % 2 == 0 else "0"   # question received, echo sent
    assert r[0] == want_dir and r[1] == r[2] == "0x00000400", (i, r)
    assert int(r[3]) >= 1 and r[5:] == ["", "", ""], (i, r)
    if i % 2:
        assert r[3] == rows[i][3], (i, r, rows[i])
print("201 records decoded: the announcement, 100 questions and their echoes")
PY
	tshark -X lua_script:"$lua" -r "$out/cap.pcap" -V -c 1 2>/dev/null |
		grep -qF 'Name service' || fail "tshark -V shows no name-service tree"
	# Captures that cannot be written: a clear error, exit 1.
	expect 1 "cannot write $out/no/such/dir/x.pcap: No such file or directory" -- \
		"$rpk" trace "$dts" --node remote --instance "$inst" --messages \
		--pcap "$out/no/such/dir/x.pcap"
	if [ -w /dev/full ]; then
		"$rpk" trace "$dts" --node remote --instance "$inst" --messages --pcap /dev/full \
			--count 3 >"$out/full.log" 2>&1 &
		full_pid=$!
		pids+=($!)
		wait_for "$out/full.log" "tracing the messages"
		start master master2.log --count 10
		wait "${pids[-1]}" || fail "the master's echoes failed"
		wait "$full_pid"
		code=$?
		[ "$code" -eq 1 ] && grep -qF "cannot write /dev/full: No space left on device" "$out/full.log" ||
			fail "a full disk: exit $code, $(cat "$out/full.log")"
	fi
	;;
bad_input)
	expect 1 "node 'remote' is not running" -- \
		"$rpk" trace "$dts" --node remote --instance "$inst" --messages
	expect 2 "has no link node named 'nosuch'" -- \
		"$rpk" trace "$dts" --node nosuch --instance "$inst" --messages
	expect 2 "go with --messages" -- "$rpk" trace "$dts" --node remote --pcap x.pcap
	start remote remote.log
	page=/dev/shm/rpk-$inst-msgs-remote
	# A reader, then records it is told of that are garbage: lengths beyond
	# the slot, unknown directions, sequences that do not match.
	tracer garbage.txt
	python3 - "$page" <<'PY' || fail "could not write the page"
import mmap, os, random, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 64 + 1024 * 1024)
head = struct.unpack_from("<Q", m, 16)[0]
random.seed(7)
for n in range(head, head + 3000):
    off = 64 + (n % 1024) * 1024
    m[off:off + 1024] = random.randbytes(1024)
    kind = n % 3
    if kind == 0:   # right sequence, a length past the slot
        struct.pack_into("<QQIIIHHHB", m, off, n + 1, 0, 1, 2, 3, 9, 0, 0xffff, 0)
    elif kind == 1: # right sequence, an unknown direction
        struct.pack_into("<QQIIIHHHB", m, off, n + 1, 0, 1, 2, 3, 4, 0, 4, 7)
    # kind 2: random sequence
struct.pack_into("<Q", m, 16, head + 3000)
PY
	wait_for "$out/garbage.txt" "messages lost"
	kill -INT "$tracer_pid"
	wait "$tracer_pid" || fail "the reader of a garbage page exited $?"
	grep -qE '^\S+ #[0-9]+ ' "$out/garbage.txt" && fail "a garbage record was printed"
	# Eight readers at once; a ninth is refused with a word.
	for k in 1 2 3 4 5 6 7 8; do tracer reader$k.txt; done
	expect 1 "node 'remote' has 8 message readers already" -- \
		"$rpk" trace "$dts" --node remote --instance "$inst" --messages
	# Not a trace at all: refused with a word.
	printf 'garbage!' | dd of="$page" conv=notrunc status=none
	expect 1 "is not a message trace" -- \
		"$rpk" trace "$dts" --node remote --instance "$inst" --messages
	;;
*)
	echo "trace.sh: unknown case $case_" >&2
	exit 2
	;;
esac
finish "trace.$case_"
