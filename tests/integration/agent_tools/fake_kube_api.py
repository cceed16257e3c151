#!/usr/bin/env python3
"""A Kubernetes API server for WorkloadEntries, small but faithful to the conventions the
agent relies on: bearer tokens, resourceVersion on every object and list, 409 Conflict for a
write carrying a stale resourceVersion, 409 AlreadyExists on create, watches from a
resourceVersion with BOOKMARK events, and 410 Gone (an ERROR event, as the real server sends
it in a stream) once the history a watch needs has been compacted away.

Test hooks (no auth): POST /fake/conflicts?n=N makes the next N writes fail with 409;
POST /fake/compact forgets all history and ends every open watch with 410; GET /fake/stats.

usage: fake_kube_api.py PORT CERT KEY TOKEN
"""
import json
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PREFIX = "/apis/networking.istio.io/v1/namespaces/"
lock = threading.Condition()
objects = {}       # (namespace, name) -> object
events = []        # (resourceVersion, type, object)
state = {"rv": 100, "compacted": 0, "generation": 0, "conflicts": 0,
         "conflicts_sent": 0, "gone_sent": 0, "watches": 0}


def bump():
    state["rv"] += 1
    return str(state["rv"])


def record(kind, obj):
    events.append((int(obj["metadata"]["resourceVersion"]), kind, json.loads(json.dumps(obj))))
    lock.notify_all()


def status(code, reason, message):
    return code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                  "code": code, "reason": reason, "message": message}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake-kube: " + (fmt % args) + "\n")

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def route(self):
        url = urlparse(self.path)
        if not url.path.startswith(PREFIX):
            return None
        parts = url.path[len(PREFIX):].split("/")
        if len(parts) < 2 or parts[1] != "workloadentries":
            return None
        ns = parts[0]
        name = parts[2] if len(parts) > 2 else None
        sub = parts[3] if len(parts) > 3 else None
        return ns, name, sub, parse_qs(url.query)

    def authorized(self):
        if self.headers.get("Authorization") == "Bearer " + TOKEN:
            return True
        self.reply(*status(401, "Unauthorized", "bad token"))
        return False

    def do_POST(self):
        if self.path.startswith("/fake/"):
            url = urlparse(self.path)
            with lock:
                if url.path == "/fake/conflicts":
                    state["conflicts"] = int(parse_qs(url.query)["n"][0])
                elif url.path == "/fake/compact":
                    events.clear()
                    state["compacted"] = state["rv"]
                    state["generation"] += 1
                    lock.notify_all()
            return self.reply(200, state)
        if not self.authorized():
            return
        r = self.route()
        if r is None or r[1] is not None:
            return self.reply(*status(404, "NotFound", self.path))
        ns, _, _, _ = r
        obj = self.body()
        name = obj["metadata"]["name"]
        with lock:
            if (ns, name) in objects:
                return self.reply(*status(409, "AlreadyExists", "workloadentries \"%s\" already exists" % name))
            obj["metadata"]["namespace"] = ns
            obj["metadata"]["uid"] = str(uuid.uuid4())
            obj["metadata"]["resourceVersion"] = bump()
            objects[(ns, name)] = obj
            record("ADDED", obj)
        self.reply(201, obj)

    def do_PUT(self):
        if not self.authorized():
            return
        r = self.route()
        if r is None or r[1] is None:
            return self.reply(*status(404, "NotFound", self.path))
        ns, name, sub, _ = r
        obj = self.body()
        with lock:
            current = objects.get((ns, name))
            if current is None:
                return self.reply(*status(404, "NotFound", name))
            if state["conflicts"] > 0:
                state["conflicts"] -= 1
                state["conflicts_sent"] += 1
                # Someone else wrote in between: the stored version moves on.
                current["metadata"]["resourceVersion"] = bump()
                record("MODIFIED", current)
            if obj["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                return self.reply(*status(409, "Conflict", "the object has been modified; "
                                          "please apply your changes to the latest version"))
            if sub == "status":
                updated = dict(current)
                updated["status"] = obj.get("status", {})
            else:
                updated = obj
                if "status" in current:
                    updated["status"] = current["status"]
                else:
                    updated.pop("status", None)
            updated["metadata"]["uid"] = current["metadata"]["uid"]
            updated["metadata"]["resourceVersion"] = bump()
            objects[(ns, name)] = updated
            record("MODIFIED", updated)
        self.reply(200, updated)

    def do_DELETE(self):
        if not self.authorized():
            return
        r = self.route()
        with lock:
            obj = objects.pop((r[0], r[1]), None) if r else None
            if obj is None:
                return self.reply(*status(404, "NotFound", self.path))
            obj["metadata"]["resourceVersion"] = bump()
            record("DELETED", obj)
        self.reply(200, obj)

    def do_GET(self):
        if self.path.startswith("/fake/stats"):
            with lock:
                return self.reply(200, state)
        if not self.authorized():
            return
        r = self.route()
        if r is None:
            return self.reply(*status(404, "NotFound", self.path))
        ns, name, _, query = r
        if name is not None:
            with lock:
                obj = objects.get((ns, name))
            if obj is None:
                return self.reply(*status(404, "NotFound", name))
            return self.reply(200, obj)
        if query.get("watch") == ["1"]:
            return self.watch(ns, int(query.get("resourceVersion", ["0"])[0] or 0),
                              query.get("allowWatchBookmarks") == ["true"])
        with lock:
            items = [o for (n, _), o in sorted(objects.items()) if n == ns]
            self.reply(200, {"kind": "WorkloadEntryList", "apiVersion": "networking.istio.io/v1",
                             "metadata": {"resourceVersion": str(state["rv"])}, "items": items})

    def chunk(self, obj):
        data = (json.dumps(obj) + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, ns, since, bookmarks):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with lock:
            state["watches"] += 1
            generation = state["generation"]
            gone = since < state["compacted"]
        try:
            if gone:
                with lock:
                    state["gone_sent"] += 1
                self.chunk({"type": "ERROR", "object": status(410, "Expired",
                            "too old resource version: %d (%d)" % (since, state["compacted"]))[1]})
                self.wfile.write(b"0\r\n\r\n")
                return
            last_bookmark = time.time()
            while True:
                with lock:
                    lock.wait_for(lambda: state["generation"] != generation or
                                  any(rv > since for rv, _, _ in events), timeout=0.5)
                    if state["generation"] != generation:
                        state["gone_sent"] += 1
                        pending = [(0, "ERROR", status(410, "Expired", "history compacted")[1])]
                    else:
                        pending = [e for e in events if e[0] > since and
                                   e[2]["metadata"].get("namespace") == ns]
                        if pending:
                            since = pending[-1][0]
                        elif events:
                            since = max(since, events[-1][0])
                    current = state["rv"]
                for _, kind, obj in pending:
                    self.chunk({"type": kind, "object": obj})
                    if kind == "ERROR":
                        self.wfile.write(b"0\r\n\r\n")
                        return
                if bookmarks and time.time() - last_bookmark > 1:
                    self.chunk({"type": "BOOKMARK", "object": {
                        "kind": "WorkloadEntry", "apiVersion": "networking.istio.io/v1",
                        "metadata": {"resourceVersion": str(current)}}})
                    last_bookmark = time.time()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            return


if __name__ == "__main__":
    port, cert, key, TOKEN = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("serving", flush=True)
    server.serve_forever()
