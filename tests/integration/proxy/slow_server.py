#!/usr/bin/python3
"""An HTTP/1.1 upstream whose /slow/<ms> answers after that many milliseconds, and whose
/slow/drip/<ms> sends its body a line every 100 ms for that long."""
import http.server
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.startswith("/slow/drip/"):
            self.drip(int(self.path.split("/")[3]))
            return
        delay_ms = 0
        if self.path.startswith("/slow/"):
            delay_ms = int(self.path.split("/")[2])
        time.sleep(delay_ms / 1000)
        body = f"slept {delay_ms}\n".encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def drip(self, total_ms):
        lines = max(1, total_ms // 100)
        self.send_response(200)
        self.send_header("content-length", str(8 * lines))
        self.end_headers()
        try:
            for i in range(lines):
                self.wfile.write(f"{i:07d}\n".encode())
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass  # the proxy reset the request

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
