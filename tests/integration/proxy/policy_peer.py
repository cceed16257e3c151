#!/usr/bin/python3
"""HTTP/1.1 upstreams for the traffic-policy test.

policy_peer.py flaky ADDR PORT         answers 503 and 200 in turn, starting with 503
policy_peer.py toggle ADDR PORT FILE   answers 503 while FILE exists, else 200 "toggle"
policy_peer.py record ADDR PORT FILE   answers 200 and appends each request's Host to FILE
Every answer but the flaky 503 says which server gave it; /slow/<ms> waits first.
"""
import http.server
import os
import sys
import threading
import time

mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
path_arg = sys.argv[4] if len(sys.argv) > 4 else ""
lock = threading.Lock()
count = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        global count
        if self.path.startswith("/slow/"):
            time.sleep(int(self.path.split("/")[2]) / 1000)
        if mode == "flaky":
            with lock:
                count += 1
                n = count
            if n % 2 == 1:
                self.answer(503, "flaky failed\n")
            else:
                self.answer(200, "flaky ok\n")
        elif mode == "toggle":
            if os.path.exists(path_arg):
                self.answer(503, "toggle failing\n")
            else:
                self.answer(200, "toggle\n")
        else:
            with lock, open(path_arg, "a") as f:
                f.write(self.headers.get("host", "") + "\n")
            self.answer(200, "recorded\n")

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer((addr, port), Handler).serve_forever()
