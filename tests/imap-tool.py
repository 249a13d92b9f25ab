#!/usr/bin/env python3
"""imap-tool.py: drive the test Dovecot from the outside, as a mail client.

  imap-tool.py PORT append MAILBOX FILE...      one APPEND per file; prints UIDs
  imap-tool.py PORT append-many MAILBOX N [DIR]  N generated mails (or DIR's files, cycled)
  imap-tool.py PORT create MAILBOX | delete MAILBOX
  imap-tool.py PORT uids MAILBOX                 UIDs, one per line
  imap-tool.py PORT flags MAILBOX                "UID FLAGS" per message
  imap-tool.py PORT status MAILBOX               UIDVALIDITY UIDNEXT MESSAGES
Environment: IMAP_USER (shop), IMAP_PASS (secret), IMAP_HOST (127.0.0.1).
"""
import imaplib
import os
import re
import sys
import time

def connect(port):
    c = imaplib.IMAP4(os.environ.get("IMAP_HOST", "127.0.0.1"), int(port))
    c.login(os.environ.get("IMAP_USER", "shop"), os.environ.get("IMAP_PASS", "secret"))
    return c

def quote(box):
    return '"' + box.replace("\\", "\\\\").replace('"', '\\"') + '"'

def append(c, box, data):
    typ, resp = c.append(quote(box), None, None, data)
    if typ != "OK":
        sys.exit(f"APPEND failed: {resp}")
    m = re.search(rb"APPENDUID (\d+) (\d+)", resp[0])
    return m.group(2).decode() if m else "?"

def generated(i):
    return (f"From: Musteri {i} <musteri{i}@example.com>\r\n"
            f"To: destek@magaza.com\r\n"
            f"Subject: Siparis {100000 + i} nerede?\r\n"
            f"Message-ID: <gen-{i}-{time.time_ns()}@example.com>\r\n"
            f"Date: Sun, 29 Nov 2026 10:00:00 +0300\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Merhaba, {100000 + i} numarali siparisim gelmedi.\r\n").encode()

def main():
    port, cmd = sys.argv[1], sys.argv[2]
    c = connect(port)
    if cmd == "append":
        box = sys.argv[3]
        for f in sys.argv[4:]:
            print(append(c, box, open(f, "rb").read()))
    elif cmd == "append-many":
        box, n = sys.argv[3], int(sys.argv[4])
        files = sorted(os.path.join(sys.argv[5], f) for f in os.listdir(sys.argv[5])) if len(sys.argv) > 5 else []
        for i in range(n):
            data = open(files[i % len(files)], "rb").read() if files else generated(i)
            if files and i >= len(files):
                # make each copy distinct, as a real mailbox would be
                data = f"X-Copy: {i}\r\n".encode() + data
            append(c, box, data)
    elif cmd == "create":
        c.create(quote(sys.argv[3]))
    elif cmd == "delete":
        c.delete(quote(sys.argv[3]))
    elif cmd in ("uids", "flags"):
        c.select(quote(sys.argv[3]), readonly=True)
        typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
        for item in data:
            if not item:
                continue
            m = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", item)
            if m:
                print(m.group(1).decode() if cmd == "uids"
                      else f"{m.group(1).decode()} {m.group(2).decode()}")
    elif cmd == "status":
        typ, data = c.status(quote(sys.argv[3]), "(UIDVALIDITY UIDNEXT MESSAGES)")
        print(data[0].decode())
    else:
        sys.exit(f"unknown command {cmd}")
    c.logout()

main()
