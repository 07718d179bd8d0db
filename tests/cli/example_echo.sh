#!/usr/bin/env bash
# examples/host/echo_client.c as a user runs it: 300 echoes from a remote run
# by rpk, which is killed in the middle and started again; the client waits
# for the service to come back and finishes its count.
set -uo pipefail
rpk=$1
client=$2
dts=$3/integration/link16.dts
inst=example-$$
. "$(dirname "$0")/lib.sh"

start remote remote.log
"$client" "$dts" --instance "$inst" --count 100 >"$out/client1.log" 2>&1 ||
	fail "client: $(cat "$out/client1.log")"
grep -q "100/100 echoes intact (0 resets lived through)" "$out/client1.log" ||
	fail "client: $(cat "$out/client1.log")"

# A long run; the remote dies under it and comes back.
"$client" "$dts" --instance "$inst" --count 100000 >"$out/client2.log" 2>&1 &
client_pid=$!
pids+=($client_pid)
for _ in $(seq 200); do
	"$rpk" stat "$dts" --node master --instance "$inst" 2>/dev/null | grep -qE 'messages sent [0-9]{3,}' && break
	sleep 0.05
done
kill -9 "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
start remote remote2.log
wait "$client_pid"
code=$?
[ "$code" -eq 0 ] || fail "client after the remote's crash: exit $code: $(tail -5 "$out/client2.log")"
grep -q "100000/100000 echoes intact" "$out/client2.log" || fail "client: $(tail -5 "$out/client2.log")"
grep -q "the link reset at message" "$out/client2.log" || fail "no reset seen: $(tail -5 "$out/client2.log")"

finish example_echo
