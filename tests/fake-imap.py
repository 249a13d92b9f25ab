#!/usr/bin/env python3
"""fake-imap.py: a tiny IMAP4rev1 server on 127.0.0.1 that speaks just
enough for `ikasq fetch`, and misbehaves on request.

  fake-imap.py [--port P] [--port-file F] [--bad-uid U] [--log F] MODE N
  fake-imap.py dump UID      the bytes of message UID, on stdout

Serves INBOX with N messages, UIDs 1..N (sequence number = UID), the same
bytes for a UID every time, UIDVALIDITY 1700000001.  User and password are
not checked.  --port 0 (the default) picks a free port; the port is written
to --port-file (and to stdout) once the server listens.  Runs until killed.

MODE:
  ok                    serves the messages correctly
  garbage-after-select  answers UID SEARCH with random bytes, then says
                        nothing more
  close-mid-literal     in the UID FETCH of bodies that asks for the
                        --bad-uid message (default N): the messages before
                        it correctly, then a {5000} literal of which only
                        100 bytes come, and the connection is closed
  slow                  never answers the UID FETCH of bodies that asks for
                        the --bad-uid message (the connection stays open)

Commands: CAPABILITY, LOGIN, SELECT/EXAMINE, UID SEARCH, UID FETCH (UID,
RFC822.SIZE, BODY.PEEK[], BODY.PEEK[HEADER]), UID STORE (ignored), NOOP,
LOGOUT; anything else gets BAD.
"""
import argparse
import os
import random
import re
import socket
import socketserver
import sys
import threading
import time

CAPS = "IMAP4rev1 IDLE UIDPLUS"
UIDVALIDITY = 1700000001


def message(uid):
    return (f"From: Musteri {uid} <musteri{uid}@example.com>\r\n"
            f"To: destek@magaza.com\r\n"
            f"Subject: Siparis {200000 + uid} nerede?\r\n"
            f"Message-ID: <fake-{uid}@example.com>\r\n"
            f"Date: Sun, 29 Nov 2026 10:00:00 +0300\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Merhaba, {200000 + uid} numarali siparisim gelmedi.\r\n").encode()


def header(uid):
    m = message(uid)
    return m[:m.index(b"\r\n\r\n") + 4]


def parse_set(s, n):
    """An IMAP sequence set of UIDs ("1:5,7,9:*") against UIDs 1..n."""
    out = set()
    for part in s.split(","):
        if ":" in part:
            a, b = part.split(":", 1)
            a = n if a == "*" else int(a)
            b = n if b == "*" else int(b)
            lo, hi = min(a, b), max(a, b)
            out.update(u for u in range(lo, hi + 1) if 1 <= u <= n)
        else:
            u = n if part == "*" else int(part)
            if 1 <= u <= n:
                out.add(u)
    return sorted(out)


class Handler(socketserver.StreamRequestHandler):
    def log(self, what):
        if self.server.logf:
            with self.server.lock:
                self.server.logf.write(f"{time.time():.3f} {what}\n")
                self.server.logf.flush()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(data)
        self.wfile.flush()

    def read_command(self):
        """One command line, with its literals ({n} ... ) read in."""
        line = self.rfile.readline()
        if not line:
            return None
        while True:
            m = re.search(rb"\{(\d+)(\+?)\}\r?\n$", line)
            if not m:
                break
            if not m.group(2):
                self.send("+ go ahead\r\n")
            lit = self.rfile.read(int(m.group(1)))
            line = line[:m.start()] + b'"' + lit + b'"' + self.rfile.readline()
        return line.rstrip(b"\r\n").decode("latin-1")

    def hang(self):
        """Say nothing more; read until the client goes away."""
        self.log("silent from now on")
        while True:
            line = self.rfile.readline()
            if not line:
                self.log("client closed")
                return
            self.log(f"C (unanswered): {line.rstrip().decode('latin-1')}")

    def handle(self):
        mode, n, bad = self.server.mode, self.server.n, self.server.bad_uid
        self.log(f"connected, mode {mode}, {n} messages")
        self.send(f"* OK [CAPABILITY {CAPS}] ready\r\n")
        while True:
            line = self.read_command()
            if line is None:
                self.log("client closed")
                return
            self.log(f"C: {line}")
            parts = line.split(" ", 2)
            if len(parts) < 2:
                self.send("* BAD no tag\r\n")
                continue
            tag, cmd = parts[0], parts[1].upper()
            rest = parts[2] if len(parts) > 2 else ""
            if cmd == "CAPABILITY":
                self.send(f"* CAPABILITY {CAPS}\r\n{tag} OK done\r\n")
            elif cmd == "LOGIN":
                self.send(f"{tag} OK [CAPABILITY {CAPS}] logged in\r\n")
            elif cmd in ("SELECT", "EXAMINE"):
                if rest.strip('"').upper() != "INBOX":
                    self.send(f"{tag} NO no such mailbox\r\n")
                    continue
                self.send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                          f"* {n} EXISTS\r\n* 0 RECENT\r\n"
                          f"* OK [UIDVALIDITY {UIDVALIDITY}] UIDs valid\r\n"
                          f"* OK [UIDNEXT {n + 1}] predicted next UID\r\n"
                          f"{tag} OK [{'READ-ONLY' if cmd == 'EXAMINE' else 'READ-WRITE'}] "
                          f"{cmd} completed\r\n")
            elif cmd == "NOOP":
                self.send(f"{tag} OK noop\r\n")
            elif cmd == "LOGOUT":
                self.send(f"* BYE bye\r\n{tag} OK logout\r\n")
                self.log("logged out")
                return
            elif cmd == "UID":
                self.uid_command(tag, rest, mode, n, bad)
                if self.stop:
                    return
            else:
                self.send(f"{tag} BAD unknown command\r\n")

    stop = False

    def uid_command(self, tag, rest, mode, n, bad):
        sub, _, args = rest.partition(" ")
        sub = sub.upper()
        if sub == "SEARCH":
            if mode == "garbage-after-select":
                rnd = random.Random(2005)
                junk = bytes(rnd.randrange(256) for _ in range(300))
                self.send(junk + b"\r\n" + bytes(rnd.randrange(256) for _ in range(100)) + b"\r\n")
                self.log("sent garbage")
                self.hang()
                self.stop = True
                return
            m = re.search(r"UID (\S+)", args, re.I)
            uids = parse_set(m.group(1), n) if m else list(range(1, n + 1))
            self.send("* SEARCH" + "".join(f" {u}" for u in uids) + f"\r\n{tag} OK search done\r\n")
        elif sub == "FETCH":
            m = re.match(r"(\S+) \((.*)\)$", args) or re.match(r"(\S+) (.*)$", args)
            uids = parse_set(m.group(1), n)
            items = m.group(2).upper()
            body = "BODY.PEEK[]" in items or "BODY[]" in items
            hdr = "BODY.PEEK[HEADER]" in items
            for u in uids:
                if (body or hdr) and u == bad and mode == "slow":
                    self.log(f"not answering the FETCH of UID {u}")
                    self.hang()
                    self.stop = True
                    return
                if (body or hdr) and u == bad and mode == "close-mid-literal":
                    self.send(f"* {u} FETCH (UID {u} BODY[] {{5000}}\r\n".encode()
                              + message(u)[:100].ljust(100, b"x"))
                    self.log(f"closing in the middle of UID {u}'s literal")
                    self.request.shutdown(socket.SHUT_RDWR)
                    self.stop = True
                    return
                att = [f"UID {u}"]
                if "RFC822.SIZE" in items:
                    att.append(f"RFC822.SIZE {len(message(u))}")
                out = f"* {u} FETCH ({' '.join(att)}".encode()
                if body:
                    d = message(u)
                    out += f" BODY[] {{{len(d)}}}\r\n".encode() + d
                elif hdr:
                    d = header(u)
                    out += f" BODY[HEADER] {{{len(d)}}}\r\n".encode() + d
                self.send(out + b")\r\n")
            self.send(f"{tag} OK fetch done\r\n")
        elif sub == "STORE":
            self.send(f"{tag} OK store ignored\r\n")
        else:
            self.send(f"{tag} BAD unknown UID command\r\n")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "dump":
        sys.stdout.buffer.write(message(int(sys.argv[2])))
        return
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--bad-uid", type=int)
    p.add_argument("--log")
    p.add_argument("mode", choices=["ok", "garbage-after-select",
                                    "close-mid-literal", "slow"])
    p.add_argument("n", type=int)
    a = p.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.mode, srv.n = a.mode, a.n
    srv.bad_uid = a.bad_uid if a.bad_uid is not None else a.n
    srv.logf = open(a.log, "a") if a.log else None
    srv.lock = threading.Lock()
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.rename(a.port_file + ".tmp", a.port_file)
    print(port, flush=True)
    srv.serve_forever()


main()
