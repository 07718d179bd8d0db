#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# The host side of the uml.pty scenario (uml/guest/rpk-guest.c, test_pty):
# answers on the pty `rpk vhost-user --dir` links to the guest's
# /dev/ttyRPMSG0. Commands are lines; the answers are bytes:
#   LINE text   -> "ACK text\n"
#   ECHO n      -> the n raw bytes that follow, sent back unchanged
#   BURST n     -> n bytes (i * 7 + 3) & 0xff, written at once
#   SINK n      -> sleep 1 s, then take the n bytes that follow: "OK\n" if
#                  they are (i * 7 + 3) & 0xff, else "BAD at i\n"
# Usage: pty_responder.py DIR: the pty is DIR/ttyRPMSG0 (waited for).
import os, sys, termios, time, tty

link = os.path.join(sys.argv[1], "ttyRPMSG0")
for _ in range(600):
    if os.path.exists(link):
        break
    time.sleep(0.05)
fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
# Raw already (the bridge made it so); TCSANOW, not setraw's TCSAFLUSH, which
# would throw away what the guest sent before this program got here.
tty.setraw(fd, termios.TCSANOW)
buf = b""


def need(n):
    global buf
    while len(buf) < n:
        chunk = os.read(fd, 65536)
        if not chunk:
            sys.exit(0)
        buf += chunk


def write_all(data):
    while data:
        data = data[os.write(fd, data):]


while True:
    while b"\n" not in buf:
        need(len(buf) + 1)
    line, buf = buf.split(b"\n", 1)
    cmd, _, arg = line.partition(b" ")
    if cmd == b"LINE":
        write_all(b"ACK " + arg + b"\n")
    elif cmd == b"ECHO":
        n = int(arg)
        need(n)
        data, buf = buf[:n], buf[n:]
        write_all(data)
    elif cmd == b"SINK":
        n = int(arg)
        time.sleep(1)
        need(n)
        data, buf = buf[:n], buf[n:]
        bad = next((i for i in range(n) if data[i] != (i * 7 + 3) & 0xFF), None)
        write_all(b"OK\n" if bad is None else b"BAD at %d\n" % bad)
    elif cmd == b"BURST":
        n = int(arg)
        write_all(bytes((i * 7 + 3) & 0xFF for i in range(n)))
    print("answered", cmd.decode(), arg[:40].decode(errors="replace"), flush=True)
