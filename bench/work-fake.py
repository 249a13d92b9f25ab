#!/usr/bin/env python3
"""work-fake.py FAKE_IKAS_PY PORT [ARGS...]: run the İkas stand-in
(tests/fake-ikas.py) unchanged, but with TCP_NODELAY on its connections.

The stand-in is a http.server: it writes the status line and headers of an
answer in one send() and the body in a second.  With Nagle's algorithm on
(socketserver's default), the kernel holds the body until the client has
ACKed the headers, and the client delays that ACK by up to 40 ms (Linux
delayed ACK), so every request on a kept-alive connection after the first
takes about 40-45 ms on loopback whatever the client does.  The real API
does not behave so; bench/work measures ikasq against the stand-in without
that stall (StreamRequestHandler.disable_nagle_algorithm = True, which is
what http.server offers for it), and says how fast the stand-in is either
way.
"""
import runpy
import socketserver
import sys

if len(sys.argv) < 3:
    sys.exit(__doc__.split("\n\n")[0])
socketserver.StreamRequestHandler.disable_nagle_algorithm = True
path = sys.argv[1]
sys.argv = [path] + sys.argv[2:]
runpy.run_path(path, run_name="__main__")
