"""Requests with an exact, unnormalised target (clients clean up '..' before sending)."""

from __future__ import annotations

import asyncio


async def raw_get(host: str, port: int, target: str, method: str = "GET") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
                 "Content-Length: 0\r\n\r\n".encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]
