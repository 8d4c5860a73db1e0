"""How our API processes speak HTTP: uvicorn's httptools protocol, writing each response once.

uvicorn writes a response's status line and headers as soon as the app sends them, then the
body in a second write: two ``send`` system calls, two TCP segments and two wake-ups of the
client for every small JSON answer. On virtual machines a loopback ``send`` costs tens of
microseconds, and those writes were a third of the discharge intake's CPU. Here the writes
made in one turn of the event loop leave together, at the end of that turn: the same bytes,
in the same order, one ``send``. Used with ``uvicorn --http pdz_shared.serving:HttpProtocol``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingTransport:
    """A transport whose writes of one loop turn are joined into one write of the real one.
    Everything else is the real transport's; closing or aborting sends what is pending first
    (abort: drops it, as the real abort drops its own buffer)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
