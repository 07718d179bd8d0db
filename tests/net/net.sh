#!/usr/bin/env bash
# rpk up's network interfaces (docs/netdev.md): each side of the link in a
# network namespace of its own, its TAP rpmsg1_14 addressed there.
#   net.sh CASE RPK SRCDIR
#   ping   ARP and IPv4 across the link: 1000 pings back to back, none lost;
#          MTU 482 (a 482-byte packet passes unfragmented, 483 does not);
#          carrier only while the link is up; the interface's counters
#   enet   the remote announces its interface as rpmsg-enet (the Linux rpmsg
#          Ethernet drivers' name), and the master's hello reaches it
#   ipv6   on a link of 1536-byte buffers: MTU 1506, IPv6 pings with neighbour
#          discovery, 1506 bytes pass whole and 1507 do not
#   iperf  a TCP stream (iperf3, 2 s) and 500 pings over the link's interfaces
#          and, in the same run, over a veth pair between two other
#          namespaces: the figures printed (for the record, not asserted),
#          each must be there
# Needs root, /dev/net/tun, ip(8) and ping(8) (CI has them; iperf3 for its
# case): 77 without.
set -uo pipefail
case_=$1 rpk=$(realpath "$2") src=$3
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ] || ! command -v ip >/dev/null ||
	! command -v ping >/dev/null; then
	echo "net: needs root, /dev/net/tun, ip and ping; skipped"
	exit 77
fi
inst=net-$case_-$$
dts=$src/tests/net/channel-net.dts
source "$src/tests/cli/lib.sh"
nsa=rpk-a-$$ nsb=rpk-b-$$ nsc=rpk-c-$$ nsd=rpk-d-$$
extra_cleanup() {
	for ns in "$nsa" "$nsb" "$nsc" "$nsd"; do ip netns del "$ns" 2>/dev/null; done
}
ip netns add "$nsa" && ip netns add "$nsb" || {
	fail "cannot make network namespaces"
	finish "net.$case_"
}

# up NS NODE LOG: rpk up inside a namespace (its TAP is made there).
up() {
	ip netns exec "$1" "$rpk" up "$dts" --node "$2" --instance "$inst" --dir "$out/$2" \
		>"$out/$3" 2>&1 &
	pids+=($!)
}

# Both sides up, their interfaces addressed 10.77.1.1 (master) and .2.
link_up() {
	up "$nsa" master master.log
	up "$nsb" remote remote.log
	wait_for "$out/master.log" "^rpk up: master ready.*interfaces rpmsg1_14"
	wait_for "$out/remote.log" "^rpk up: remote ready.*interfaces rpmsg1_14"
	ip -n "$nsa" addr add 10.77.1.1/24 dev rpmsg1_14 && ip -n "$nsa" link set rpmsg1_14 up
	ip -n "$nsb" addr add 10.77.1.2/24 dev rpmsg1_14 && ip -n "$nsb" link set rpmsg1_14 up
}

# iperf3 NS_CLIENT NS_SERVER ADDR LABEL: a 2 s TCP stream; prints its rate.
iperf() {
	ip netns exec "$2" iperf3 -s -1 -B "$3" >"$out/iperf-server-$4.log" 2>&1 &
	local server=$!
	for _ in $(seq 100); do
		ip netns exec "$2" ss -ltn 2>/dev/null | grep -q ":5201" && break
		sleep 0.05
	done
	ip netns exec "$1" iperf3 -c "$3" -t 2 -f m >"$out/iperf-$4.log" 2>&1 ||
		fail "iperf3 over $4: $(tail -3 "$out/iperf-$4.log")"
	wait "$server"
	local rate
	rate=$(awk '/receiver/ {print $7, $8}' "$out/iperf-$4.log")
	[ -n "$rate" ] || fail "no iperf3 figure over $4"
	echo "iperf3 TCP over $4: ${rate:-none}"
}

case $case_ in
iperf)
	command -v iperf3 >/dev/null || {
		echo "net.iperf: needs iperf3; skipped"
		exit 77
	}
	link_up
	for _ in $(seq 100); do
		ip -n "$nsa" link show rpmsg1_14 | grep -q LOWER_UP && break
		sleep 0.05
	done
	iperf "$nsa" "$nsb" 10.77.1.2 "the rpmsg link (rpmsg1_14, MTU 482)"
	ip netns add "$nsc" && ip netns add "$nsd" || fail "namespaces for the veth pair"
	ip link add vrpk-c-$$ netns "$nsc" type veth peer name vrpk-d-$$ netns "$nsd"
	ip -n "$nsc" addr add 10.78.1.1/24 dev vrpk-c-$$ && ip -n "$nsc" link set vrpk-c-$$ up
	ip -n "$nsd" addr add 10.78.1.2/24 dev vrpk-d-$$ && ip -n "$nsd" link set vrpk-d-$$ up
	ip -n "$nsc" link set vrpk-c-$$ mtu 482 && ip -n "$nsd" link set vrpk-d-$$ mtu 482
	iperf "$nsc" "$nsd" 10.78.1.2 "a veth pair (MTU 482)"
	# Round trips, the same way over both (printed for the record).
	for path in "$nsa 10.77.1.2 the rpmsg link" "$nsc 10.78.1.2 a veth pair"; do
		set -- $path
		ip netns exec "$1" ping -c 500 -i 0 -q -W 5 "$2" >"$out/rtt" 2>&1 ||
			fail "ping over ${*:3}: $(cat "$out/rtt")"
		echo "ping RTT over ${*:3}: $(grep rtt "$out/rtt")"
	done
	kill -TERM "${pids[1]}" "${pids[0]}"
	wait "${pids[1]}" "${pids[0]}"
	;;
enet)
	# Linux's convention: the remote announces rpmsg-enet at the interface's
	# endpoint, the master's hello follows; seen with rpk trace --messages.
	up "$nsb" remote remote.log
	for _ in $(seq 200); do [ -s "/dev/shm/rpk-$inst-msgs-remote" ] && break; sleep 0.05; done
	"$rpk" trace "$dts" --node remote --instance "$inst" --messages >"$out/trace-messages.log" \
		2>"$out/trace.log" &
	pids+=($!)
	wait_for "$out/trace.log" "tracing the messages"
	up "$nsa" master master.log
	wait_for "$out/trace-messages.log" 'name service: create "rpmsg-enet" at 0xe'
	wait_for "$out/trace-messages.log" "RX From 0xe, To 0xe, Len 2, Flags 0"
	grep -qE "TX From 0xe, To 0x35, Len 40" "$out/trace-messages.log" ||
		fail "the announcement is not from the interface's endpoint"
	;;
ipv6)
	# Larger buffers (rpk,buf-size 1536): MTU 1506, and IPv6 with its
	# neighbour discovery, which Linux turns off below an MTU of 1280.
	dts=$src/tests/net/channel-net-1536.dts
	link_up
	ip -n "$nsa" link show rpmsg1_14 | grep -q "mtu 1506" ||
		fail "MTU: $(ip -n "$nsa" link show rpmsg1_14)"
	ip -n "$nsa" -6 addr add fd77::1/64 dev rpmsg1_14 nodad
	ip -n "$nsb" -6 addr add fd77::2/64 dev rpmsg1_14 nodad
	for _ in $(seq 100); do
		ip -n "$nsa" link show rpmsg1_14 | grep -q LOWER_UP && break
		sleep 0.05
	done
	expect 0 " 0% packet loss" -- ip netns exec "$nsa" ping -6 -c 200 -i 0 -q -W 5 fd77::2
	ip -n "$nsa" -6 neigh show dev rpmsg1_14 | grep -q "^fd77::2 lladdr" ||
		fail "no neighbour entry for fd77::2: $(ip -n "$nsa" -6 neigh show dev rpmsg1_14)"
	# 1506 bytes of IPv6 pass whole (1458 + 8 ICMPv6 + 40), 1507 do not.
	expect 0 " 0% packet loss" -- ip netns exec "$nsa" ping -6 -c 3 -q -M do -s 1458 fd77::2
	if ip netns exec "$nsa" ping -6 -c 1 -q -M do -s 1459 -W 1 fd77::2 >"$out/big" 2>&1; then
		fail "a 1507-byte packet passed unfragmented: $(cat "$out/big")"
	fi
	;;
ping)
	link_up
	ip -n "$nsa" link show rpmsg1_14 | grep -q "mtu 482" || fail "MTU: $(ip -n "$nsa" link show rpmsg1_14)"
	for _ in $(seq 100); do
		ip -n "$nsa" link show rpmsg1_14 | grep -q LOWER_UP && break
		sleep 0.05
	done
	ip -n "$nsa" link show rpmsg1_14 | grep -q LOWER_UP || fail "no carrier with the link up"
	expect 0 " 0% packet loss" -- ip netns exec "$nsa" ping -c 1000 -i 0 -q -W 5 10.77.1.2
	cat "$out/log" | tail -2
	# 482 bytes of IPv4 pass unfragmented (DF set), 483 do not.
	expect 0 " 0% packet loss" -- ip netns exec "$nsa" ping -c 3 -q -M do -s 454 10.77.1.2
	if ip netns exec "$nsa" ping -c 1 -q -M do -s 455 -W 1 10.77.1.2 >"$out/big" 2>&1; then
		fail "a 483-byte packet passed with DF set: $(cat "$out/big")"
	fi
	grep -q " 0 received" "$out/big" || fail "483 bytes: $(cat "$out/big")"
	rx=$(ip -n "$nsb" -s link show rpmsg1_14 | awk '/RX:/ {getline; print $2; exit}')
	[ "${rx:-0}" -ge 1000 ] || fail "the remote's interface received ${rx:-0} packets"
	# The link goes (the remote stops): the master's interface loses its carrier.
	kill -TERM "${pids[1]}"
	wait "${pids[1]}"
	for _ in $(seq 100); do
		ip -n "$nsa" link show rpmsg1_14 | grep -q NO-CARRIER && break
		sleep 0.05
	done
	ip -n "$nsa" link show rpmsg1_14 | grep -q NO-CARRIER || fail "carrier without the link"
	kill -TERM "${pids[0]}"
	wait "${pids[0]}" || fail "rpk up exited $? at SIGTERM"
	;;
*)
	echo "net.sh: unknown case $case_" >&2
	exit 2
	;;
esac
finish "net.$case_"
