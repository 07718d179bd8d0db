#!/usr/bin/env bash
# rpk up's ttys (docs/tty.md): each rpmsg-tty channel a pty, shown as
# ttyRPMSG<n> in the service's directory, on both sides of a link.
#   tty.sh CASE RPK SRCDIR
#   up   a remote serving two rpmsg-tty channels and a master, each under
#        rpk up: the four ptys appear; every byte value crosses both ways
#        on the second channel; 256 KiB stream master -> remote arrive whole
#        and in order; the remote is restarted and the master's
#        ttyRPMSG1 (the same pty, held open) carries bytes again
# Needs /dev/fuse and root or fusermount3 (77 without), python3.
set -uo pipefail
case_=$1 rpk=$(realpath "$2") src=$3
inst=tty-$case_-$$
dts=$src/tests/tty/tty.dts
source "$src/tests/cli/lib.sh"
if [ ! -c /dev/fuse ] || { [ "$(id -u)" -ne 0 ] && ! command -v fusermount3 >/dev/null; }; then
	echo "tty.$case_: needs /dev/fuse and root or fusermount3; skipped"
	exit 77
fi
extra_cleanup() {
	awk -v d="$out" 'index($2, d) == 1 {print $2}' /proc/mounts | xargs -r -n1 umount -l
}

# up NODE LOG: rpk up in the background, its directory $out/NODE.
up() {
	"$rpk" up "$dts" --node "$1" --instance "$inst" --dir "$out/$1" >"$out/$2" 2>&1 &
	pids+=($!)
}

case $case_ in
up)
	up remote remote.log
	remote_pid=${pids[-1]}
	up master master.log
	wait_for "$out/remote.log" "^rpk up: remote ready"
	wait_for "$out/master.log" "^rpk up: master ready"
	for side in master remote; do
		for k in 0 1; do
			for _ in $(seq 100); do [ -L "$out/$side/ttyRPMSG$k" ] && break; sleep 0.05; done
			[ -c "$out/$side/ttyRPMSG$k" ] || fail "no $side/ttyRPMSG$k: $(ls -l "$out/$side")"
		done
	done
	python3 - "$out" "$remote_pid" "$rpk" "$dts" "$inst" <<'PY' || fail "the ttys (above)"
import os, select, signal, subprocess, sys, time
out, remote_pid, rpk, dts, inst = sys.argv[1:]

def open_tty(side):
    return os.open(f"{out}/{side}/ttyRPMSG1", os.O_RDWR | os.O_NOCTTY)

def expect(fd, want, what):
    got = b""
    while len(got) < len(want):
        if not select.select([fd], [], [], 10)[0]:
            break
        got += os.read(fd, 65536)
    assert got == want, f"{what}: {len(got)} bytes of {len(want)}, first difference at " \
        f"{next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), len(got))}"

def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]

m, r = open_tty("master"), open_tty("remote")
every = bytes(range(256)) * 4
write_all(m, every)            # the master speaks first: the remote learns its address
expect(r, every, "master -> remote, every byte value")
write_all(r, every)
expect(m, every, "remote -> master, every byte value")
stream = bytes((i * 7 + 3) & 0xFF for i in range(256 << 10))
pid = os.fork()
if pid == 0:                   # a writer and a reader at once, as a pty is used
    write_all(m, stream)
    os._exit(0)
expect(r, stream, "256 KiB master -> remote")
os.waitpid(pid, 0)
os.close(r)

# The remote restarts: the master's pty stays, and carries bytes again.
os.kill(int(remote_pid), signal.SIGTERM)
time.sleep(0.5)
log = open(f"{out}/remote2.log", "w")
p = subprocess.Popen([rpk, "up", dts, "--node", "remote", "--instance", inst,
                      "--dir", f"{out}/remote"], stdout=log, stderr=subprocess.STDOUT)
open(f"{out}/remote2.pid", "w").write(str(p.pid))
for _ in range(200):
    if os.path.islink(f"{out}/remote/ttyRPMSG1"):
        break
    time.sleep(0.05)
r = open_tty("remote")
for attempt in range(100):     # until the master has bound the new announcement
    write_all(m, b"again\n")
    if select.select([r], [], [], 0.1)[0]:
        break
expect(r, b"again\n", "master -> restarted remote")
write_all(r, b"back\n")
expect(m, b"back\n", "restarted remote -> master (the same pty)")
print("ttys: every byte both ways, 256 KiB in order, the master's pty across a remote restart")
PY
	[ -f "$out/remote2.pid" ] && pids+=("$(cat "$out/remote2.pid")")
	;;
*)
	echo "tty.sh: unknown case $case_" >&2
	exit 2
	;;
esac
finish "tty.$case_"
