#!/usr/bin/env python3
# Send one command to a QEMU monitor on a UNIX socket (-monitor
# unix:SOCKET,server=on,wait=off) and wait until it was carried out (the
# monitor's prompt after it):
#   qemu-monitor.py SOCKET COMMAND
# e.g. qemu-monitor.py /tmp/x/monitor system_reset. Exits 1 if the monitor
# cannot be reached or closes first.
import socket
import sys

if len(sys.argv) != 3:
    sys.exit("usage: qemu-monitor.py SOCKET COMMAND")
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
try:
    s.connect(sys.argv[1])
    s.sendall(sys.argv[2].encode() + b"\n")
    seen = b""
    while seen.count(b"(qemu)") < 2:
        more = s.recv(4096)
        if not more:
            sys.exit("qemu-monitor.py: the monitor closed")
        seen += more
except OSError as e:
    sys.exit("qemu-monitor.py: %s: %s" % (sys.argv[1], e))
