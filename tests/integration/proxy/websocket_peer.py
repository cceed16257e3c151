#!/usr/bin/python3
"""A WebSocket echo server (`serve HOST PORT`) and a client (`call URL MESSAGE`) that prints
the echoed message; both from python3-websockets."""
import asyncio
import sys

import websockets


async def echo(ws):
    async for message in ws:
        await ws.send("echo: " + message)


async def serve(host, port):
    async with websockets.serve(echo, host, port):
        await asyncio.Future()


async def call(url, message):
    async with websockets.connect(url, open_timeout=5) as ws:
        await ws.send(message)
        print(await asyncio.wait_for(ws.recv(), 5))


if sys.argv[1] == "serve":
    asyncio.run(serve(sys.argv[2], int(sys.argv[3])))
else:
    asyncio.run(call(sys.argv[2], sys.argv[3]))
