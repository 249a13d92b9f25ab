#!/usr/bin/env python3
"""fetch-imap.py: bench/fetch's IMAP client for setting up the mailbox.

  fetch-imap.py PORT fill MAILBOX MBOX FIRST COUNT
      APPENDs messages FIRST .. FIRST+COUNT-1 (0-based) of the mboxrd file
      MBOX (as bench/ingest-gen.py writes it: split and ">From "-unescaped
      as src/mailbox.c does; line ends made CRLF) to MAILBOX.  The APPENDs
      are pipelined (LITERAL+; MULTIAPPEND of 100 messages a command where
      the server has it), since filling is setup, not what is measured.
      Prints "COUNT BYTES MEDIAN" (the bytes sent as message data, in all
      and the median message's).
  fetch-imap.py PORT warm MAILBOX
      EXAMINE and UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE), so
      that Dovecot's index and cache are built before anything is timed.
      Prints the message count.
  fetch-imap.py PORT unseen MAILBOX
      UID STORE 1:* -FLAGS.SILENT (\\Seen): undoes what fetchmail did.
  fetch-imap.py PORT status MAILBOX
      Prints "MESSAGES UIDNEXT".

Environment: IMAP_USER (shop), IMAP_PASS (secret), IMAP_HOST (127.0.0.1).
Standard library only.
"""
import imaplib
import mmap
import os
import re
import socket
import sys

FROM_ESCAPED = re.compile(rb"^>(>*From )", re.M)
LINE_END = re.compile(rb"\r\n|\r|\n")


def separators(data):
    """Where the "From " lines start: at the start of the file and after
    an empty line (bench/ingest-python.py, src/mailbox.c)."""
    starts = [0] if data[:5] == b"From " else []
    k = data.find(b"\nFrom ")
    while k >= 0:
        if k == 0 or data[k - 1] == 10 or (data[k - 1] == 13 and k >= 2 and
                                           data[k - 2] == 10):
            starts.append(k + 1)
        k = data.find(b"\nFrom ", k + 1)
    return starts


def messages(data, first, count):
    starts = separators(data)
    last = min(len(starts), first + count)
    for k in range(first, last):
        s = starts[k]
        e = starts[k + 1] if k + 1 < len(starts) else len(data)
        nl = data.find(b"\n", s, e)
        start = nl + 1 if nl >= 0 else e
        end = e
        # the blank line before the next separator belongs to the mbox
        if end > start and data[end - 1:end] == b"\n":
            end -= 1
        if end > start and data[end - 1:end] == b"\r":
            end -= 1
        raw = data[start:end]
        if b">From " in raw:
            raw = FROM_ESCAPED.sub(rb"\1", raw)
        yield raw


def imap_messages(data, first, count):
    """messages(), as an IMAP client sends them: CRLF line ends, ending in
    CRLF."""
    for raw in messages(data, first, count):
        raw = LINE_END.sub(b"\r\n", raw)
        if not raw.endswith(b"\r\n"):
            raw += b"\r\n"
        yield raw


def quote(box):
    return '"' + box.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Raw:
    """Just enough of an IMAP client to pipeline APPENDs."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), 30)
        self.buf = b""
        self.n = 0
        self.line()  # greeting

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit("fetch-imap.py: the server closed the connection")
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def tag(self):
        self.n += 1
        return b"F%d" % self.n

    def command(self, text):
        t = self.tag()
        self.sock.sendall(t + b" " + text + b"\r\n")
        return self.wait(t)

    def wait(self, t):
        caps = b""
        while True:
            ln = self.line()
            if ln.startswith(b"* CAPABILITY") or b"[CAPABILITY" in ln:
                caps += ln
            if ln.startswith(t + b" "):
                if not ln[len(t) + 1:].startswith(b"OK"):
                    raise SystemExit("fetch-imap.py: %s" % ln.decode(errors="replace"))
                return caps + ln


def fill(port, box, path, first, count):
    host = os.environ.get("IMAP_HOST", "127.0.0.1")
    c = Raw(host, port)
    caps = c.command(b"CAPABILITY")
    user = os.environ.get("IMAP_USER", "shop").encode()
    pw = os.environ.get("IMAP_PASS", "secret").encode()
    caps += c.command(b"LOGIN {%d+}\r\n%s {%d+}\r\n%s" % (len(user), user, len(pw), pw))
    if b"LITERAL+" not in caps.upper():
        raise SystemExit("fetch-imap.py: the server has no LITERAL+")
    qbox = quote(box).encode()
    multi = b"MULTIAPPEND" in caps.upper()
    per_command = 100 if multi else 1	# messages in one APPEND command
    window = 4 if multi else 64		# commands in flight
    pending = []
    n = nbytes = 0
    sizes = []
    with open(path, "rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        batch = []
        it = imap_messages(data, first, count)
        while True:
            raw = next(it, None)
            if raw is not None:
                batch.append(b" {%d+}\r\n%s" % (len(raw), raw))
                n += 1
                nbytes += len(raw)
                sizes.append(len(raw))
            if batch and (raw is None or len(batch) >= per_command):
                t = c.tag()
                c.sock.sendall(b"%s APPEND %s%s\r\n" % (t, qbox, b"".join(batch)))
                pending.append(t)
                batch = []
                if len(pending) >= window:
                    c.wait(pending.pop(0))
            if raw is None:
                break
        for t in pending:
            c.wait(t)
    c.command(b"LOGOUT")
    c.sock.close()
    sizes.sort()
    print(n, nbytes, sizes[len(sizes) // 2] if sizes else 0)


def connect(port):
    c = imaplib.IMAP4(os.environ.get("IMAP_HOST", "127.0.0.1"), int(port))
    c.login(os.environ.get("IMAP_USER", "shop"), os.environ.get("IMAP_PASS", "secret"))
    return c


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    port, cmd, box = int(argv[0]), argv[1], argv[2]
    if cmd == "fill" and len(argv) == 6:
        fill(port, box, argv[3], int(argv[4]), int(argv[5]))
    elif cmd == "warm":
        c = connect(port)
        typ, data = c.select(quote(box), readonly=True)
        n = int(data[0])
        if n:
            typ, data = c.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE INTERNALDATE)")
            if typ != "OK":
                raise SystemExit("fetch-imap.py: FETCH failed: %r" % data)
        c.logout()
        print(n)
    elif cmd == "unseen":
        c = connect(port)
        typ, data = c.select(quote(box))
        if int(data[0]):
            typ, data = c.uid("STORE", "1:*", "-FLAGS.SILENT", "(\\Seen)")
            if typ != "OK":
                raise SystemExit("fetch-imap.py: STORE failed: %r" % data)
        c.close()
        c.logout()
    elif cmd == "status":
        c = connect(port)
        typ, data = c.status(quote(box), "(MESSAGES UIDNEXT)")
        d = dict(re.findall(rb"(MESSAGES|UIDNEXT) (\d+)", data[0]))
        if len(d) != 2:
            raise SystemExit("fetch-imap.py: no STATUS answer: %r" % data)
        print(int(d[b"MESSAGES"]), int(d[b"UIDNEXT"]))
        c.logout()
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
