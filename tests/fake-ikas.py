#!/usr/bin/env python3
"""fake-ikas.py PORT [ORDERS.json]: a stand-in for the İkas Admin API on
127.0.0.1, speaking its wire format (see ../shared/notes/ikas-api.md):

  POST /api/admin/oauth/token   form: grant_type=client_credentials,
                                client_id, client_secret
                                -> {"access_token","token_type":"Bearer",
                                    "expires_in":14400}
  POST /api/v1/admin/graphql    Authorization: Bearer TOKEN,
  POST /api/v2/admin/graphql    {"query": "...listOrder...", "variables":
                                {"orderNumber": {"eq"|"in": ...},
                                 "pagination": {"page","limit"}}}
                                -> {"data":{"listOrder":{"count","data"}}}

Client id "test-client" with secret "test-secret" is valid.  Every order
number exists except those starting with 9 (or those ORDERS.json, a map
number -> order, does not hold when given).

Control (for tests):
  POST /_admin/fail   {"what": "429"|"500"|"slow"|"broken"|"nodata"|
                       "validation"|"login"|"unauthorized"|"401",
                       "count": N, "retry_after": S, "retry_after_body": S,
                       "seconds": S}       the next N GraphQL requests fail so
  POST /_admin/limit  {"requests": R, "window": W}   answer 429 (with
                       Retry-After) past R requests in any W seconds
  POST /_admin/chaos  {"p429": P, "p500": Q, "retry_after": S, "seed": N,
                       "delay": [LO, HI]}
                       from now on each GraphQL request (past the limit and
                       the queued faults) answers 429 with Retry-After S
                       (default 1) with probability P, else 500 with
                       probability Q, and the others take LO-HI seconds
                       (default none); "seed" makes the draws
                       reproducible; {} ends it
  POST /_admin/expire                      every token issued so far is dead
  POST /_admin/reset                       counters to zero
  GET  /_admin/stats  counters: token_requests, graphql_requests,
                       orders (number -> times asked), status_429,
                       status_500, chaos_429, chaos_500 (of them, the
                       chaos mode's), max_in_window, errors
  GET  /_admin/last   the last GraphQL request body
"""
import http.server
import json
import random
import secrets
import sys
import threading
import time
import urllib.parse

PORT = int(sys.argv[1])
ORDERS = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else None
LOCK = threading.Lock()


def new_stats():
    return {"token_requests": 0, "graphql_requests": 0, "orders": {},
            "status_429": 0, "status_500": 0, "chaos_429": 0, "chaos_500": 0,
            "max_in_window": 0, "errors": 0}


STATE = {
    "tokens": set(), "faults": [], "limit": None, "times": [],
    "chaos": None, "rng": random.Random(),
    "stats": new_stats(),
    "last": None,
}


def make_order(number):
    if ORDERS is not None:
        return ORDERS.get(number)
    if number.startswith("9"):
        return None
    n = int("".join(c for c in number if c.isdigit()) or "0")
    return {
        "id": f"ord-{number}",
        "orderNumber": number,
        "status": "CREATED",
        "orderPaymentStatus": "PAID",
        "orderPackageStatus": ["UNFULFILLED", "READY_FOR_SHIPMENT", "FULFILLED", "DELIVERED"][n % 4],
        "totalFinalPrice": 100 + n % 900 + 0.9,
        "currencyCode": "TRY",
        "orderedAt": 1732000000000 + n * 1000,
        "customer": {"email": f"musteri{n % 1000}@example.com", "firstName": "Ayşe",
                     "lastName": "Yılmaz", "phone": "+905321234567"},
        "shippingAddress": {"firstName": "Ayşe", "lastName": "Yılmaz", "phone": "+905321234567",
                            "addressLine1": "Atatürk Cad. No: 12 D: 5",
                            "city": {"name": "İstanbul"}, "district": {"name": "Kadıköy"}},
        "orderLineItems": [{"quantity": 1, "finalPrice": 100 + n % 900 + 0.9,
                            "variant": {"name": "Triko Hırka - Lacivert M", "sku": f"TRK-{n % 97}"}}],
        "orderPackages": [{"orderPackageNumber": f"{number}-1",
                           "orderPackageFulfillStatus": "FULFILLED",
                           "trackingInfo": {"cargoCompany": "Yurtiçi Kargo",
                                            "trackingNumber": f"YK{n:010d}",
                                            "trackingLink": f"https://kargotakip.example/{n}"}}],
    }


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without this, Nagle holds the
    # body until the client's delayed ACK, 40 ms on every reused connection
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def send(self, status, obj=None, raw=None, headers=None):
        body = raw if raw is not None else json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_GET(self):
        with LOCK:
            if self.path == "/_admin/stats":
                return self.send(200, STATE["stats"])
            if self.path == "/_admin/last":
                return self.send(200, raw=STATE["last"] or b"null")
        self.send(404, {"error": "not found"})

    def do_POST(self):
        data = self.body()
        path = self.path.split("?")[0]
        if path.startswith("/_admin/"):
            return self.admin(path, data)
        if path.endswith("/oauth/token"):
            return self.token(data)
        if path.endswith("/admin/graphql"):
            return self.graphql(data)
        self.send(404, {"error": "not found"})

    def admin(self, path, data):
        arg = json.loads(data or b"{}")
        with LOCK:
            if path == "/_admin/fail":
                STATE["faults"].extend([arg] * int(arg.get("count", 1)))
            elif path == "/_admin/limit":
                STATE["limit"] = (int(arg["requests"]), float(arg["window"]))
            elif path == "/_admin/chaos":
                p429 = float(arg.get("p429", 0))
                p500 = float(arg.get("p500", 0))
                if "seed" in arg:
                    STATE["rng"] = random.Random(arg["seed"])
                delay = arg.get("delay")
                STATE["chaos"] = ((p429, p500, arg.get("retry_after", 1), delay)
                                  if p429 > 0 or p500 > 0 or delay else None)
            elif path == "/_admin/expire":
                STATE["tokens"].clear()
            elif path == "/_admin/reset":
                STATE["stats"] = new_stats()
                STATE["faults"] = []
                STATE["times"] = []
        self.send(200, {"ok": True})

    def token(self, data):
        form = urllib.parse.parse_qs(data.decode())
        with LOCK:
            STATE["stats"]["token_requests"] += 1
        if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return self.send(400, {"errors": [{"msg": "bad content type"}]})
        if form.get("grant_type") != ["client_credentials"]:
            return self.send(400, {"errors": [{"msg": "invalid grant_type", "param": "grant_type",
                                               "location": "query"}]})
        if form.get("client_id") != ["test-client"]:
            return self.send(400, {"errors": [{"msg": "invalid client_id", "param": "client_id",
                                               "location": "query"}]})
        if form.get("client_secret") != ["test-secret"]:
            return self.send(400, {"errors": [{"msg": "invalid client_secret",
                                               "param": "client_secret", "location": "query"}]})
        tok = "eyJ" + secrets.token_urlsafe(24)
        with LOCK:
            STATE["tokens"].add(tok)
        self.send(200, {"access_token": tok, "token_type": "Bearer", "expires_in": 14400})

    def graphql(self, data):
        now = time.monotonic()
        with LOCK:
            st = STATE["stats"]
            st["graphql_requests"] += 1
            STATE["last"] = data
            fault = STATE["faults"].pop(0) if STATE["faults"] else None
            limited = None
            if STATE["limit"]:
                r, w = STATE["limit"]
                STATE["times"] = [t for t in STATE["times"] if t > now - w]
                if len(STATE["times"]) >= r:
                    limited = max(1, int(STATE["times"][0] + w - now + 0.999))
                else:
                    STATE["times"].append(now)
                    st["max_in_window"] = max(st["max_in_window"], len(STATE["times"]))
            chaos = None
            pause = 0
            if STATE["chaos"] and limited is None and fault is None:
                p429, p500, ra, delay = STATE["chaos"]
                x = STATE["rng"].random()
                chaos = "429" if x < p429 else "500" if x < p429 + p500 else None
                if delay and not chaos:
                    pause = STATE["rng"].uniform(float(delay[0]), float(delay[1]))
                if chaos:
                    st["errors"] += 1
                    st["status_" + chaos] += 1
                    st["chaos_" + chaos] += 1
            auth = self.headers.get("Authorization", "")
            token_ok = auth.startswith("Bearer ") and auth[7:] in STATE["tokens"]
        if chaos == "429":
            return self.send(429, {"error": "Too Many Requests"},
                             headers={"Retry-After": str(ra)})
        if chaos == "500":
            return self.send(500, {"error": "Internal Server Error"})
        if pause:
            time.sleep(pause)
        if limited is not None:
            with LOCK:
                st["status_429"] += 1
            return self.send(429, {"error": "Too Many Requests"}, headers={"Retry-After": str(limited)})
        if fault:
            what = fault.get("what")
            with LOCK:
                st["errors"] += 1
            if what == "429":
                with LOCK:
                    st["status_429"] += 1
                hdr = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
                body = {"error": "Too Many Requests"}
                if "retry_after_body" in fault:
                    body["retryAfter"] = fault["retry_after_body"]
                return self.send(429, body, headers=hdr)
            if what == "500":
                with LOCK:
                    st["status_500"] += 1
                return self.send(500, {"error": "Internal Server Error"})
            if what == "slow":
                time.sleep(float(fault.get("seconds", 10)))
            if what == "broken":
                return self.send(200, raw=b'{"data": {"listOrder": {"count": 1, "data": [')
            if what == "html":
                return self.send(502, raw=b"<html><body>Bad Gateway</body></html>")
            if what == "nodata":
                return self.send(200, {"message": "ok"})
            if what == "validation":
                return self.send(200, {"errors": [{"message": 'Variable "$orderNumber" got invalid value',
                                                   "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]})
            if what == "unauthorized":
                return self.send(200, {"errors": [{"message": "Unauthorized",
                                                   "extensions": {"code": "UNAUTHORIZED"}}]})
            if what == "401":
                return self.send(401, {"error": "Unauthorized"})
            if what == "login":
                token_ok = False
        if not token_ok:
            return self.send(200, {"errors": [{"message": "Login required",
                                               "extensions": {"code": "LOGIN_REQUIRED"}}]})
        try:
            req = json.loads(data)
            assert "listOrder" in req["query"]
            f = req["variables"]["orderNumber"]
            numbers = f["in"] if "in" in f else [f["eq"]]
            assert all(isinstance(n, str) for n in numbers)
        except Exception:
            return self.send(200, {"errors": [{"message": "Cannot query",
                                               "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]})
        found = []
        with LOCK:
            for n in numbers:
                st["orders"][n] = st["orders"].get(n, 0) + 1
        for n in numbers:
            o = make_order(n)
            if o is not None:
                found.append(o)
        self.send(200, {"data": {"listOrder": {"count": len(found), "data": found}}})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass    # a client that gave up (a timeout test) is not news


Server(("127.0.0.1", PORT), Handler).serve_forever()
