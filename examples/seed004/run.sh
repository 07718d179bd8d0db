#!/usr/bin/env bash
# Seed 004's system on one machine: two "Linux instances" (network namespaces
# linux0 and linux1), two RPMsg channels between them (static links, no
# remoteproc: examples/dts/seed004-dual-linux.dts), each channel with a misc
# device rpmsg<C>_13 and a network interface rpmsg<C>_14 on both sides.
#
#   examples/seed004/run.sh [RPK]     (as root; RPK defaults to build/release/rpk)
#
# It starts both sides of both channels, addresses the interfaces (channel 1:
# 10.4.1.1 and .2, channel 2: 10.4.2.1 and .2), pings across both channels,
# echoes a line through each channel's misc devices, prints the counters
# (interrupts per channel, the links' and devices' counters) and exits 0 if
# all of that worked. Everything it made goes when it ends, Ctrl-C included.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rpk=$(realpath "${1:-$here/../../build/release/rpk}")
dts=$here/../dts/seed004-dual-linux.dts
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ] || ! command -v ip >/dev/null ||
	! command -v ping >/dev/null || ! command -v nsenter >/dev/null; then
	echo "seed004: needs root, /dev/net/tun, ip(8), ping(8) and nsenter(1)" >&2
	exit 77
fi
[ -x "$rpk" ] || {
	echo "seed004: no rpk at $rpk (build it first: README)" >&2
	exit 2
}
inst=seed004-$$
work=$(mktemp -d)
pids=()
failures=0
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	for ns in linux0 linux1; do ip netns del "$ns-$$" 2>/dev/null; done
	rm -f /dev/shm/rpk-"$inst"-*
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "seed004: FAIL: $*" >&2
	failures=$((failures + 1))
}
# until SECONDS COMMAND...: poll for a condition (a ready line, a carrier).
until_ok() {
	local t=$(($1 * 20))
	shift
	for _ in $(seq "$t"); do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# read_line DEVICE: one line of a stream device (a byte at a time: nothing
# after the line is taken from it), or nothing after 10 s.
read_line() {
	timeout 10 bash -c 'IFS= read -r l <"$0" && printf "%s" "$l"' "$1"
}

for side in linux0 linux1; do
	ip netns add "$side-$$" || {
		echo "seed004: cannot make network namespace $side-$$" >&2
		exit 1
	}
done

# Both sides of both channels: each link side is an rpk up in its Linux's
# network namespace, where its network interface appears. nsenter, not ip
# netns exec: that one also gives the command a mount namespace of its own,
# and the devices' FUSE directory would be seen there only.
for c in 1 2; do
	for side in linux0 linux1; do
		nsenter --net="/run/netns/$side-$$" "$rpk" up "$dts" --node "$side-ch$c" --instance "$inst" \
			--dir "$work/$side/ch$c" >"$work/$side-ch$c.log" 2>&1 &
		pids+=($!)
	done
done
for c in 1 2; do
	for side in linux0 linux1; do
		until_ok 30 grep -q "^rpk up: $side-ch$c ready" "$work/$side-ch$c.log" ||
			fail "$side-ch$c did not come up: $(cat "$work/$side-ch$c.log")"
	done
done
[ "$failures" -eq 0 ] || exit 1
echo "seed004: both channels up (static links, 256-descriptor vrings)"

# The network interfaces: one subnet per channel.
for c in 1 2; do
	ip -n "linux0-$$" addr add "10.4.$c.1/24" dev "rpmsg${c}_14"
	ip -n "linux1-$$" addr add "10.4.$c.2/24" dev "rpmsg${c}_14"
	for side in linux0 linux1; do
		ip -n "$side-$$" link set "rpmsg${c}_14" up
		until_ok 10 sh -c "ip -n $side-$$ link show rpmsg${c}_14 | grep -q LOWER_UP" ||
			fail "no carrier on $side's rpmsg${c}_14"
	done
done
for c in 1 2; do
	if ip netns exec "linux0-$$" ping -c 20 -i 0.01 -q -W 5 "10.4.$c.2" >"$work/ping$c" 2>&1 &&
		grep -q " 0% packet loss" "$work/ping$c"; then
		echo "seed004: channel $c: $(grep -E 'packets transmitted|rtt' "$work/ping$c" | tr '\n' ' ')"
	else
		fail "ping over channel $c: $(cat "$work/ping$c")"
	fi
done

# The misc devices (stream mode, as the seed's): a line each way per channel.
for c in 1 2; do
	dev=rpmsg${c}_13
	line="hello from linux0 over channel $c"
	printf '%s\n' "$line" >"$work/linux0/ch$c/$dev" || fail "write to linux0's $dev"
	got=$(read_line "$work/linux1/ch$c/$dev")
	[ "$got" = "$line" ] || fail "linux1's $dev read '$got'"
	printf '%s\n' "echo: $got" >"$work/linux1/ch$c/$dev" || fail "write to linux1's $dev"
	back=$(read_line "$work/linux0/ch$c/$dev")
	[ "$back" = "echo: $line" ] || fail "linux0's $dev read '$back'"
	echo "seed004: channel $c: /dev/$dev: '$line' -> '$back'"
done

# The counters, as the seed's per-channel interrupt counts.
for c in 1 2; do
	for side in linux0 linux1; do
		echo "seed004: $side channel $c interrupts: $(tr '\n' ' ' <"$work/$side/ch$c/interrupts")"
	done
	"$rpk" stat "$dts" --node "linux0-ch$c" --instance "$inst" --dir "$work/linux0/ch$c" ||
		fail "rpk stat linux0-ch$c"
done
if [ "$failures" -ne 0 ]; then
	echo "seed004: $failures failure(s)" >&2
	exit 1
fi
echo "seed004: all done"
