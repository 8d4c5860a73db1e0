"""Every service refuses oversized bodies (413) and NUL characters (422) before its endpoints."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, Request

from pdz_shared.app import ServiceSpec, create_app
from pdz_shared.settings import CommonSettings, ServiceSettings


@pytest.fixture
def client() -> httpx.AsyncClient:
    router = APIRouter()

    @router.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @router.get("/echo")
    async def query(q: str = "") -> dict[str, str]:
        return {"q": q}

    app = create_app(
        ServiceSpec(
            name="guard-test",
            title="t",
            summary="t",
            description="t",
            settings=ServiceSettings(),
            routers=[router],
            max_body_bytes=1000,
        ),
        CommonSettings(env="test"),
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


JSON = {"Content-Type": "application/json"}


async def test_oversized_bodies_are_refused_unread(client: httpx.AsyncClient) -> None:
    r = await client.post("/echo", content=b"x" * 1001, headers=JSON)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"

    async def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: counted as it comes
        for _ in range(5):
            yield b"y" * 300

    r = await client.post("/echo", content=chunks(), headers=JSON)
    assert r.status_code == 413
    assert (await client.post("/echo", content=b"z" * 1000, headers=JSON)).json() == {"bytes": 1000}


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "Rossi\\u0000"}',
        b'{"name": "\\\\\\u0000"}',  # an escaped backslash, then the NUL escape
        b'{"name": "Ros\x00si"}',
    ],
)
async def test_nul_in_json_is_refused(client: httpx.AsyncClient, body: bytes) -> None:
    r = await client.post("/echo", content=body, headers=JSON)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "nul-character" and "NUL" in r.json()["detail"]
    en = await client.post("/echo", content=body, headers={**JSON, "Accept-Language": "en"})
    assert en.json()["detail"] == (
        "The request contains the NUL character (U+0000), which is not allowed"
    )


async def test_what_only_looks_like_nul_passes(client: httpx.AsyncClient) -> None:
    text = b'{"path": "C:\\\\u0000\\\\dati"}'  # the text \u0000 (backslash escaped), no NUL
    assert (await client.post("/echo", content=text, headers=JSON)).status_code == 200
    binary = {"Content-Type": "application/octet-stream"}  # files may hold any byte
    assert (await client.post("/echo", content=b"PK\x03\x04\x00\x00", headers=binary)).json() == {
        "bytes": 6
    }


async def test_nul_in_query_or_path_is_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get("/echo", params={"q": "a\x00b"})).status_code == 422
    assert (await client.get("/echo%00")).status_code == 422
    assert (await client.get("/echo", params={"q": "Sale Marasino"})).json() == {
        "q": "Sale Marasino"
    }
