#!/usr/bin/env python3
"""Holds N HTTP/2 cleartext (prior knowledge) connections open, each after one finished request.

usage: hold_h2.py HOST PORT COUNT

Every connection sends the preface, an empty SETTINGS, acknowledges the server's SETTINGS and
completes one GET / so the proxy has set up everything a used connection keeps. Prints
"held COUNT" once all are open, then sleeps until killed; the proxy's RSS is read meanwhile.
"""
import signal
import socket
import struct
import sys

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS, HEADERS, DATA, GOAWAY = 0x4, 0x1, 0x0, 0x7
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def request_block(authority):
    # HPACK static table: 2 = :method GET, 6 = :scheme http, 4 = :path /;
    # :authority as a literal with incremental indexing on name index 1.
    value = authority.encode()
    return bytes([0x82, 0x86, 0x84, 0x41, len(value)]) + value


def read_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        out += chunk
    return out


def open_used_connection(host, port):
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(PREFACE + frame(SETTINGS, 0, 0) +
                 frame(HEADERS, END_STREAM | END_HEADERS, 1, request_block(f"{host}:{port}")))
    while True:
        head = read_exact(sock, 9)
        length = int.from_bytes(head[:3], "big")
        kind, flags = head[3], head[4]
        stream = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
        payload = read_exact(sock, length)
        if kind == SETTINGS and not flags & ACK:
            sock.sendall(frame(SETTINGS, ACK, 0))
        elif kind == GOAWAY:
            raise ConnectionError("GOAWAY received: " + payload.hex())
        elif kind == DATA and stream == 1 and length:
            # Return the flow-control credit so the connection ends in its normal idle state.
            increment = struct.pack(">I", length)
            sock.sendall(frame(0x8, 0, 0, increment))
        if stream == 1 and kind in (HEADERS, DATA) and flags & END_STREAM:
            return sock


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    held = [open_used_connection(host, port) for _ in range(count)]
    print(f"held {len(held)}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
