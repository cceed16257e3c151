#!/usr/bin/env python3
"""A Kubernetes API server, small but faithful to the conventions the agent relies on: bearer
tokens, resourceVersion on every object and list, 409 Conflict for a write carrying a stale
resourceVersion, 409 AlreadyExists on create, lists and watches per namespace or across all
namespaces, watches from a resourceVersion with BOOKMARK events and timeoutSeconds, and 410 Gone
(an ERROR event, as the real server sends it in a stream) once the history a watch needs has
been compacted away.

Collections: the networking.istio.io/v1 and security.istio.io/v1 kinds, core v1 Services and
discovery.k8s.io/v1 EndpointSlices.

Test hooks (no auth):
  POST /fake/conflicts?n=N   the next N writes fail with 409
  POST /fake/compact         forgets all history and ends every open watch with 410
  POST /fake/fail?n=N&code=C the next N authorized GETs (lists and watches) answer HTTP C
  POST /fake/apply           body: an object (or {"items": [...]}) created or replaced as is
  POST /fake/remove?kind=K&namespace=NS&name=N
  GET  /fake/stats

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

# (api prefix, plural) -> kind
RESOURCES = {}
for plural, kind in [("serviceentries", "ServiceEntry"), ("workloadentries", "WorkloadEntry"),
                     ("workloadgroups", "WorkloadGroup"), ("virtualservices", "VirtualService"),
                     ("destinationrules", "DestinationRule"), ("sidecars", "Sidecar")]:
    RESOURCES[("apis/networking.istio.io/v1", plural)] = kind
for plural, kind in [("peerauthentications", "PeerAuthentication"),
                     ("authorizationpolicies", "AuthorizationPolicy"),
                     ("requestauthentications", "RequestAuthentication")]:
    RESOURCES[("apis/security.istio.io/v1", plural)] = kind
RESOURCES[("api/v1", "services")] = "Service"
RESOURCES[("apis/discovery.k8s.io/v1", "endpointslices")] = "EndpointSlice"
PLURAL_OF = {kind: plural for (_, plural), kind in RESOURCES.items()}
PREFIX_OF = {plural: prefix for (prefix, plural) in RESOURCES}

lock = threading.Condition()
objects = {}       # (plural, namespace, name) -> object
events = []        # (resourceVersion, type, plural, object)
state = {"rv": 100, "compacted": 0, "generation": 0, "conflicts": 0,
         "conflicts_sent": 0, "gone_sent": 0, "watches": 0, "lists": 0,
         "fail": 0, "fail_code": 500, "failures_sent": 0}


def bump():
    state["rv"] += 1
    return str(state["rv"])


def record(kind, plural, obj):
    events.append((int(obj["metadata"]["resourceVersion"]), kind, plural,
                   json.loads(json.dumps(obj))))
    lock.notify_all()


def status(code, reason, message):
    return code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                  "code": code, "reason": reason, "message": message}


def parse_path(path):
    """(plural, namespace or None, name or None, subresource or None), or None."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "v1"]:
        prefix, rest = "api/v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        prefix, rest = "/".join(parts[:3]), parts[3:]
    else:
        return None
    ns = None
    if len(rest) >= 2 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    if not rest or (prefix, rest[0]) not in RESOURCES:
        return None
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    return plural, ns, name, sub


def upsert(obj):
    """Creates or replaces an object as given; returns its stored form."""
    plural = PLURAL_OF[obj["kind"]]
    md = obj.setdefault("metadata", {})
    md.setdefault("namespace", "default")
    key = (plural, md["namespace"], md["name"])
    current = objects.get(key)
    md["uid"] = current["metadata"]["uid"] if current else str(uuid.uuid4())
    md["resourceVersion"] = bump()
    objects[key] = obj
    record("MODIFIED" if current else "ADDED", plural, obj)
    return obj


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

    def authorized(self):
        if self.headers.get("Authorization") == "Bearer " + TOKEN:
            return True
        self.reply(*status(401, "Unauthorized", "bad token"))
        return False

    def hooks(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        with lock:
            if url.path == "/fake/conflicts":
                state["conflicts"] = int(query["n"][0])
            elif url.path == "/fake/compact":
                events.clear()
                state["compacted"] = state["rv"]
                state["generation"] += 1
                lock.notify_all()
            elif url.path == "/fake/fail":
                state["fail"] = int(query["n"][0])
                state["fail_code"] = int(query.get("code", ["500"])[0])
            elif url.path == "/fake/apply":
                body = self.body()
                for obj in body.get("items", [body]):
                    upsert(obj)
            elif url.path == "/fake/remove":
                key = (PLURAL_OF[query["kind"][0]], query["namespace"][0], query["name"][0])
                obj = objects.pop(key, None)
                if obj is None:
                    return self.reply(*status(404, "NotFound", str(key)))
                obj["metadata"]["resourceVersion"] = bump()
                record("DELETED", key[0], obj)
            else:
                return self.reply(*status(404, "NotFound", url.path))
        return self.reply(200, state)

    def do_POST(self):
        if self.path.startswith("/fake/"):
            return self.hooks()
        if not self.authorized():
            return
        r = parse_path(urlparse(self.path).path)
        if r is None or r[1] is None or r[2] is not None:
            return self.reply(*status(404, "NotFound", self.path))
        plural, ns, _, _ = r
        obj = self.body()
        name = obj["metadata"]["name"]
        with lock:
            if (plural, ns, name) in objects:
                return self.reply(*status(409, "AlreadyExists",
                                          "%s \"%s\" already exists" % (plural, name)))
            obj["metadata"]["namespace"] = ns
            obj["metadata"]["uid"] = str(uuid.uuid4())
            obj["metadata"]["resourceVersion"] = bump()
            objects[(plural, ns, name)] = obj
            record("ADDED", plural, obj)
        self.reply(201, obj)

    def do_PUT(self):
        if not self.authorized():
            return
        r = parse_path(urlparse(self.path).path)
        if r is None or r[1] is None or r[2] is None:
            return self.reply(*status(404, "NotFound", self.path))
        plural, ns, name, sub = r
        obj = self.body()
        with lock:
            current = objects.get((plural, ns, name))
            if current is None:
                return self.reply(*status(404, "NotFound", name))
            if state["conflicts"] > 0:
                state["conflicts"] -= 1
                state["conflicts_sent"] += 1
                # Someone else wrote in between: the stored version moves on.
                current["metadata"]["resourceVersion"] = bump()
                record("MODIFIED", plural, current)
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
            objects[(plural, ns, name)] = updated
            record("MODIFIED", plural, updated)
        self.reply(200, updated)

    def do_DELETE(self):
        if not self.authorized():
            return
        r = parse_path(urlparse(self.path).path)
        with lock:
            obj = objects.pop((r[0], r[1], r[2]), None) if r else None
            if obj is None:
                return self.reply(*status(404, "NotFound", self.path))
            obj["metadata"]["resourceVersion"] = bump()
            record("DELETED", r[0], obj)
        self.reply(200, obj)

    def do_GET(self):
        if self.path.startswith("/fake/stats"):
            with lock:
                return self.reply(200, state)
        if not self.authorized():
            return
        with lock:
            if state["fail"] > 0:
                state["fail"] -= 1
                state["failures_sent"] += 1
                code = state["fail_code"]
                return self.reply(*status(code, "InternalError", "injected failure"))
        url = urlparse(self.path)
        r = parse_path(url.path)
        if r is None:
            return self.reply(*status(404, "NotFound", self.path))
        plural, ns, name, _ = r
        query = parse_qs(url.query)
        if name is not None:
            with lock:
                obj = objects.get((plural, ns, name))
            if obj is None:
                return self.reply(*status(404, "NotFound", name))
            return self.reply(200, obj)
        if query.get("watch") == ["1"]:
            return self.watch(plural, ns, int(query.get("resourceVersion", ["0"])[0] or 0),
                              query.get("allowWatchBookmarks") == ["true"],
                              int(query.get("timeoutSeconds", ["0"])[0]))
        with lock:
            state["lists"] += 1
            items = [o for (p, n, _), o in sorted(objects.items())
                     if p == plural and (ns is None or n == ns)]
            self.reply(200, {"kind": RESOURCES[(PREFIX_OF[plural], plural)] + "List",
                             "apiVersion": PREFIX_OF[plural].split("/", 1)[1],
                             "metadata": {"resourceVersion": str(state["rv"])}, "items": items})

    def chunk(self, obj):
        data = (json.dumps(obj) + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, plural, ns, since, bookmarks, timeout):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        kind = RESOURCES[(PREFIX_OF[plural], plural)]
        with lock:
            state["watches"] += 1
            generation = state["generation"]
            gone = since < state["compacted"]
        ends = time.time() + timeout if timeout > 0 else None
        try:
            if gone:
                with lock:
                    state["gone_sent"] += 1
                self.chunk({"type": "ERROR", "object": status(410, "Expired",
                            "too old resource version: %d (%d)" % (since, state["compacted"]))[1]})
                self.wfile.write(b"0\r\n\r\n")
                return
            last_bookmark = time.time()
            while ends is None or time.time() < ends:
                with lock:
                    lock.wait_for(lambda: state["generation"] != generation or
                                  any(rv > since for rv, _, _, _ in events), timeout=0.5)
                    if state["generation"] != generation:
                        state["gone_sent"] += 1
                        pending = [(0, "ERROR", status(410, "Expired", "history compacted")[1])]
                    else:
                        pending = [(rv, t, o) for rv, t, p, o in events if rv > since and
                                   p == plural and (ns is None or
                                                    o["metadata"].get("namespace") == ns)]
                        if events:
                            since = max(since, events[-1][0])
                    current = state["rv"]
                for _, t, obj in pending:
                    self.chunk({"type": t, "object": obj})
                    if t == "ERROR":
                        self.wfile.write(b"0\r\n\r\n")
                        return
                if bookmarks and time.time() - last_bookmark > 1:
                    self.chunk({"type": "BOOKMARK", "object": {
                        "kind": kind, "apiVersion": PREFIX_OF[plural].split("/", 1)[1],
                        "metadata": {"resourceVersion": str(current)}}})
                    last_bookmark = time.time()
            self.wfile.write(b"0\r\n\r\n")
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
