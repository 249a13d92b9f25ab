#!/usr/bin/env python3
"""oauth2-introspect.py PORT GOOD_TOKEN LOG: the OAuth2 token introspection
endpoint Dovecot's oauth2 passdb asks (RFC 7662, POST token=...), standing
in for Google's or Microsoft's.  GOOD_TOKEN is active for user "shop";
every token asked about is appended to LOG."""
import http.server
import json
import sys
import urllib.parse

port, good, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        token = urllib.parse.parse_qs(body.decode()).get("token", [""])[0]
        with open(log, "a") as f:
            f.write(token + "\n")
        answer = {"active": True, "username": "shop"} if token == good else {"active": False}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
