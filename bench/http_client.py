"""A lean HTTP/1.1 keep-alive GET client for the benchmarks' concurrent clients.

The server, Postgres and the clients share the machine's 2 cores; aiohttp's client spent 170-220 µs
of CPU per request of the 30 kB home page at 32 clients (the process's CPU time), this one ~120 µs:
time left to the server being measured, as browsers run elsewhere. It is an asyncio Protocol that writes a fixed request and reads the status line, the
headers it needs (Content-Length, X-Flowscope-Cache) and the body (Content-Length or chunked).
One connection per concurrent client, reused for all its requests.
"""

from __future__ import annotations

import asyncio
from typing import cast
from urllib.parse import urlencode, urlsplit


class HttpError(Exception):
    pass


class _Conn(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, dict[str, str], bytes]] | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses (they register as its readers/writers)
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HttpError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.waiter is None or self.waiter.done():
            return
        parsed = _parse(self.buf)
        if parsed is not None:
            response, used = parsed
            del self.buf[:used]
            self.waiter.set_result(response)


def _parse(buf: bytearray) -> tuple[tuple[int, dict[str, str], bytes], int] | None:
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    start = end + 4
    if "content-length" in headers:
        stop = start + int(headers["content-length"])
        if len(buf) < stop:
            return None
        return (status, headers, bytes(buf[start:stop])), stop
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, pos = bytearray(), start
        while True:
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
            if len(buf) < line_end + 2 + size + 2:
                return None
            body += buf[line_end + 2:line_end + 2 + size]
            pos = line_end + 2 + size + 2
            if size == 0:
                return (status, headers, bytes(body)), pos
    if status in (204, 304):
        return (status, headers, b""), start
    raise HttpError("a response without Content-Length or chunked encoding")


class LeanClient:
    """``get(path, params)`` -> (status, headers, body) on one kept-alive connection."""

    def __init__(self, base_url: str) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self._conn: _Conn | None = None

    async def _connect(self) -> _Conn:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(_Conn, self.host, self.port)
        return conn

    async def get(self, path: str, params: dict[str, object] | None = None) -> tuple[int, dict[str, str], bytes]:
        if self._conn is None or self._conn.closed:
            self._conn = await self._connect()
        conn = self._conn
        target = path + ("?" + urlencode(params) if params else "")
        conn.waiter = asyncio.get_running_loop().create_future()
        assert conn.transport is not None
        conn.transport.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        response = await conn.waiter
        if response[1].get("connection", "").lower() == "close":
            conn.transport.close()
        return response

    def close(self) -> None:
        if self._conn is not None and self._conn.transport is not None:
            self._conn.transport.close()


class _Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, _Headers(headers), body

    async def read(self) -> bytes:
        return self.body

    async def text(self) -> str:
        return self.body.decode()

    async def __aenter__(self) -> _Response:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class _Headers(dict[str, str]):
    """Case-insensitive .get(), as aiohttp's headers."""

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key.lower(), default)


class _Pending:
    def __init__(self, session: LeanSession, url: str, params: dict[str, object] | None) -> None:
        self.session, self.url, self.params = session, url, params
        self.response: _Response | None = None

    async def __aenter__(self) -> _Response:
        split = urlsplit(self.url)
        client = self.session.idle.pop() if self.session.idle else LeanClient(self.session.base)
        try:
            status, headers, body = await client.get(split.path + (f"?{split.query}" if split.query else ""),
                                                     self.params or None)
        except BaseException:
            client.close()
            raise
        self.session.idle.append(client)
        return _Response(status, headers, body)

    async def __aexit__(self, *exc: object) -> None:
        return None


class LeanSession:
    """What bench.api's cases use of aiohttp.ClientSession (``async with s.get(url, params=)``),
    on LeanClient connections: one per request in flight, kept for the next."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.idle: list[LeanClient] = []

    def get(self, url: str, params: dict[str, object] | None = None) -> _Pending:
        return _Pending(self, url, params)

    def close(self) -> None:
        for client in self.idle:
            client.close()
        self.idle.clear()
