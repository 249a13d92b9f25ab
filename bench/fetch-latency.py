#!/usr/bin/env python3
"""fetch-latency.py: how soon a mail APPENDed to IMAP is a row in `mails`.

  fetch-latency.py IMAP_PORT PG_SOCKET_DIR MBOX FIRST COUNT [--dbname DB]
                   [--tsv FILE]

For messages FIRST .. FIRST+COUNT-1 (0-based) of the mboxrd file MBOX, one
at a time: APPEND the message to INBOX (imaplib, one connection for all),
note the time the tagged OK came back, then wait until a row with its
Message-ID is visible in the `mails` table of the database
"host=PG_SOCKET_DIR user=postgres dbname=DB" (default postgres), and note
that time.
The latency is the difference (time.monotonic(); one machine, one clock).
Then a pause of 100 to 200 ms (uniformly drawn, seeded) before the next
APPEND, so that each mail is measured alone, on an idle daemon.

How the row is seen: the script speaks PostgreSQL's frontend/backend
protocol itself (psycopg is not installed; the server trusts the local
socket), LISTENs on `ikasq_jobs` and asks
  SELECT 1 FROM mails WHERE message_id = 'ID'
every 5 ms, and at once whenever a notification arrives.  The job_queue
trigger NOTIFYs when a job is queued, and a notification is delivered
when the transaction that stored the mail commits, so a mail with order
numbers is seen within a query's round trip (well under 1 ms) of its
commit; one without, within the 5 ms of the poll.

The server's part: a second IMAP connection IDLEs on INBOX the whole time,
as any IDLE client would, and notes when each "* N EXISTS" arrives.
APPEND -> EXISTS is what Dovecot takes to tell an IDLE client (it waits
500 ms after a change before it looks, to gather more); EXISTS -> row
visible is ikasq's own part.

`received_at` is the database's now() of the storing transaction (its
start, not its commit): received_at minus the APPEND's wall-clock time
(time.time()) is printed too, as the part of the latency before ikasq
began the transaction; the rest is ikasq's INSERTs and the commit.

Prints one line:
  RESULT n=COUNT seen=K missed=M median_ms=.. p90_ms=.. p99_ms=.. max_ms=..
         min_ms=.. mean_ms=.. by_notify=.. txn_median_ms=.. txn_p99_ms=..
         idle_median_ms=.. idle_p99_ms=.. idle_max_ms=..
         own_median_ms=.. own_p99_ms=.. own_max_ms=..
Percentiles are nearest-rank over the mails seen.  With --tsv FILE, one
line per mail: index, Message-ID, bytes, latency ms, APPEND -> EXISTS ms,
APPEND -> received_at ms, how it was seen (notify/poll/missed).

Environment: IMAP_USER (shop), IMAP_PASS (secret), IMAP_HOST (127.0.0.1),
LATENCY_TIMEOUT (seconds to wait for one mail, default 10), LATENCY_SEED
(default 1).  Standard library only.
"""
import imaplib
import importlib.util
import math
import mmap
import os
import random
import re
import select
import socket
import struct
import sys
import threading
import time

MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<([^>\r\n]+)>", re.M | re.I)
POLL_S = 0.005


def load_fetch_imap():
    """bench/fetch-imap.py, beside this script, for its mbox reader."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "fetch-imap.py")
    spec = importlib.util.spec_from_file_location("fetch_imap", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class PG:
    """Just enough of the PostgreSQL protocol (v3, trust authentication,
    simple queries, notifications) for this script."""

    def __init__(self, sockdir, user="postgres", database="postgres"):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(os.path.join(sockdir, ".s.PGSQL.5432"))
        self.buf = b""
        self.notified = []	# monotonic times of notifications not yet used
        params = b"user\0%s\0database\0%s\0application_name\0fetch-latency\0\0" % (
            user.encode(), database.encode())
        self.sock.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
        while True:
            t, body = self.message()
            if t == b"R":
                if struct.unpack("!i", body[:4])[0] != 0:
                    raise SystemExit("fetch-latency.py: the server wants a "
                                     "password; it should trust the socket")
            elif t == b"E":
                raise SystemExit("fetch-latency.py: %s" % self.error(body))
            elif t == b"Z":
                break

    @staticmethod
    def error(body):
        fields = dict((f[:1], f[1:]) for f in body.split(b"\0") if f)
        return fields.get(b"M", body).decode(errors="replace")

    def fill(self, block):
        if not block:
            self.sock.setblocking(False)
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return False
        finally:
            self.sock.setblocking(True)
        if not chunk:
            raise SystemExit("fetch-latency.py: the database closed the connection")
        self.buf += chunk
        return True

    def parse_one(self):
        """A whole message from the buffer, or None."""
        if len(self.buf) < 5:
            return None
        n = struct.unpack("!i", self.buf[1:5])[0]
        if len(self.buf) < 1 + n:
            return None
        t, body = self.buf[:1], self.buf[5:1 + n]
        self.buf = self.buf[1 + n:]
        if t == b"A":	# NotificationResponse, whenever it comes
            self.notified.append(time.monotonic())
        return t, body

    def message(self):
        while True:
            m = self.parse_one()
            if m is not None:
                return m
            self.fill(True)

    def query(self, sql):
        """Rows (lists of str or None) of one simple query."""
        q = sql.encode() + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!i", 4 + len(q)) + q)
        rows, err = [], None
        while True:
            t, body = self.message()
            if t == b"D":
                ncol = struct.unpack("!h", body[:2])[0]
                k, row = 2, []
                for _ in range(ncol):
                    ln = struct.unpack("!i", body[k:k + 4])[0]
                    k += 4
                    if ln < 0:
                        row.append(None)
                    else:
                        row.append(body[k:k + ln].decode())
                        k += ln
                rows.append(row)
            elif t == b"E":
                err = self.error(body)
            elif t == b"Z":
                if err:
                    raise SystemExit("fetch-latency.py: %s" % err)
                return rows

    def wait_notify(self, timeout):
        """Wait up to timeout seconds for a notification; its time or None."""
        deadline = time.monotonic() + timeout
        while True:
            while self.parse_one() is not None:
                pass
            if self.notified:
                return self.notified.pop(0)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                self.fill(False)


class IdleWatch(threading.Thread):
    """A second IMAP connection in IDLE on the mailbox, as any IDLE client
    would be: when each "* N EXISTS" arrived (time.monotonic()), by N."""

    def __init__(self, host, port, user, password, box="INBOX"):
        super().__init__(daemon=True)
        self.sock = socket.create_connection((host, port), 30)
        self.f = self.sock.makefile("rb")
        self.exists = {}
        self.f.readline()
        for tag, cmd in ((b"w1", b"LOGIN \"%s\" \"%s\"" % (user.encode(), password.encode())),
                         (b"w2", b"EXAMINE \"%s\"" % box.encode())):
            self.sock.sendall(tag + b" " + cmd + b"\r\n")
            while True:
                ln = self.f.readline()
                if not ln:
                    raise SystemExit("fetch-latency.py: IMAP closed")
                if ln.startswith(tag + b" "):
                    if not ln.startswith(tag + b" OK"):
                        raise SystemExit("fetch-latency.py: %r" % ln)
                    break
        self.sock.sendall(b"w3 IDLE\r\n")
        if not self.f.readline().startswith(b"+"):
            raise SystemExit("fetch-latency.py: the server has no IDLE")
        self.sock.settimeout(None)

    def run(self):
        try:
            for ln in self.f:
                m = re.match(rb"\* (\d+) EXISTS", ln)
                if m:
                    self.exists.setdefault(int(m.group(1)), time.monotonic())
        except OSError:
            pass


def literal(s):
    return "'" + s.replace("'", "''") + "'"


def pct(sorted_vals, p):
    """Nearest-rank percentile."""
    if not sorted_vals:
        return float("nan")
    k = max(1, math.ceil(p / 100.0 * len(sorted_vals)))
    return sorted_vals[k - 1]


def main(argv):
    tsv = None
    dbname = "postgres"
    args = []
    k = 0
    while k < len(argv):
        if argv[k] == "--tsv" and k + 1 < len(argv):
            tsv = argv[k + 1]
            k += 2
            continue
        if argv[k] == "--dbname" and k + 1 < len(argv):
            dbname = argv[k + 1]
            k += 2
            continue
        args.append(argv[k])
        k += 1
    if len(args) != 5:
        sys.stderr.write(__doc__)
        return 2
    port, sockdir, mbox, first, count = (int(args[0]), args[1], args[2],
                                         int(args[3]), int(args[4]))
    timeout = float(os.environ.get("LATENCY_TIMEOUT", "10"))
    rng = random.Random(os.environ.get("LATENCY_SEED", "1"))

    with open(mbox, "rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        mails = list(load_fetch_imap().imap_messages(data, first, count))
    if len(mails) != count:
        raise SystemExit("fetch-latency.py: %s has %d messages from %d, not %d"
                         % (mbox, len(mails), first, count))
    pg = PG(sockdir, database=dbname)
    pg.query("LISTEN ikasq_jobs")
    host = os.environ.get("IMAP_HOST", "127.0.0.1")
    user = os.environ.get("IMAP_USER", "shop")
    password = os.environ.get("IMAP_PASS", "secret")
    imap = imaplib.IMAP4(host, port)
    imap.login(user, password)
    typ, st = imap.status("INBOX", "(MESSAGES)")
    before = int(re.search(rb"MESSAGES (\d+)", st[0]).group(1))
    watch = IdleWatch(host, port, user, password)
    watch.start()

    results = []	# (i, mid, bytes, latency_s or None, append_wall, how)
    for i, raw in enumerate(mails):
        m = MESSAGE_ID.search(raw.split(b"\r\n\r\n", 1)[0])
        if m is None:
            raise SystemExit("fetch-latency.py: message %d has no Message-ID" % (first + i))
        mid = m.group(1).decode()
        q = "SELECT 1 FROM mails WHERE message_id = %s" % literal(mid)
        if pg.query(q):
            raise SystemExit("fetch-latency.py: %s is stored already" % mid)
        pg.notified.clear()
        typ, resp = imap.append("INBOX", None, None, raw)
        t0 = time.monotonic()
        wall0 = time.time()
        if typ != "OK":
            raise SystemExit("fetch-latency.py: APPEND failed: %r" % resp)
        seen, how = None, "missed"
        while time.monotonic() - t0 < timeout:
            tn = pg.wait_notify(POLL_S)
            if pg.query(q):
                if tn is not None:
                    seen, how = tn, "notify"
                else:
                    seen, how = time.monotonic(), "poll"
                break
        # give the watcher the same chance: wait for its EXISTS as well
        while before + i + 1 not in watch.exists and time.monotonic() - t0 < timeout:
            time.sleep(0.001)
        te = watch.exists.get(before + i + 1)
        results.append([i, mid, len(raw), None if seen is None else seen - t0,
                        wall0, how, None if te is None else te - t0])
        time.sleep(rng.uniform(0.100, 0.200))
    imap.logout()

    # when each storing transaction began, by the database's clock
    ids = ",".join(literal(r[1]) for r in results)
    began = dict(pg.query("SELECT message_id, extract(epoch FROM received_at)::text"
                          " FROM mails WHERE message_id IN (%s)" % ids))
    for r in results:
        b = began.get(r[1])
        r.append(None if b is None else float(b) - r[4])
    # r: 0 i, 1 mid, 2 bytes, 3 latency, 4 append wall, 5 how, 6 EXISTS, 7 txn

    lat = sorted(r[3] * 1000 for r in results if r[3] is not None)
    txn = sorted(r[7] * 1000 for r in results if r[7] is not None and r[3] is not None)
    idle = sorted(r[6] * 1000 for r in results if r[6] is not None)
    own = sorted((r[3] - r[6]) * 1000 for r in results
                 if r[3] is not None and r[6] is not None)
    if tsv:
        with open(tsv, "w") as f:
            f.write("i\tmessage_id\tbytes\tlatency_ms\tappend_to_exists_ms"
                    "\tappend_to_received_at_ms\tseen_by\n")
            ms = lambda v: "-" if v is None else "%.2f" % (v * 1000)
            for r in results:
                f.write("%d\t%s\t%d\t%s\t%s\t%s\t%s\n" % (
                    first + r[0], r[1], r[2], ms(r[3]), ms(r[6]), ms(r[7]), r[5]))
    print("RESULT n=%d seen=%d missed=%d median_ms=%.1f p90_ms=%.1f p99_ms=%.1f "
          "max_ms=%.1f min_ms=%.1f mean_ms=%.1f by_notify=%d txn_median_ms=%.1f "
          "txn_p99_ms=%.1f idle_median_ms=%.1f idle_p99_ms=%.1f idle_max_ms=%.1f "
          "own_median_ms=%.1f own_p99_ms=%.1f own_max_ms=%.1f" % (
              count, len(lat), count - len(lat), pct(lat, 50), pct(lat, 90),
              pct(lat, 99), lat[-1] if lat else float("nan"),
              lat[0] if lat else float("nan"),
              sum(lat) / len(lat) if lat else float("nan"),
              sum(1 for r in results if r[5] == "notify"),
              pct(txn, 50), pct(txn, 99), pct(idle, 50), pct(idle, 99),
              idle[-1] if idle else float("nan"), pct(own, 50), pct(own, 99),
              own[-1] if own else float("nan")))
    return 0 if len(lat) == count else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
