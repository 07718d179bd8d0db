#!/usr/bin/env python3
# rpk ivshmem-server against the protocol QEMU's ivshmem-doorbell device
# speaks (QEMU docs/specs/ivshmem-spec.rst), played by this script:
#   server.py RPK
# Two peers join: each gets version 0, its ID (the lowest free), -1 with a
# shared-memory fd, the other's eventfds (one per vector, in order) and its
# own. An interrupt written to a peer's vector arrives on that vector's own
# eventfd. A peer that leaves is not announced (QEMU's device mishandles an
# ID that leaves and comes back): the next to join takes its ID with the
# same eventfds, so the others' rings reach it, one sent while the slot was
# empty included; a new slot is announced to those present.
# Bad arguments and a socket in use are refused.
import os, socket, struct, subprocess, sys, tempfile, time

rpk = sys.argv[1]
work = tempfile.mkdtemp()
path = os.path.join(work, "s.sock")
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def recv(sock):
    """One message: (value, fd or None)."""
    data, fds, _, _ = socket.recv_fds(sock, 8, 4)
    if len(data) != 8:
        raise EOFError("server closed")
    for extra in fds[1:]:
        os.close(extra)
    return struct.unpack("<q", data)[0], (fds[0] if fds else None)


def join(vectors=2, others=()):
    """Connect; return (sock, id, own fds, {peer: fds})."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(5)
    version, fd = recv(s)
    check(version == 0 and fd is None, "version 0 without an fd, got %d" % version)
    my_id, fd = recv(s)
    check(fd is None and 0 <= my_id <= 0xffff, "an ID without an fd")
    minus_one, shm = recv(s)
    check(minus_one == -1 and shm is not None, "-1 with the shared memory")
    if shm is not None:
        check(os.fstat(shm).st_size > 0, "a shared memory of some size")
        os.close(shm)
    peers = {}
    for other in others:
        for v in range(vectors):
            pid, fd = recv(s)
            check(pid == other and fd is not None, "peer %d's vector %d, got %d" % (other, v, pid))
            peers.setdefault(pid, []).append(fd)
    own = []
    for v in range(vectors):
        pid, fd = recv(s)
        check(pid == my_id and fd is not None, "own vector %d" % v)
        own.append(fd)
    return s, my_id, own, peers


def interrupt(fd):
    os.write(fd, struct.pack("<Q", 1))


def interrupted(fd):
    os.set_blocking(fd, False)
    for _ in range(100):
        try:
            return struct.unpack("<Q", os.read(fd, 8))[0] >= 1
        except BlockingIOError:
            time.sleep(0.01)
    return False


server = subprocess.Popen([rpk, "ivshmem-server", path, "--vectors", "2"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
for _ in range(200):
    if os.path.exists(path):
        break
    time.sleep(0.01)
try:
    a, a_id, a_own, _ = join()
    check(a_id == 0, "the first peer is 0, got %d" % a_id)
    b, b_id, b_own, b_peers = join(others=[a_id])
    check(b_id == 1, "the second peer is 1, got %d" % b_id)
    # a hears of b: b's ID once per vector, each with its eventfd.
    a_peers = {}
    for v in range(2):
        pid, fd = recv(a)
        check(pid == b_id and fd is not None, "a told of b's vector %d" % v)
        a_peers.setdefault(pid, []).append(fd)
    # Vector 1 of b, rung by a, arrives on b's own vector 1 and only there.
    interrupt(a_peers[b_id][1])
    check(interrupted(b_own[1]), "b's vector 1 interrupted")
    check(not interrupted(b_own[0]), "b's vector 0 left alone")
    interrupt(b_peers[a_id][0])
    check(interrupted(a_own[0]), "a's vector 0 interrupted")
    # A second server on the same socket is refused by name.
    second = subprocess.run([rpk, "ivshmem-server", path], capture_output=True, text=True)
    check(second.returncode == 1 and "another server listens there" in second.stderr,
          "a second server refused: %r" % second.stderr)
    # a leaves: nobody is told. b rings the empty slot; c takes slot 0 with
    # a's eventfds and finds b's ring waiting; d takes a new slot, 2, which
    # b and c are told of.
    a.close()
    time.sleep(0.2)
    b.settimeout(0.3)
    try:
        socket.recv_fds(b, 8, 1)
        check(False, "b was told something when a left")
    except (TimeoutError, socket.timeout):
        pass
    b.settimeout(5)
    interrupt(b_peers[a_id][0])
    c, c_id, c_own, c_peers = join(others=[b_id])
    check(c_id == 0, "a returning peer takes the freed slot 0, got %d" % c_id)
    check(interrupted(c_own[0]), "the ring sent to the empty slot waits for its next holder")
    interrupt(b_peers[a_id][1])  # b still holds slot 0's eventfds: they are c's
    check(interrupted(c_own[1]), "b's old fds for slot 0 reach its new holder")
    interrupt(c_peers[b_id][0])
    check(interrupted(b_own[0]), "b interrupted by the returning peer")
    d, d_id, d_own, d_peers = join(others=[c_id, b_id])
    check(d_id == 2, "a third peer takes slot 2, got %d" % d_id)
    for sock, peers, name in ((b, b_peers, "b"), (c, c_peers, "c")):
        for v in range(2):
            pid, fd = recv(sock)
            check(pid == d_id and fd is not None, "%s told of d's vector %d" % (name, v))
            peers.setdefault(pid, []).append(fd)
    interrupt(b_peers[d_id][1])
    check(interrupted(d_own[1]), "d interrupted by b")
    for sock in (c, b, d):
        sock.close()
finally:
    server.terminate()
    out, _ = server.communicate(timeout=10)
check(server.returncode == 0, "the server exits 0 on SIGTERM, got %s" % server.returncode)
check(not os.path.exists(path), "the socket removed")
check("peer 0 joined" in out and "peer 1 joined" in out, "the server logs joins: %r" % out)
# A server killed leaves its socket: the next one replaces it (the lock is
# free), and serves.
killed = subprocess.Popen([rpk, "ivshmem-server", path], stdout=subprocess.PIPE, text=True)
for _ in range(200):
    if os.path.exists(path):
        break
    time.sleep(0.01)
killed.kill()
killed.wait()
check(os.path.exists(path), "a killed server leaves its socket")
again = subprocess.Popen([rpk, "ivshmem-server", path], stdout=subprocess.PIPE, text=True)
try:
    check("listening on" in again.stdout.readline(), "a server replaces a dead one's socket")
    e, e_id, _, _ = join()
    check(e_id == 0, "and serves: peer 0, got %d" % e_id)
    e.close()
finally:
    again.terminate()
    again.wait(timeout=10)
for args, code, text in (([], 2, "usage"), ([path, "--vectors", "9"], 2, "vectors"),
                         ([work], 1, "exists and is not a socket")):
    r = subprocess.run([rpk, "ivshmem-server"] + args, capture_output=True, text=True)
    check(r.returncode == code and text in r.stderr, "%s: %d %r" % (args, r.returncode, r.stderr))
print("PASS" if not failures else "%d failures" % failures)
sys.exit(1 if failures else 0)
