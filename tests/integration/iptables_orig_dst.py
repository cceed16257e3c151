#!/usr/bin/env python3
"""Test peer for the capture tests.

  serve NAME PORT [PORT...]  accept TCP on every address of the ports; tell each client
                             "NAME ORIG=<addr>:<port>", the destination it originally dialled
                             (SO_ORIGINAL_DST), or its local address when it was not redirected
  dns NAME PORT              answer every UDP datagram with "NAME"
  tcp HOST PORT              connect, print what the server says
  udp HOST PORT              send one datagram, print the answer
"""
import select
import socket
import struct
import sys

SO_ORIGINAL_DST = 80  # linux/netfilter_ipv4.h; IP6T_SO_ORIGINAL_DST has the same value


def original_destination(conn):
    if conn.family == socket.AF_INET:
        try:
            raw = conn.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
            port, addr = struct.unpack("!2xH4s8x", raw)
            return "%s:%d" % (socket.inet_ntop(socket.AF_INET, addr), port)
        except OSError:
            host, port = conn.getsockname()[:2]
            return "%s:%d" % (host, port)
    try:
        raw = conn.getsockopt(socket.IPPROTO_IPV6, SO_ORIGINAL_DST, 28)
        port, addr = struct.unpack("!2xH4x16s4x", raw)
        return "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, addr), port)
    except OSError:
        host, port = conn.getsockname()[:2]
        return "[%s]:%d" % (host, port)


def serve(name, ports):
    listeners = []
    for port in ports:
        for family, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
            s.listen(64)
            listeners.append(s)
    print("READY", flush=True)
    while True:
        ready, _, _ = select.select(listeners, [], [])
        for s in ready:
            conn, _ = s.accept()
            with conn:
                try:
                    reply = "%s ORIG=%s\n" % (name, original_destination(conn))
                    conn.sendall(reply.encode())
                except OSError as e:
                    sys.stderr.write("%s\n" % e)


def dns(name, port):
    # Loopback, as the agent's DNS proxy: redirected queries arrive for 127.0.0.1 / ::1, and a
    # socket bound to the wildcard would answer from another source, which conntrack cannot
    # translate back to the resolver the client asked.
    socks = []
    for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        s = socket.socket(family, socket.SOCK_DGRAM)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        socks.append(s)
    print("READY", flush=True)
    while True:
        ready, _, _ = select.select(socks, [], [])
        for s in ready:
            _, peer = s.recvfrom(512)
            s.sendto(name.encode() + b"\n", peer)


def client(kind, host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if kind == "tcp":
        with socket.create_connection((host, port), timeout=5) as c:
            data = b""
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            sys.stdout.write(data.decode())
    else:
        with socket.socket(family, socket.SOCK_DGRAM) as c:
            c.settimeout(5)
            # Connected, so an ICMP port unreachable comes back as an error at once.
            c.connect((host, port))
            c.send(b"query")
            sys.stdout.write(c.recv(512).decode())


def main():
    mode = sys.argv[1]
    if mode == "serve":
        serve(sys.argv[2], [int(p) for p in sys.argv[3:]])
    elif mode == "dns":
        dns(sys.argv[2], int(sys.argv[3]))
    else:
        client(mode, sys.argv[2], int(sys.argv[3]))


if __name__ == "__main__":
    try:
        main()
    except (OSError, socket.timeout) as e:
        sys.stderr.write("%s\n" % e)
        sys.exit(1)
