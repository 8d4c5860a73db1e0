"""The HTTP protocol of our API processes: responses written whole, nothing lost or reordered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from pdz_shared import devinfra
from pdz_shared.serving import CoalescingTransport, HttpProtocol


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"length": len(body), "head": body[:20].decode()}, status_code=202)


async def stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(200):
            yield f"{i:05d}".encode() * 2_000  # 10 KB each, 2 MB in all
            await asyncio.sleep(0)

    return StreamingResponse(chunks(), media_type="text/plain")


APP = Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/stream", stream)])


@pytest.fixture
async def server() -> AsyncIterator[int]:
    port = devinfra.free_port()
    config = uvicorn.Config(APP, port=port, http=HttpProtocol, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    while not srv.started:
        await asyncio.sleep(0.01)
    yield port
    srv.should_exit = True
    await task


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.readexactly(int(headers["content-length"]))
    return int(lines[0].split()[1]), headers, body


async def test_keep_alive_requests_answered_in_order(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    bodies = [b"x" * n for n in (0, 10, 70_000, 5)]
    for body in bodies:  # pipelined: all sent before any answer is read
        writer.write(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
    answers = [await _read_response(reader) for _ in bodies]
    writer.close()
    assert [(status, json.loads(b)["length"]) for status, _, b in answers] == [
        (202, len(b)) for b in bodies
    ]


async def test_streamed_response_arrives_whole(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = await _read_response(reader)
    writer.close()
    assert status == 200
    assert body == b"".join(f"{i:05d}".encode() * 2_000 for i in range(200))


async def test_connection_close_sends_everything_first(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    )
    status, headers, body = await _read_response(reader)
    assert headers["connection"] == "close"
    assert (status, json.loads(body)["head"]) == (202, "ok")
    assert await reader.read() == b""  # then the server closed the connection
    writer.close()


class _Recording:
    """Stands for the socket transport: records each write it is given."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


async def test_writes_of_one_loop_turn_leave_as_one() -> None:
    real: Any = _Recording()
    t = CoalescingTransport(real, asyncio.get_running_loop())
    t.write(b"HTTP/1.1 202 Accepted\r\n\r\n")
    t.write(b'{"id": 1}')
    assert real.writes == [] and t.get_write_buffer_size() == 34
    await asyncio.sleep(0)
    assert real.writes == [b'HTTP/1.1 202 Accepted\r\n\r\n{"id": 1}']
    t.write(b"next")
    t.close()  # closing sends what is pending first
    assert real.writes[-1] == b"next" and real.closed
