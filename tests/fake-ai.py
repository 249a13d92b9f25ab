#!/usr/bin/env python3
"""fake-ai.py PORT [LOGDIR]: a stand-in for an OpenAI-compatible endpoint,
POST /v1/chat/completions, that answers deterministically: a short Turkish
draft built from the order facts it was given.  It checks the request's
shape (model, a system and a user message, temperature, max_tokens) and
answers 400 like OpenAI when it is wrong.  Every request body is written
to LOGDIR/NNN.json when LOGDIR is given.

Control: POST /_admin/fail {"what": "429"|"500"|"slow"|"garbage"|"400"|
"401", "count": N, "seconds": S, "retry_after": S}; GET /_admin/stats
{"requests": N}; GET /_admin/last (the last body); POST /_admin/reset.
"""
import http.server
import json
import os
import re
import sys
import threading
import time

PORT = int(sys.argv[1])
LOGDIR = sys.argv[2] if len(sys.argv) > 2 else None
LOCK = threading.Lock()
STATE = {"faults": [], "requests": 0, "last": b"null"}


def draft(req):
    user = next((m["content"] for m in req["messages"] if m["role"] == "user"), "")
    name = re.search(r"\nMüşteri: ([^<\n]+?) <", user)
    hello = f"Merhaba {name.group(1).split()[0]} Hanım/Bey," if name else "Merhaba,"
    lines = [hello, ""]
    for facts in re.findall(r"^- (\{.*\})$", user, re.M):
        o = json.loads(facts)
        pk = (o.get("paketler") or [{}])[0]
        s = f"{o.get('siparis_no')} numaralı siparişinizin durumu: {o.get('paket_durumu', o.get('durum'))}."
        if pk.get("kargo_firmasi"):
            s += f" {pk['kargo_firmasi']} ile gönderildi, takip numarası {pk.get('takip_no')}: {pk.get('takip_linki')}"
        lines.append(s)
    for num in re.findall(r"^- Sipariş (\S+): mağazada bu numarayla", user, re.M):
        lines.append(f"{num} numaralı bir sipariş bulamadık; numarayı kontrol edebilir misiniz?")
    for num in re.findall(r"^- Sipariş (\S+): bu sipariş, müşterinin", user, re.M):
        lines.append(f"{num} numaralı sipariş için lütfen siparişi verdiğiniz e-posta adresinden yazın.")
    for num in re.findall(r"^- Sipariş (\S+): bilgileri şu an alınamadı", user, re.M):
        lines.append(f"{num} numaralı siparişinizi kontrol ediyoruz, en kısa sürede dönüş yapacağız.")
    if "sipariş numarası bulunamadı" in user:
        lines.append("Size yardımcı olabilmemiz için sipariş numaranızı paylaşır mısınız?")
    lines += ["", "İyi günler dileriz."]
    return "\n".join(lines)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without this, Nagle holds the
    # body until the client's delayed ACK, 40 ms on every reused connection
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def send(self, status, obj=None, raw=None, headers=None):
        body = raw if raw is not None else json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with LOCK:
            if self.path == "/_admin/stats":
                return self.send(200, {"requests": STATE["requests"]})
            if self.path == "/_admin/last":
                return self.send(200, raw=STATE["last"])
        self.send(404, {"error": {"message": "not found"}})

    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.startswith("/_admin/"):
            arg = json.loads(data or b"{}")
            with LOCK:
                if self.path == "/_admin/fail":
                    STATE["faults"].extend([arg] * int(arg.get("count", 1)))
                elif self.path == "/_admin/reset":
                    STATE.update(faults=[], requests=0, last=b"null")
            return self.send(200, {"ok": True})
        if not self.path.endswith("/chat/completions"):
            return self.send(404, {"error": {"message": "not found"}})
        with LOCK:
            STATE["requests"] += 1
            n = STATE["requests"]
            STATE["last"] = data
            fault = STATE["faults"].pop(0) if STATE["faults"] else None
        if LOGDIR:
            with open(os.path.join(LOGDIR, f"{n:03d}.json"), "wb") as f:
                f.write(data)
        if fault:
            w = fault.get("what")
            if w == "429":
                return self.send(429, {"error": {"message": "Rate limit reached", "type": "requests"}},
                                 headers={"Retry-After": str(fault.get("retry_after", 1))})
            if w == "500":
                return self.send(500, {"error": {"message": "The server had an error"}})
            if w == "slow":
                time.sleep(float(fault.get("seconds", 5)))
            if w == "garbage":
                return self.send(200, raw=b"<html>upstream timed out</html>")
            if w == "400":
                return self.send(400, {"error": {"message": "This model's maximum context length is 8192 tokens"}})
            if w == "401":
                return self.send(401, {"error": {"message": "Incorrect API key provided"}})
        try:
            req = json.loads(data)
            assert isinstance(req["model"], str) and req["model"]
            roles = [m["role"] for m in req["messages"]]
            assert roles == ["system", "user"], roles
            assert all(isinstance(m["content"], str) and m["content"] for m in req["messages"])
            assert isinstance(req["temperature"], (int, float))
            assert isinstance(req["max_tokens"], int)
        except Exception as e:
            return self.send(400, {"error": {"message": f"bad request: {e!r}"}})
        text = draft(req)
        self.send(200, {
            "id": f"chatcmpl-{n}", "object": "chat.completion", "created": int(time.time()),
            "model": req["model"] + "-fake",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(data) // 4, "completion_tokens": len(text) // 4,
                      "total_tokens": len(data) // 4 + len(text) // 4},
        })


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass    # a client that gave up (a timeout test) is not news


Server(("127.0.0.1", PORT), Handler).serve_forever()
