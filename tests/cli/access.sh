#!/usr/bin/env bash
# Who may join a link (docs/access.md), with a second uid (nobody): objects
# another user created or can write are refused by name; another user cannot
# join a running link; an object of another size is refused; a stale object
# of ours (a node killed with -9) is reused; --group shares a link.
set -uo pipefail
rpk=$1
dts=$2/integration/link16.dts
inst=access-$$
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "access: SKIPPED: needs root to run a second uid (setpriv)"
	exit 77
fi
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if ! "${nobody[@]}" test -x "$rpk" -a -r "$dts"; then
	echo "access: SKIPPED: uid 65534 cannot run $rpk or read $dts"
	exit 77
fi
group=rpk-acc-$$
extra_cleanup() {
	rm -f /dev/shm/rpk-"$inst"-*
	getent group "$group" >/dev/null && groupdel "$group"
}

regions=("rsc-table@200c6000:8192" "vdev0vring0@200c8000:4096" "vdev0vring1@200c9000:4096"
	"vdev0buffer@200ca000:16384" "mailbox@200c5000:4096")

# Wait (bounded, 20 s) until rpk status says STATE [as --group G].
wait_state() {
	local want=$1 got=""
	shift
	for _ in $(seq 200); do
		got=$("$rpk" status "$dts" --node master --instance "$inst" "$@" 2>&1 | head -1)
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	fail "state '$got', want '$want'"
}

# (a) Another user pre-created the objects, mode 0666, the right sizes.
for r in "${regions[@]}"; do
	"${nobody[@]}" sh -c "umask 0 && truncate -s ${r#*:} /dev/shm/rpk-$inst-${r%%:*}"
done
refused='/dev/shm/rpk-'"$inst"'-rsc-table@200c6000: owned by uid 65534 \(nobody\), mode 0666: refusing to join a link object that another user can write \(expected: owned by uid 0 \(root\).*see docs/access.md\)'
expect 1 "$refused" -- "$rpk" run "$dts" --node remote --instance "$inst" --timeout 500
expect 1 "$refused" -- "$rpk" run "$dts" --node master --instance "$inst" --timeout 500
expect 1 "refusing to read a link object that another user can write" -- \
	"$rpk" status "$dts" --node master --instance "$inst"
# Refused, and left as they were: not ours to remove or to change.
for r in "${regions[@]}"; do
	got=$(stat -c '%U %a %s' "/dev/shm/rpk-$inst-${r%%:*}" 2>&1)
	[ "$got" = "nobody 666 ${r#*:}" ] || fail "${r%%:*} after the refusal: $got"
done
# One object of ours among them does not help: each is checked.
rm -f /dev/shm/rpk-"$inst"-rsc-table@200c6000
expect 1 'vdev0vring0@200c8000: owned by uid 65534 \(nobody\), mode 0666: refusing to join' -- \
	"$rpk" run "$dts" --node remote --instance "$inst" --timeout 500
# 0600 but another user's: refused as well.
rm -f /dev/shm/rpk-"$inst"-*
"${nobody[@]}" sh -c "umask 077 && truncate -s 4096 /dev/shm/rpk-$inst-vdev0vring1@200c9000"
expect 1 'vdev0vring1@200c9000: owned by uid 65534 \(nobody\), mode 0600: refusing to join a link object that another user owns' -- \
	"$rpk" run "$dts" --node master --instance "$inst" --timeout 500
rm -f /dev/shm/rpk-"$inst"-*

# (b) Another user cannot join a running link of root's, which keeps working.
start remote remote.log
wait_state detached
"${nobody[@]}" "$rpk" run "$dts" --node master --instance "$inst" --count 5 --timeout 1000 \
	>"$out/intruder.log" 2>&1
code=$?
[ $code -eq 1 ] || fail "uid 65534 joining root's link: exit $code"
grep -qE 'rpk-'"$inst"'-rsc-table@200c6000: owned by uid 0 \(root\), mode 0600: permission denied: a link object of another user' \
	"$out/intruder.log" || fail "uid 65534 joining root's link: $(cat "$out/intruder.log")"
"${nobody[@]}" "$rpk" status "$dts" --node master --instance "$inst" >"$out/st" 2>&1 &&
	fail "uid 65534 read root's link: $(cat "$out/st")"
grep -q 'permission denied' "$out/st" || fail "uid 65534 rpk status: $(cat "$out/st")"
[ -z "$(find /dev/shm -maxdepth 1 -name "rpk-$inst-*" -user nobody)" ] ||
	fail "uid 65534 left objects: $(ls -l /dev/shm | grep "$inst")"
expect 0 '20/20 messages came back intact' -- \
	"$rpk" run "$dts" --node master --instance "$inst" --count 20

# (d) Killed with -9, both sides leave their objects; a restart reuses them.
start master master.log
wait_state attached
kill -9 "${pids[0]}" "${pids[1]}"
wait "${pids[0]}" "${pids[1]}" 2>/dev/null
pids=()
[ "$(ls /dev/shm | grep -c "rpk-$inst-")" -eq 9 ] ||
	fail "after kill -9, want 5 regions, 2 counter and 2 message-trace pages: $(ls /dev/shm | grep "$inst")"
start remote remote2.log
expect 0 '20/20 messages came back intact' -- \
	"$rpk" run "$dts" --node master --instance "$inst" --count 20
kill -TERM "${pids[0]}"
wait "${pids[0]}" || fail "remote after restart: $(cat "$out/remote2.log")"
pids=()
[ -z "$(ls /dev/shm | grep "rpk-$inst-")" ] || fail "left behind: $(ls /dev/shm | grep "$inst")"

# (c) An object of another size (another layout on this instance) is refused.
(umask 077 && truncate -s 8192 "/dev/shm/rpk-$inst-vdev0vring0@200c8000")
expect 1 'vdev0vring0@200c8000: 8192 bytes, the layout.s region has 4096: refusing a link object of another size' -- \
	"$rpk" run "$dts" --node remote --instance "$inst" --timeout 500
[ "$(stat -c %s "/dev/shm/rpk-$inst-vdev0vring0@200c8000")" = 8192 ] || fail "resized"
rm -f /dev/shm/rpk-"$inst"-*

# (e) --group: a link shared with a group; a member of another uid joins it.
groupadd "$group" || fail "groupadd $group"
start remote remote3.log --group "$group"
wait_state detached --group "$group"
for r in "${regions[@]}"; do
	got=$(stat -c '%U %G %a' "/dev/shm/rpk-$inst-${r%%:*}")
	[ "$got" = "root $group 660" ] || fail "${r%%:*} of a group link: $got"
done
expect 0 '20/20 messages came back intact' -- \
	setpriv --reuid=65534 --regid=65534 --groups "$group" \
	"$rpk" run "$dts" --node master --instance "$inst" --count 20 --group "$group"
expect 1 'permission denied: a link of that group, but this process is not in it' -- \
	"${nobody[@]}" "$rpk" run "$dts" --node master --instance "$inst" --group "$group" \
	--count 5 --timeout 500
expect 1 'mode 0660: refusing to join a link object that another user can write' -- \
	"$rpk" run "$dts" --node master --instance "$inst" --count 5 --timeout 500
expect 0 '^detached' -- "$rpk" status "$dts" --node master --instance "$inst" --group "$group"
expect 0 'detached, pid' -- "$rpk" stat "$dts" --node remote --instance "$inst" --group "$group"
expect 1 'refusing to read' -- "$rpk" stat "$dts" --node remote --instance "$inst"
expect 1 "no group named 'rpk-no-such-group'" -- \
	"$rpk" run "$dts" --node master --instance "$inst" --group rpk-no-such-group
expect 0 'usage: rpk run.*' -- "$rpk" run --help
expect 0 '--group NAME' -- "$rpk" run --help

finish access
