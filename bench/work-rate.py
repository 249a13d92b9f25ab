#!/usr/bin/env python3
"""work-rate.py: the İkas stand-in's request counters over time, for the
rate-limit part of bench/work.

  work-rate.py watch PORT OUT [INTERVAL]
      Polls GET /_admin/stats every INTERVAL seconds (default 0.05) until
      SIGTERM and appends a line "EPOCH graphql_requests status_429 errors"
      to OUT each time a counter changes (EPOCH: time.time(), the moment of
      the poll that first saw the new value, so a request is seen at most
      INTERVAL late).

  work-rate.py report OUT PORT R WINDOW BURST T_START T_END
      Reads OUT and the stand-in's final counters and prints one line:

        RESULT ok=N s429=N errors=N first=S last=S whole_rpm=X
               whole_share=X steady_rpm=X steady_share=X max_in_window=N

      ok is the requests answered 200 (graphql_requests - status_429 -
      errors).  whole_*: ok over T_END - T_START (the workers' wall time,
      start-up included), per minute, and as a share of R per WINDOW.
      steady_*: the requests after the first BURST (the bucket's initial
      allowance) over the time from the BURST+1-th request to the last
      one, i.e. the refill rate the workers actually reached.
      first/last: seconds from T_START to the first and the last request.
"""
import json
import signal
import sys
import time
import urllib.request


def stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_admin/stats",
                                timeout=10) as r:
        d = json.load(r)
    return d["graphql_requests"], d["status_429"], d["errors"], \
        d["max_in_window"]


def watch(port, out, interval):
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    last = None
    with open(out, "a") as f:
        while not stop:
            try:
                s = stats(port)[:3]
            except OSError:
                s = None
            if s is not None and s != last:
                f.write(f"{time.time():.4f} {s[0]} {s[1]} {s[2]}\n")
                f.flush()
                last = s
            time.sleep(interval)


def report(out, port, r, window, burst, t0, t1):
    rows = []
    with open(out) as f:
        for line in f:
            t, g, s, e = line.split()
            rows.append((float(t), int(g), int(s), int(e)))
    g, s429, errors, miw = stats(port)
    ok = g - s429 - errors
    per_min = 60.0 / window

    def when(n):
        # the first poll that saw at least n requests
        for t, c, _, _ in rows:
            if c >= n:
                return t
        return None

    first, last = when(1), when(g)
    whole = ok / ((t1 - t0) / 60.0) if t1 > t0 else 0.0
    steady = 0.0
    b = when(burst + 1)
    if b is not None and last is not None and last > b and g > burst + 1:
        steady = (g - burst - 1) / ((last - b) / 60.0)
    rate = r * per_min       # R per minute
    print(f"RESULT ok={ok} s429={s429} errors={errors} "
          f"first={(first or t0) - t0:.2f} last={(last or t0) - t0:.2f} "
          f"whole_rpm={whole:.1f} whole_share={whole / rate:.4f} "
          f"steady_rpm={steady:.1f} steady_share={steady / rate:.4f} "
          f"max_in_window={miw}")


def main():
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "watch":
        watch(int(a[1]), a[2], float(a[3]) if len(a) > 3 else 0.05)
    elif len(a) == 8 and a[0] == "report":
        report(a[1], int(a[2]), int(a[3]), float(a[4]), int(a[5]),
               float(a[6]), float(a[7]))
    else:
        sys.exit("usage: work-rate.py watch PORT OUT [INTERVAL]\n"
                 "       work-rate.py report OUT PORT R WINDOW BURST "
                 "T_START T_END")


if __name__ == "__main__":
    main()
