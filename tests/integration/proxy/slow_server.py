#!/usr/bin/python3
"""An HTTP/1.1 upstream whose /slow/<ms> answers after that many milliseconds."""
import http.server
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        delay_ms = 0
        if self.path.startswith("/slow/"):
            delay_ms = int(self.path.split("/")[2])
        time.sleep(delay_ms / 1000)
        body = f"slept {delay_ms}\n".encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
