#!/usr/bin/env python3
"""work-fakeload.py PORT SECONDS CONNECTIONS BATCH: how fast the İkas
stand-in (tests/fake-ikas.py) answers on its own.

Gets one access token, then CONNECTIONS processes each keep one HTTP/1.1
connection open and POST the same listOrder request as ikasq (the `in`
filter with BATCH order numbers, all of which exist) back to back for
SECONDS.  Every answer is read in full and checked for HTTP 200 with BATCH
orders.  Prints one line:

  RESULT requests=N seconds=S rps=X orders_per_s=Y errors=E

The client runs on the same machine, so on few cores it takes CPU the
server could have used: the figure is a lower bound of what the stand-in
can do.  Standard library only.
"""
import http.client
import json
import multiprocessing
import sys
import time
import urllib.parse

QUERY = ("query GetOrders($orderNumber: StringFilterInput, $pagination: "
         "PaginationInput) { listOrder(orderNumber: $orderNumber, "
         "pagination: $pagination) { count data { id orderNumber status } } }")


def token(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = urllib.parse.urlencode({"grant_type": "client_credentials",
                                   "client_id": "test-client",
                                   "client_secret": "test-secret"})
    c.request("POST", "/api/admin/oauth/token", body,
              {"Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    tok = json.loads(r.read())["access_token"]
    c.close()
    return tok


def worker(port, tok, seconds, batch, first, q):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    hdr = {"Content-Type": "application/json",
           "Authorization": "Bearer " + tok}
    n = err = 0
    base = first
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        nums = [str(base + i) for i in range(batch)]
        base += batch
        body = json.dumps({"query": QUERY, "variables": {
            "orderNumber": {"in": nums},
            "pagination": {"page": 1, "limit": batch}}})
        c.request("POST", "/api/v1/admin/graphql", body, hdr)
        r = c.getresponse()
        data = r.read()
        n += 1
        try:
            if r.status != 200 or \
               json.loads(data)["data"]["listOrder"]["count"] != batch:
                err += 1
        except (ValueError, KeyError, TypeError):
            err += 1
    c.close()
    q.put((n, err))


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.split("\n\n")[0])
    port, seconds, conns, batch = (int(sys.argv[1]), float(sys.argv[2]),
                                   int(sys.argv[3]), int(sys.argv[4]))
    tok = token(port)
    q = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=worker, args=(
        port, tok, seconds, batch, 100000 + i * 10000000, q))
        for i in range(conns)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    res = [q.get() for _ in procs]
    for p in procs:
        p.join()
    dt = time.monotonic() - t0
    n = sum(r[0] for r in res)
    e = sum(r[1] for r in res)
    print(f"RESULT requests={n} seconds={dt:.2f} rps={n / dt:.1f} "
          f"orders_per_s={n * batch / dt:.0f} errors={e}")


if __name__ == "__main__":
    main()
